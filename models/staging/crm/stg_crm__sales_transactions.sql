-- Clean transaction lines: every raw line that passed the quality gates (reject_reason is null).
with

lines as (
    select * from {{ ref('base_crm__sales_transactions') }}
),

final as (
    select
        source_file,
        source_row_number,
        invoice_id,
        customer_id,
        invoice_date,
        product_id,
        quantity,
        revenue,
        store_id,
        is_exact_duplicate
    from lines
    where reject_reason is null
)

select * from final
