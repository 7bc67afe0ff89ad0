-- Page 2, segment migration: customers by (segment last month -> segment this month).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_migration('rfm_segment') }}
