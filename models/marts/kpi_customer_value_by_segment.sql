-- Customer value by RFM segment per report month (SPEC section 9): customers, mean P(alive), sum and mean
-- of clv_12m, share of the month's clv_12m, expected repeat occasions in the next 12 months.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ crm_incremental_pre_hook(date_column='report_month') }}"],
        post_hook=["{{ crm_incremental_post_hook() }}"]
    )
}}
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_value_summary('rfm_segment', 'rfm_segment') }}
