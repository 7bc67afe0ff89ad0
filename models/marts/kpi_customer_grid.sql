-- The app's customer pages (Segment analysis, RFM by customer, Lifecycle and tiers): in-scope
-- customers and their 12-month sales per report month and combination of RFM segment, value tier,
-- activity status, lifecycle event and R, F, M and T score (segment and tier `Not Active` when
-- missing; scores null for Not Active customers). The R x F heatmap, the sales by M score, the
-- customer counts for any choice of the RFM page's filters and the lifecycle page's counts by status,
-- tier and event are sums of this grid filtered by report month (and segment): the app never counts
-- the snapshot at view time. One scan of the snapshot serves the three pages.
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

grid as (
    select
        report_month,
        coalesce(rfm_segment, {{ crm_not_active() }}) as rfm_segment,
        coalesce(value_tier, {{ crm_not_active() }}) as value_tier,
        activity_status,
        lifecycle_event,
        recency_score,
        frequency_score,
        monetary_score,
        tenure_score,
        count(*) as customers,
        sum(sales_12m) as sales_12m
    from snapshot
    group by
        report_month,
        coalesce(rfm_segment, {{ crm_not_active() }}),
        coalesce(value_tier, {{ crm_not_active() }}),
        activity_status,
        lifecycle_event,
        recency_score,
        frequency_score,
        monetary_score,
        tenure_score
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(activity_status as {{ dbt.type_string() }}) as activity_status,
        cast(lifecycle_event as {{ dbt.type_string() }}) as lifecycle_event,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        cast(tenure_score as integer) as tenure_score,
        cast(customers as bigint) as customers,
        cast(sales_12m as decimal(18, 4)) as sales_12m
    from grid
    -- report months together: the app reads one month (or the months up to one) at a time, and
    -- DuckDB skips the other months' row groups by their min / max
    order by report_month
)

select * from final
