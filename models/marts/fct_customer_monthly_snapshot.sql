{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='report_month',
        on_schema_change='fail'
    )
}}
-- The point-in-time monthly CRM snapshot: one row per in-scope customer and report month
-- (SPEC sections 5 and 6). Incremental: a run recomputes the latest month already built and adds
-- the new ones; `--full-refresh` rebuilds every month and gives identical rows.
with

scored as (
    select * from {{ ref('int_customer_months__rfmt_scored') }}
    {% if is_incremental() -%}
    where report_month >= coalesce({{ crm_latest_built_month() }}, cast('0001-01-01' as date))
    {%- endif %}
),

final as (
    select
        customer_id,
        report_month,
        m_total,
        m1,
        m6,
        m12,
        m13,
        m24,
        m25,
        o6,
        first_entry_purchase_date,
        first_core_purchase_date,
        last_core_purchase_date,
        tenure_months,
        avg_monthly_consumption,
        avg_order_size,
        activity_status,
        value_tier,
        lifecycle_event,
        cast(recency_days as integer) as recency_days,
        cast(frequency_orders as integer) as frequency_orders,
        cast(monetary_value as decimal(18, 4)) as monetary_value,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        cast(tenure_score as integer) as tenure_score,
        cast(rfm_cell as varchar) as rfm_cell,
        cast(rfm_segment as varchar) as rfm_segment,
        cast(sales_month as decimal(18, 4)) as sales_month,
        cast(sales_12m as decimal(18, 4)) as sales_12m
    from scored
)

select * from final
