{{ config(materialized='table') }}
-- The inputs of this run, for the incremental models (docs/incremental.md): one row per input that
-- can change months of the warehouse, with a digest of its content and the first month it can
-- affect (month_index; null = every month). int_build_changes compares them with the digests of the
-- last completed build (int_build_completed).
--   sales_lines:  transaction lines per file and invoice month, clean or rejected with their reason
--                 (a line that changes, moves, appears, disappears or flips between clean and
--                 rejected changes its month; lines without a valid date share month -1)
--   customers:    each clean customer's scope and existence month, bucketed by the first month the
--                 customer can affect (existence month or first line, whichever is earlier)
--   products:     each clean product's role, unit size, category and brand, bucketed by its first sale
--   settings:     every seed and every crm_ var the project reads (macro crm_rule_settings, derived
--                 from the project: a new seed or var is digested without a change here; every month)
--   month_completeness: each incomplete month (int_report_months: month to date) and the date its
--                 data reaches; a month that becomes complete (a line of a later month arrived, or
--                 crm_data_as_of) loses its row, which recomputes it from that month on
with

lines as (
    select * from {{ ref('base_crm__sales_transactions') }}
),

parsed_lines as (
    select * from {{ ref('base_crm__sales_transaction_lines') }}
    where parse_reject_reason is null
),

customers as (
    select * from {{ ref('int_customers__scoped') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

report_months as (
    select * from {{ ref('int_report_months') }}
),

line_digests as (
    select
        'sales_lines' as input_name,
        source_file as input_key,
        coalesce({{ crm_month_index('invoice_date') }}, -1) as month_index,
        count(*) as row_count,
        sum(hash(line_hash, reject_reason)) as digest
    from lines
    group by source_file, coalesce({{ crm_month_index('invoice_date') }}, -1)
),

customer_digests as (
    select
        'customers' as input_name,
        'customers_master.csv' as input_key,
        coalesce(least(exists_from_month_index, first_line_month_index), -1) as month_index,
        count(*) as row_count,
        sum(hash(customer_id, is_crm_in_scope, exists_from_month_index, created_month_index)) as digest
    from customers
    group by coalesce(least(exists_from_month_index, first_line_month_index), -1)
),

product_first_sales as (
    select
        product_id,
        min(invoice_date) as first_sale_date
    from parsed_lines
    group by product_id
),

product_digests as (
    select
        'products' as input_name,
        'products_master.csv' as input_key,
        coalesce({{ crm_month_index('product_first_sales.first_sale_date') }}, -1) as month_index,
        count(*) as row_count,
        sum(hash(
            products.product_id, products.crm_role, products.unit_size, products.category, products.brand
        )) as digest
    from products
    left join product_first_sales
        on products.product_id = product_first_sales.product_id
    group by coalesce({{ crm_month_index('product_first_sales.first_sale_date') }}, -1)
),

completeness_digests as (
    select
        'month_completeness' as input_name,
        'data as of' as input_key,
        report_month_index as month_index,
        cast(1 as bigint) as row_count,
        hash(data_as_of_date) as digest
    from report_months
    where not is_month_complete
),

settings_digest as (
    select
        'settings' as input_name,
        'seeds and vars' as input_key,
        cast(null as bigint) as month_index,
        cast(1 as bigint) as row_count,
        '{{ crm_rule_settings_fingerprint() }}' as digest
),

current_digests as (
    {%- for digests in ['line_digests', 'customer_digests', 'product_digests', 'completeness_digests',
        'settings_digest'] %}
    select
        input_name,
        input_key,
        month_index,
        row_count,
        cast(digest as {{ dbt.type_string() }}) as digest
    from {{ digests }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(input_name as {{ dbt.type_string() }}) as input_name,
        cast(input_key as {{ dbt.type_string() }}) as input_key,
        cast(month_index as integer) as month_index,
        cast(row_count as bigint) as row_count,
        cast(digest as {{ dbt.type_string() }}) as digest
    from current_digests
)

select * from final
