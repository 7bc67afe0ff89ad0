{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Page 2, segment migration: customers by (segment last month -> segment this month).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
{{ crm_migration('rfm_segment', changes=changes) }}
