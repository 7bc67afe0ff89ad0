-- Page 2, segment migration: customers by (segment last month -> segment this month).
{{ crm_migration('rfm_segment') }}
