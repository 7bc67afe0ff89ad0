-- Tier migration: customers by (value tier last month -> value tier this month).
{{ crm_migration('value_tier') }}
