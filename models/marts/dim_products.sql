-- Products (clean products_master rows) with their CRM role.
with

products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        cast(product_id as varchar) as product_id,
        cast(product_name as varchar) as product_name,
        cast(brand as varchar) as brand,
        cast(category as varchar) as category,
        cast(crm_role as varchar) as crm_role,
        cast(unit_size as decimal(18, 4)) as unit_size
    from products
)

select * from final
