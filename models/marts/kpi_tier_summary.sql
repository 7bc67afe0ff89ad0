-- Customers and sales by value tier per report month, with shares.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_group_summary('value_tier', 'value_tier') }}
