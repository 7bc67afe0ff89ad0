{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Page 3 with a segment selected: tier migration of the members of each segment, customers by
-- (rfm_segment this month, tier last month -> tier this month); Not Active members form `Not Active`.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
{{ crm_migration('value_tier', by_column='rfm_segment', changes=changes) }}
