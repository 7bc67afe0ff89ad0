-- Page 2, segment migration: customers by (segment last month -> segment this month).
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
{{ crm_migration('rfm_segment') }}
