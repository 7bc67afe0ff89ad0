-- RFM by customer and Segment analysis pages of the app: in-scope customers and their 12-month sales
-- per report month and combination of segment, value tier, activity status and R, F, M and T score
-- (scores null for Not Active customers). The app's R x F heatmap, its sales by M score and its
-- customer counts for any choice of the page's filters (segment, tiers, scores, Not Active) read this
-- grid filtered by report month instead of counting the snapshot's customers at view time.
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
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        cast(tenure_score as integer) as tenure_score,
        cast(customers as bigint) as customers,
        cast(sales_12m as decimal(18, 4)) as sales_12m
    from grid
    -- report months together: the app reads one month at a time (row groups skipped by zone maps)
    order by report_month
)

select * from final
