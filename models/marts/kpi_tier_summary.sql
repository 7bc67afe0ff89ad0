{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Customers and sales by value tier per report month, with shares.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
{{ crm_group_summary('value_tier', 'value_tier', changes=changes) }}
