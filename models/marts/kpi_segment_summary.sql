-- Page 2, segment analysis: customers and sales by RFM segment per report month, with shares.
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{{ crm_group_summary('rfm_segment', 'rfm_segment') }}
