-- Page 3 with a segment selected: tier migration of the members of each segment, customers by
-- (rfm_segment this month, tier last month -> tier this month); Not Active members form `Not Active`.
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
{{ crm_migration('value_tier', by_column='rfm_segment') }}
