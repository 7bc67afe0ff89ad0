{{ config(materialized='table') }}
-- Every raw transaction line, typed, with its reject reason (null = clean) and flags.
-- A table (not a view) so the CSV files are parsed once per build, not once per reader.
with

source as (
    select * from {{ source('crm', 'sales_transactions') }}
),

customers as (
    select customer_id from {{ ref('base_crm__customers') }}
    where reject_reason is null
),

products as (
    select product_id from {{ ref('base_crm__products') }}
    where reject_reason is null
),

numbered as (
    select
        source.*,
        row_number() over () as load_row_id
    from source
),

file_offsets as (
    select
        filename,
        min(load_row_id) - 1 as row_offset
    from numbered
    group by filename
),

trimmed as (
    select
        {{ crm_file_basename('numbered.filename') }} as source_file,
        numbered.load_row_id - file_offsets.row_offset as source_row_number,
        nullif(trim(numbered.invoice_id), '') as invoice_id,
        nullif(trim(numbered.customer_id), '') as customer_id,
        nullif(trim(numbered.invoice_date), '') as invoice_date_raw,
        nullif(trim(numbered.product_id), '') as product_id,
        nullif(trim(numbered.quantity), '') as quantity_raw,
        nullif(trim(numbered.revenue), '') as revenue_raw,
        nullif(trim(numbered.store_id), '') as store_id
    from numbered
    inner join file_offsets
        on numbered.filename = file_offsets.filename
),

typed as (
    select
        *,
        {{ crm_parse_iso_date('invoice_date_raw') }} as invoice_date,
        {{ crm_parse_decimal('quantity_raw') }} as quantity,
        {{ crm_parse_decimal('revenue_raw') }} as revenue
    from trimmed
),

checked as (
    select
        typed.*,
        case
            when typed.invoice_id is null then 'missing_invoice_id'
            when typed.customer_id is null then 'missing_customer_id'
            when not {{ crm_regexp_full_match('typed.customer_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_customer_id'
            when typed.product_id is null then 'missing_product_id'
            when not {{ crm_regexp_full_match('typed.product_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_product_id'
            when typed.invoice_date_raw is null then 'missing_invoice_date'
            when typed.invoice_date is null then 'invalid_invoice_date'
            when typed.invoice_date < cast('{{ var("crm_min_valid_date") }}' as date)
                or typed.invoice_date > current_date then 'invoice_date_out_of_range'
            when typed.quantity is null then 'invalid_quantity'
            when typed.revenue is null then 'invalid_revenue'
            when customers.customer_id is null then 'unknown_customer_id'
            when products.product_id is null then 'unknown_product_id'
        end as reject_reason
    from typed
    left join customers
        on typed.customer_id = customers.customer_id
    left join products
        on typed.product_id = products.product_id
),

duplicate_keys as (
    select
        invoice_id,
        customer_id,
        invoice_date_raw,
        product_id,
        quantity_raw,
        revenue_raw,
        store_id
    from checked
    group by invoice_id, customer_id, invoice_date_raw, product_id, quantity_raw, revenue_raw, store_id
    having count(*) > 1
),

later_copies as (
    -- ranking only the (few) lines that have an identical twin, not every line
    select
        checked.source_file,
        checked.source_row_number,
        row_number() over (
            partition by
                checked.invoice_id, checked.customer_id, checked.invoice_date_raw, checked.product_id,
                checked.quantity_raw, checked.revenue_raw, checked.store_id
            order by checked.source_file, checked.source_row_number
        ) > 1 as is_later_copy
    from checked
    inner join duplicate_keys
        on
            checked.invoice_id is not distinct from duplicate_keys.invoice_id
            and checked.customer_id is not distinct from duplicate_keys.customer_id
            and checked.invoice_date_raw is not distinct from duplicate_keys.invoice_date_raw
            and checked.product_id is not distinct from duplicate_keys.product_id
            and checked.quantity_raw is not distinct from duplicate_keys.quantity_raw
            and checked.revenue_raw is not distinct from duplicate_keys.revenue_raw
            and checked.store_id is not distinct from duplicate_keys.store_id
),

flagged as (
    select
        checked.*,
        coalesce(later_copies.is_later_copy, false) as is_exact_duplicate
    from checked
    left join later_copies
        on
            checked.source_file = later_copies.source_file
            and checked.source_row_number = later_copies.source_row_number
)

select * from flagged
