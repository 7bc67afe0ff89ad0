{{ config(materialized='view') }}
{%- set bins = var('crm_score_bins') | int -%}
-- RFMT scores (SPEC section 6) on the classified snapshot rows: quintiles (var crm_score_bins)
-- over each report month's Active customers only; a Not Active customer (no purchase in 12 months,
-- or never) is never ranked and gets null scores and segment.
--   R  recency_days      days from the last core purchase to the report month end (fewer = better)
--   F  frequency_orders  distinct core invoices in the last 12 months (o12)
--   M  monetary_value    core purchase revenue in the last 12 months (r12), or units (m12) when
--                        var crm_monetary_measure = units
--   T  tenure_months
-- Score = least(bins, 1 + floor(bins * percent_rank)) in exact integer arithmetic: ties share a
-- score, rebuilds are deterministic. When a measure is dominated by ties (most customers bought
-- once) the tied customers all get the score of the tie's lowest position and the bins above it
-- stay empty: the score-band mart shows which bins are used.
with

classified as (
    select * from {{ ref('int_customer_months__classified') }}
),

segment_cells as (
    select * from {{ ref('int_rfm_segment_cells') }}
),

measured as (
    select
        *,
        activity_status = 'Active' as is_scored,
        case
            when activity_status = 'Active'
                then {{ dbt.datediff('last_core_purchase_date', 'report_month_end', 'day') }}
        end as recency_days,
        case when activity_status = 'Active' then o12 end as frequency_orders,
        case
            when activity_status = 'Active'
                then {{ 'm12' if var('crm_monetary_measure') == 'units' else 'r12' }}
        end as monetary_value
    from classified
),

ranked as (
    select
        *,
        case
            when is_scored then rank() over (partition by report_month, is_scored order by recency_days desc)
        end as recency_rank,
        case
            when is_scored then rank() over (partition by report_month, is_scored order by frequency_orders)
        end as frequency_rank,
        case
            when is_scored then rank() over (partition by report_month, is_scored order by monetary_value)
        end as monetary_rank,
        case
            when is_scored then rank() over (partition by report_month, is_scored order by tenure_months)
        end as tenure_rank,
        sum(case when is_scored then 1 else 0 end) over (partition by report_month) as scored_customers
    from measured
),

scored as (
    select
        *,
        {{ crm_bin_score('recency_rank', 'scored_customers', bins) }} as recency_score,
        {{ crm_bin_score('frequency_rank', 'scored_customers', bins) }} as frequency_score,
        {{ crm_bin_score('monetary_rank', 'scored_customers', bins) }} as monetary_score,
        {{ crm_bin_score('tenure_rank', 'scored_customers', bins) }} as tenure_score
    from ranked
),

final as (
    select
        scored.*,
        segment_cells.rfm_cell,
        segment_cells.rfm_segment
    from scored
    left join segment_cells
        on
            scored.recency_score = segment_cells.recency_score
            and scored.frequency_score = segment_cells.frequency_score
            and scored.monetary_score = segment_cells.monetary_score
)

select * from final
