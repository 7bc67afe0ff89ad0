-- Page 1, the KPI board: one row per report month with sales (net revenue, all customers
-- including anonymous walk-ins), orders (distinct invoices), buying customers, Active / New / Lost /
-- Reactivated customers (CRM snapshot), average order value and sales per customer, each with its
-- month-on-month and year-on-year change (ratio - 1; null when the earlier value is missing or 0).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ crm_incremental_pre_hook(date_column='report_month') }}"],
        post_hook=["{{ crm_incremental_post_hook() }}"]
    )
}}
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set measures = ['sales', 'orders', 'buying_customers', 'active_customers', 'new_customers',
    'lost_customers', 'reactivated_customers', 'average_order_value', 'sales_per_customer'] %}
{%- set changes = crm_changes() %}
with

sales as (
    -- 12 months before the first month rewritten too: the year-on-year changes compare with them
    select * from {{ ref('fct_sales') }}
    where {{ crm_recompute_date_filter('invoice_date', changes, lookback_months=12) }}
),

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes, lookback_months=12) }}
),

report_months as (
    select * from {{ ref('int_report_months') }}
    where is_report_month and {{ crm_recompute_filter('report_month_index', changes, lookback_months=12) }}
),

sales_with_month as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as report_month
    from sales
),

monthly_sales as (
    select
        report_month,
        sum(revenue) as sales,
        count(distinct invoice_id) as orders,
        count(distinct case when quantity > 0 then customer_id end) as buying_customers
    from sales_with_month
    group by report_month
),

monthly_crm as (
    select
        report_month,
        sum(case when activity_status = 'Active' then 1 else 0 end) as active_customers,
        sum(case when lifecycle_event = 'New' then 1 else 0 end) as new_customers,
        sum(case when lifecycle_event = 'Lost' then 1 else 0 end) as lost_customers,
        sum(case when lifecycle_event = 'Reactivated' then 1 else 0 end) as reactivated_customers,
        count(*) as crm_customers
    from snapshot
    group by report_month
),

board as (
    select
        report_months.report_month,
        report_months.report_month_index,
        report_months.is_history_complete,
        coalesce(monthly_sales.sales, 0) as sales,
        coalesce(monthly_sales.orders, 0) as orders,
        coalesce(monthly_sales.buying_customers, 0) as buying_customers,
        coalesce(monthly_crm.crm_customers, 0) as crm_customers,
        coalesce(monthly_crm.active_customers, 0) as active_customers,
        coalesce(monthly_crm.new_customers, 0) as new_customers,
        coalesce(monthly_crm.lost_customers, 0) as lost_customers,
        coalesce(monthly_crm.reactivated_customers, 0) as reactivated_customers,
        {{ crm_ratio('monthly_sales.sales', 'nullif(monthly_sales.orders, 0)') }} as average_order_value,
        {{ crm_ratio('monthly_sales.sales', 'nullif(monthly_sales.buying_customers, 0)') }} as sales_per_customer
    from report_months
    left join monthly_sales
        on report_months.report_month = monthly_sales.report_month
    left join monthly_crm
        on report_months.report_month = monthly_crm.report_month
),

compared as (
    -- noqa: disable=LT02
    select
        current_month.*,
        {%- for measure in measures %}
        previous_month.{{ measure }} as {{ measure }}_previous_month,
        previous_year.{{ measure }} as {{ measure }}_previous_year{{ ',' if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from board as current_month
    left join board as previous_month
        on current_month.report_month_index - 1 = previous_month.report_month_index
    left join board as previous_year
        on current_month.report_month_index - 12 = previous_year.report_month_index
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(sales as decimal(18, 4)) as sales,
        cast(orders as bigint) as orders,
        cast(buying_customers as bigint) as buying_customers,
        cast(crm_customers as bigint) as crm_customers,
        cast(active_customers as bigint) as active_customers,
        cast(new_customers as bigint) as new_customers,
        cast(lost_customers as bigint) as lost_customers,
        cast(reactivated_customers as bigint) as reactivated_customers,
        cast(average_order_value as decimal(18, 4)) as average_order_value,
        -- noqa: disable=LT02
        cast(sales_per_customer as decimal(18, 4)) as sales_per_customer,
        is_history_complete,
        {%- for measure in measures %}
        cast(
            {{ crm_ratio(measure, 'nullif(' ~ measure ~ '_previous_month, 0)') }} - 1 as double
        ) as {{ measure }}_mom_change,
        cast(
            {{ crm_ratio(measure, 'nullif(' ~ measure ~ '_previous_year, 0)') }} - 1 as double
        ) as {{ measure }}_yoy_change{{ ',' if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from compared
    where {{ crm_recompute_filter('report_month_index', changes) }}
)

select * from final
