-- Page 3 with a segment selected: tier migration of the members of each segment, customers by
-- (rfm_segment this month, tier last month -> tier this month); Not Active members form `Not Active`.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_migration('value_tier', by_column='rfm_segment') }}
