{{ config(
    enabled=target.type != 'spark',
    materialized='incremental',
    incremental_strategy='crm_month_range',
    recompute_column='report_month'
) }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
{%- set top_customers = var('crm_app_leaving_customers') %}
{%- set month_index = crm_month_index('report_month') %}
{%- set p_alive_bands = crm_p_alive_bands() %}
-- Customer value page of the app, "High value, likely leaving": per report month, RFM segment of that
-- month (Not Active for customers without one) and P(alive) band, the customers ranked by the highest
-- clv_12m they had in the 12 report months up to this one (peak_clv_12m), best {{ top_customers }} per band
-- (var crm_app_leaving_customers). P(alive) bands here are closed above (macro crm_p_alive_band): p_alive_band_to
-- = ceil(p_alive * 20) / 20, with p_alive * 20 rounded to 9 decimals first (0 for P(alive) below 5e-11),
-- so "P(alive) at most t" for a t of the app's slider (0.05 to 0.95 by 0.05: one band, var
-- crm_p_alive_bands) is the bands up to t,
-- and the top customers of any segment and threshold are among
-- the rows kept: the app reads this mart filtered by report month, segment and P(alive) with a server-side
-- order and limit instead of ranking fct_customer_value at view time. Customers above P(alive) 0.95
-- (the slider's maximum) are not kept.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose
-- inputs changed; it reads the customer value from 11 report months earlier (the peak's window; the
-- P(alive) of 3 months earlier lies within it) and the snapshot of the rewritten months only.
with

customer_value as (
    select
        customer_id,
        report_month,
        {{ month_index }} as month_index,
        p_alive,
        clv_12m,
        x,
        t_weeks,
        t_x_weeks
    from {{ ref('fct_customer_value') }}
    where {{ crm_recompute_date_filter('report_month', changes, lookback_months=11) }}
),

snapshot as (
    select
        customer_id,
        report_month,
        rfm_segment
    from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

with_history as (
    -- both windows share one sort by customer and month: the highest clv_12m of the 12 report months
    -- up to this one, and P(alive) exactly three report months earlier (null without a row then)
    select
        customer_id,
        report_month,
        p_alive,
        clv_12m,
        x,
        t_weeks,
        t_x_weeks,
        max(clv_12m) over (
            partition by customer_id order by month_index range between 11 preceding and current row
        ) as peak_clv_12m,
        max(p_alive) over (
            partition by customer_id order by month_index range between 3 preceding and 3 preceding
        ) as p_alive_3m_ago
    from customer_value
),

candidates as (
    select
        with_history.*,
        coalesce(snapshot.rfm_segment, {{ crm_not_active() }}) as rfm_segment,
        {{ crm_p_alive_band('with_history.p_alive', 'to') }} as p_alive_band_to
    from with_history
    inner join snapshot
        on
            with_history.customer_id = snapshot.customer_id
            and with_history.report_month = snapshot.report_month
    where with_history.p_alive <= {{ (p_alive_bands - 1) / p_alive_bands }}  -- the slider's maximum
),

ranked as (
    select
        *,
        row_number() over (
            partition by report_month, rfm_segment, p_alive_band_to
            order by peak_clv_12m desc nulls last, customer_id asc
        ) as rank_in_band
    from candidates
),

kept as (
    select * from ranked
    where rank_in_band <= {{ top_customers }}
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(p_alive_band_to as double) as p_alive_band_to,
        cast(rank_in_band as integer) as rank_in_band,
        cast(p_alive as double) as p_alive,
        cast(p_alive_3m_ago as double) as p_alive_3m_ago,
        cast(clv_12m as decimal(18, 4)) as clv_12m,
        cast(peak_clv_12m as decimal(18, 4)) as peak_clv_12m,
        cast(x as integer) as repeat_occasions,
        cast(t_weeks - t_x_weeks as double) as weeks_since_last_purchase
    from kept
    order by report_month asc, peak_clv_12m desc nulls last, customer_id asc
)

select * from final
