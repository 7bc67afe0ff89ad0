{{ config(
    enabled=target.type != 'spark',
    materialized='incremental',
    incremental_strategy='crm_month_range',
    recompute_column='report_month'
) }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
-- Customer value page of the app: customers and their clv_12m per report month, RFM segment of that
-- month (Not Active for customers without one) and P(alive) band of width 0.05 (var crm_p_alive_bands,
-- macro crm_p_alive_band: p_alive_band_from = floor(p_alive * 20) / 20; P(alive) = 1 falls in the last
-- band, 0.95). The app's P(alive)
-- distribution reads it filtered by report month (and segment) instead of counting
-- fct_customer_value at view time. Customers as in kpi_customer_value_by_segment: a value row and a
-- snapshot row in the month.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose
-- inputs changed (each month reads only its own month of both inputs).
with

customer_value as (
    select * from {{ ref('fct_customer_value') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

snapshot as (
    select
        customer_id,
        report_month,
        rfm_segment
    from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

banded as (
    select
        customer_value.report_month,
        coalesce(snapshot.rfm_segment, {{ crm_not_active() }}) as rfm_segment,
        {{ crm_p_alive_band('customer_value.p_alive', 'from') }} as p_alive_band_from,
        customer_value.clv_12m
    from customer_value
    inner join snapshot
        on
            customer_value.customer_id = snapshot.customer_id
            and customer_value.report_month = snapshot.report_month
),

grouped as (
    select
        report_month,
        rfm_segment,
        p_alive_band_from,
        count(*) as customers,
        sum(clv_12m) as clv_12m
    from banded
    group by report_month, rfm_segment, p_alive_band_from
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(p_alive_band_from as double) as p_alive_band_from,
        cast(customers as bigint) as customers,
        cast(clv_12m as decimal(18, 4)) as clv_12m
    from grouped
    order by report_month
)

select * from final
