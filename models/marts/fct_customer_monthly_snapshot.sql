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

classified as (
    select * from {{ ref('int_customer_months__classified') }}
    {% if is_incremental() %}
        where report_month >= (select max(report_month) from {{ this }})
    {% endif %}
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
        lifecycle_event
    from classified
)

select * from final
