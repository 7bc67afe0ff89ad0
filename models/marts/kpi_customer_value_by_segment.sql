{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Customer value by RFM segment per report month (SPEC section 9): customers, mean P(alive), sum and mean
-- of clv_12m, share of the month's clv_12m, expected repeat occasions in the next 12 months.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
{{ crm_value_summary('rfm_segment', 'rfm_segment', changes=changes) }}
