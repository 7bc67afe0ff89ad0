-- Rejected products_master rows with their raw values and a machine-readable reason.
with

products as (
    select * from {{ ref('base_crm__products') }}
),

final as (
    select
        source_file,
        source_row_number,
        reject_reason,
        product_id,
        product_name,
        brand,
        category,
        unit_size_raw
    from products
    where reject_reason is not null
)

select * from final
