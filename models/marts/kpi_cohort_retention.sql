{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Cohort retention (SPEC section 10): one row per acquisition cohort (month of the first core
-- purchase) and month since acquisition (0 = the cohort month) up to the last report month. A
-- cohort customer is retained in a month when they have a core purchase (core line with positive
-- quantity) in it: a month with returns only does not retain. revenue is the net revenue of every
-- line of the cohort's customers in the month (all products, returns negative), as the sales
-- reporting counts it; cumulative_revenue_per_customer is the cohort's revenue from the cohort month
-- to the report month divided by the cohort size. Point-in-time: the row for month M uses only
-- lines dated up to M's last day (a cohort never changes after its month).
-- Incremental (macros/crm_incremental.sql): a run rewrites the report months from the first month
-- whose inputs changed. A change in month M can only change rows of report months from M on (a
-- cohort is fixed by its first purchase), and the cumulative revenue is summed from the cohort
-- month, so the per-cohort monthly sums are read whole (they are small: cohorts x months).
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

cohorts as (
    select * from {{ ref('int_customers__cohorts') }}
),

activity as (
    select * from {{ ref('int_customer_months__activity') }}
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

cohort_sizes as (
    select
        cohort_month_index,
        cohort_month,
        count(*) as cohort_customers
    from cohorts
    group by cohort_month_index, cohort_month
),

cohort_activity as (
    select
        cohorts.cohort_month_index,
        activity.month_index,
        sum(case when activity.core_units > 0 then 1 else 0 end) as retained_customers,
        sum(activity.net_revenue) as revenue
    from activity
    inner join cohorts
        on
            activity.customer_id = cohorts.customer_id
            and activity.month_index >= cohorts.cohort_month_index
    group by cohorts.cohort_month_index, activity.month_index
),

cohort_months as (
    -- every calendar month from the cohort month to the last report month, so that the triangle
    -- has no holes (a month without any purchase keeps 0 retained)
    select
        cohort_sizes.cohort_month_index,
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customers,
        calendar.report_month,
        calendar.report_month_index,
        calendar.is_report_month,
        calendar.is_history_complete,
        calendar.is_month_complete,
        calendar.data_as_of_date,
        calendar.report_month_index - cohort_sizes.cohort_month_index as months_since_acquisition,
        coalesce(cohort_activity.retained_customers, 0) as retained_customers,
        coalesce(cohort_activity.revenue, 0) as revenue
    from cohort_sizes
    inner join calendar
        on cohort_sizes.cohort_month_index <= calendar.report_month_index
    left join cohort_activity
        on
            cohort_sizes.cohort_month_index = cohort_activity.cohort_month_index
            and calendar.report_month_index = cohort_activity.month_index
),

cumulated as (
    select
        *,
        sum(revenue) over (
            partition by cohort_month_index
            order by report_month_index
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from cohort_months
),

final as (
    select
        cast(cohort_month as date) as cohort_month,
        cast(months_since_acquisition as integer) as months_since_acquisition,
        cast(report_month as date) as report_month,
        cast(cohort_customers as bigint) as cohort_customers,
        cast(retained_customers as bigint) as retained_customers,
        cast(retained_customers / cohort_customers as double) as retention_rate,
        cast(revenue as decimal(18, 4)) as revenue,
        {{ crm_decimal_ratio('cumulative_revenue', 'cohort_customers') }} as cumulative_revenue_per_customer,
        is_history_complete,
        is_month_complete,
        data_as_of_date
    from cumulated
    where
        is_report_month
        and {{ crm_recompute_filter('report_month_index', changes) }}
)

select * from final
