-- Lifecycle and tiers page of the app: in-scope customers per report month and RFM segment of that
-- month (Not Active for customers without one) by activity status, value tier (Not Active without
-- one) and lifecycle event (customers with an event only), in long form: one row per report month,
-- segment, dimension (status, tier, event) and label. The app reads it filtered by report month (and
-- segment) instead of counting the snapshot at view time.
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

grouped as (
    select
        report_month,
        coalesce(rfm_segment, {{ crm_not_active() }}) as rfm_segment,
        activity_status,
        coalesce(value_tier, {{ crm_not_active() }}) as value_tier,
        lifecycle_event,
        count(*) as customers
    from snapshot
    group by
        report_month,
        coalesce(rfm_segment, {{ crm_not_active() }}),
        activity_status,
        coalesce(value_tier, {{ crm_not_active() }}),
        lifecycle_event
),

long_form as (
    select
        report_month,
        rfm_segment,
        'status' as dimension,
        activity_status as label,
        customers
    from grouped
    union all
    select
        report_month,
        rfm_segment,
        'tier' as dimension,
        value_tier as label,
        customers
    from grouped
    union all
    select
        report_month,
        rfm_segment,
        'event' as dimension,
        lifecycle_event as label,
        customers
    from grouped
    where lifecycle_event is not null
),

summed as (
    select
        report_month,
        rfm_segment,
        dimension,
        label,
        sum(customers) as customers
    from long_form
    group by report_month, rfm_segment, dimension, label
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(label as {{ dbt.type_string() }}) as label,
        cast(customers as bigint) as customers
    from summed
    order by report_month
)

select * from final
