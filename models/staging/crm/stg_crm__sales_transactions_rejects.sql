-- Rejected transaction lines with their raw values and a machine-readable reason.
with

lines as (
    select * from {{ ref('base_crm__sales_transactions') }}
),

final as (
    select
        source_file,
        source_row_number,
        reject_reason,
        invoice_id,
        customer_id,
        invoice_date_raw,
        product_id,
        quantity_raw,
        revenue_raw,
        store_id,
        revenue as parsed_revenue
    from lines
    where reject_reason is not null
)

select * from final
