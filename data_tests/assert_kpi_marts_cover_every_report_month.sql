-- Invariant, checked on every build (not only on the months an incremental run rebuilt): each
-- monthly KPI mart has rows for every report month that has something to show, so that an empty
-- or short mart fails the build instead of a blank Power BI page.
--   kpi_monthly_board: every report month;
--   segment / tier summaries and migrations: every report month with a snapshot row;
--   kpi_rfm_score_bands: every report month with an Active customer;
--   kpi_sales_by_period (month rows) and kpi_sales_by_category: every report month holding clean lines;
--   kpi_cohort_retention: every report month from the first cohort month on.
{%- set snapshot_marts = ['kpi_segment_summary', 'kpi_tier_summary', 'kpi_segment_migration', 'kpi_tier_migration'] %}
with

calendar as (
    select * from {{ ref('int_report_months') }}
    where is_report_month
),

snapshot_months as (
    select
        report_month,
        max(case when activity_status = 'Active' then 1 else 0 end) as has_active_customers
    from {{ ref('fct_customer_monthly_snapshot') }}
    group by report_month
),

first_cohort as (
    select min(cohort_month) as first_cohort_month
    from {{ ref('int_customers__cohorts') }}
),

sales_months as (
    select distinct cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as report_month
    from {{ ref('fct_sales') }}
),

required_months as (
    select
        'kpi_monthly_board' as mart,
        report_month
    from calendar
    {%- for mart in snapshot_marts %}
    union all
    select
        '{{ mart }}' as mart,
        snapshot_months.report_month
    from snapshot_months
    inner join calendar
        on snapshot_months.report_month = calendar.report_month
    {%- endfor %}
    union all
    select
        'kpi_rfm_score_bands' as mart,
        snapshot_months.report_month
    from snapshot_months
    inner join calendar
        on snapshot_months.report_month = calendar.report_month
    where snapshot_months.has_active_customers = 1
    {%- for mart in ['kpi_sales_by_period', 'kpi_sales_by_category'] %}
    union all
    select
        '{{ mart }}' as mart,
        sales_months.report_month
    from sales_months
    inner join calendar
        on sales_months.report_month = calendar.report_month
    {%- endfor %}
    union all
    select
        'kpi_cohort_retention' as mart,
        calendar.report_month
    from calendar
    inner join first_cohort
        on calendar.report_month >= first_cohort.first_cohort_month
),

present_months as (
    select distinct
        'kpi_monthly_board' as mart,
        report_month
    from {{ ref('kpi_monthly_board') }}
    {%- for mart in snapshot_marts %}
    union all
    select distinct
        '{{ mart }}' as mart,
        report_month
    from {{ ref(mart) }}
    {%- endfor %}
    union all
    select distinct
        'kpi_rfm_score_bands' as mart,
        report_month
    from {{ ref('kpi_rfm_score_bands') }}
    union all
    select distinct
        'kpi_sales_by_period' as mart,
        period_start as report_month
    from {{ ref('kpi_sales_by_period') }}
    where period_type = 'month'
    union all
    select distinct
        'kpi_sales_by_category' as mart,
        invoice_month as report_month
    from {{ ref('kpi_sales_by_category') }}
    union all
    select distinct
        'kpi_cohort_retention' as mart,
        report_month
    from {{ ref('kpi_cohort_retention') }}
),

final as (
    select
        required_months.mart,
        required_months.report_month,
        required_months.mart || ' has no row for report month '
        || cast(required_months.report_month as {{ dbt.type_string() }}) as explanation
    from required_months
    left join present_months
        on
            required_months.mart = present_months.mart
            and required_months.report_month = present_months.report_month
    where present_months.mart is null
)

select * from final
