-- Page 3, RFM score by customer: every in-scope customer in the latest report month with its
-- attributes, measures, scores and segment (the snapshot fact holds every month).
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where report_month = {{ crm_latest_snapshot_month() }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

latest as (
    select snapshot.*
    from snapshot
    inner join customers
        on
            snapshot.customer_id = customers.customer_id
            and snapshot.report_month = customers.latest_report_month
),

final as (
    select
        cast(latest.report_month as date) as report_month,
        cast(latest.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(customers.customer_group as {{ dbt.type_string() }}) as customer_group,
        cast(customers.city as {{ dbt.type_string() }}) as city,
        cast(latest.activity_status as {{ dbt.type_string() }}) as activity_status,
        cast(latest.value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(latest.lifecycle_event as {{ dbt.type_string() }}) as lifecycle_event,
        cast(latest.recency_days as integer) as recency_days,
        cast(latest.frequency_orders as integer) as frequency_orders,
        cast(latest.monetary_value as decimal(18, 4)) as monetary_value,
        cast(latest.tenure_months as integer) as tenure_months,
        cast(latest.recency_score as integer) as recency_score,
        cast(latest.frequency_score as integer) as frequency_score,
        cast(latest.monetary_score as integer) as monetary_score,
        cast(latest.tenure_score as integer) as tenure_score,
        cast(latest.rfm_cell as {{ dbt.type_string() }}) as rfm_cell,
        cast(customers.segment_label as {{ dbt.type_string() }}) as segment_label,
        cast(latest.sales_12m as decimal(18, 4)) as sales_12m,
        cast(customers.latest_p_alive as double) as p_alive,
        cast(customers.latest_expected_occasions_3m as double) as expected_occasions_3m,
        cast(customers.latest_expected_occasions_12m as double) as expected_occasions_12m,
        cast(customers.latest_clv_12m as decimal(18, 4)) as clv_12m
    from latest
    inner join customers
        on latest.customer_id = customers.customer_id
)

select * from final
