-- Clean products with their CRM role: one row per product_id (the first row of a duplicated key wins).
with

products as (
    select * from {{ ref('base_crm__products') }}
),

final as (
    select
        product_id,
        product_name,
        brand,
        category,
        crm_role,
        unit_size,
        dq_flags,
        source_file,
        source_row_number
    from products
    where reject_reason is null
)

select * from final
