-- Customers and sales by value tier per report month, with shares.
{{ crm_group_summary('value_tier', 'value_tier') }}
