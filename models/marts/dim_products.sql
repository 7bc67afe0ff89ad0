-- Products (clean products_master rows) with their CRM role.
with

products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(product_name as {{ dbt.type_string() }}) as product_name,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(crm_role as {{ dbt.type_string() }}) as crm_role,
        cast(unit_size as decimal(18, 4)) as unit_size
    from products
)

select * from final
