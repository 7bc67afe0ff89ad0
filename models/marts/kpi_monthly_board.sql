{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Page 1, the KPI board: one row per report month with sales (net revenue, all customers
-- including anonymous walk-ins), orders (distinct invoices), buying customers, Active / New / Lost /
-- Reactivated customers (CRM snapshot), average order value and sales per customer, each with its
-- month-on-month and year-on-year change (ratio - 1; null when the earlier value is missing or 0).
-- The measures are defined once in macros/crm_kpi_board.sql (shared with kpi_monthly_board_by_segment).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
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
        {{ crm_board_sales_aggregates() }}
    from sales_with_month
    group by report_month
),

monthly_crm as (
    select
        report_month,
        {{ crm_board_crm_aggregates() }}
    from snapshot
    group by report_month
),

board as (
    select
        report_months.report_month,
        report_months.report_month_index,
        report_months.is_history_complete,
        report_months.is_month_complete,
        report_months.data_as_of_date,
        {{ crm_board_measure_columns('monthly_sales', 'monthly_crm') }}
    from report_months
    left join monthly_sales
        on report_months.report_month = monthly_sales.report_month
    left join monthly_crm
        on report_months.report_month = monthly_crm.report_month
),

compared as (
    select
        current_month.*,
        {{ crm_board_previous_columns() }}
    from board as current_month
    left join board as previous_month
        on current_month.report_month_index - 1 = previous_month.report_month_index
    left join board as previous_year
        on current_month.report_month_index - 12 = previous_year.report_month_index
),

final as (
    select
        cast(report_month as date) as report_month,
        {{ crm_board_final_columns() }}
    from compared
    where {{ crm_recompute_filter('report_month_index', changes) }}
)

select * from final
