{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Tier migration: customers by (value tier last month -> value tier this month).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
{{ crm_migration('value_tier', changes=changes) }}
