{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='invoice_date') }}
-- Sales lines (line grain): every clean transaction line, anonymous customers included, with net
-- revenue (returns negative), quantity, CRM units and the return flag. Joins dim_customers,
-- dim_products and dim_dates on their keys.
-- Incremental (macros/crm_incremental.sql): a run rewrites the lines dated from the first month
-- whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

lines as (
    select * from {{ ref('int_sales_lines__enriched') }}
    where {{ crm_recompute_date_filter('invoice_date', changes) }}
),

final as (
    select
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_row_number as bigint) as source_row_number,
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(invoice_date as date) as invoice_date,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(revenue as decimal(18, 4)) as revenue,
        cast(units as decimal(18, 4)) as units,
        cast(is_return as boolean) as is_return,
        cast(is_exact_duplicate as boolean) as is_exact_duplicate,
        cast(is_crm_in_scope as boolean) as is_crm_in_scope,
        -- deprecated name of is_crm_in_scope (the name of dim_customers): kept for existing reports
        cast(is_crm_in_scope as boolean) as is_crm_customer
    from lines
)

select * from final
