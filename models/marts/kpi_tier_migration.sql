-- Tier migration: customers by (value tier last month -> value tier this month).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_migration('value_tier') }}
