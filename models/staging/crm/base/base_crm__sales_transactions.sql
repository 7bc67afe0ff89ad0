-- Every raw transaction line with its reject reason (null = clean): the parsing gates of
-- base_crm__sales_transaction_lines, then the checks against the clean rows of the masters
-- (unknown_customer_id, unknown_product_id). A view, so that a change of the masters applies to
-- every line at the next run without parsing the files again.
with

lines as (
    select * from {{ ref('base_crm__sales_transaction_lines') }}
),

customers as (
    select customer_id from {{ ref('base_crm__customers') }}
    where reject_reason is null
),

products as (
    select product_id from {{ ref('base_crm__products') }}
    where reject_reason is null
),

checked as (
    select
        lines.source_file,
        lines.source_row_number,
        lines.invoice_id,
        lines.customer_id,
        lines.invoice_date_raw,
        lines.product_id,
        lines.quantity_raw,
        lines.revenue_raw,
        lines.store_id,
        lines.invoice_date,
        lines.quantity,
        lines.revenue,
        coalesce(
            lines.parse_reject_reason,
            case
                when customers.customer_id is null then 'unknown_customer_id'
                when products.product_id is null then 'unknown_product_id'
            end
        ) as reject_reason,
        lines.is_exact_duplicate,
        lines.line_hash
    from lines
    left join customers
        on lines.customer_id = customers.customer_id
    left join products
        on lines.product_id = products.product_id
)

select * from checked
