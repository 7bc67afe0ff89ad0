{{ config(materialized='view') }}
-- The rules of SPEC section 5 applied to the monthly windows: tenure, AMC, AOS, activity status,
-- value tier and lifecycle event. Thresholds come from the seed value_tier_calibration.
--
-- Tier rules compare without dividing (AMC >= t  <=>  m6 >= 6 t; AOS >= a  <=>  m6 >= a o6) so
-- that a boundary value is never lost to rounding; the AMC and AOS columns are rounded to 4 decimals.
with

windows as (
    select * from {{ ref('int_customer_months__windows') }}
),

calibration as (
    select * from {{ ref('value_tier_calibration') }}
),

thresholds as (
    select
        max(case when threshold_name = 't_high' then threshold_value end) as t_high,
        max(case when threshold_name = 't_mid_high' then threshold_value end) as t_mid_high,
        max(case when threshold_name = 't_mid' then threshold_value end) as t_mid,
        max(case when threshold_name = 'a_high' then threshold_value end) as a_high,
        max(case when threshold_name = 'f_high' then threshold_value end) as f_high,
        max(case when threshold_name = 'f_mid' then threshold_value end) as f_mid
    from calibration
),

measured as (
    select
        windows.*,
        cast(
            windows.report_month_index - {{ crm_month_index('windows.first_core_purchase_date') }} + 1
            as integer
        ) as tenure_months,
        {{ crm_decimal_ratio('windows.m6', '6') }} as avg_monthly_consumption,
        case when windows.o6 > 0 then {{ crm_decimal_ratio('windows.m6', 'windows.o6') }} end as avg_order_size,
        case when windows.m12 > 0 then 'Active' else {{ crm_not_active() }} end as activity_status
    from windows
),

classified as (
    select
        measured.*,
        case
            when measured.activity_status <> 'Active' then null
            when measured.m6 = 0 then 'Passive'
            when
                measured.m6 >= 6 * thresholds.t_high
                and measured.o6 > 0
                and measured.m6 >= thresholds.a_high * measured.o6
                and measured.o6 >= thresholds.f_high
                then 'Diamond'
            when measured.m6 >= 6 * thresholds.t_high and measured.o6 >= thresholds.f_mid then 'Platinum'
            when measured.m6 >= 6 * thresholds.t_mid_high then 'Gold'
            when measured.m6 >= 6 * thresholds.t_mid then 'Silver'
            else 'Bronze'
        end as value_tier,
        case
            when measured.m1 > 0 and measured.m1 = measured.m_total then 'New'
            when measured.m12 = 0 and measured.m13 > 0 then 'Lost'
            when measured.m1 > 0 and measured.m1 = measured.m13 and measured.m_total > measured.m13
                then 'Reactivated'
        end as lifecycle_event
    from measured
    cross join thresholds
)

select * from classified
