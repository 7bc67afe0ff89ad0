-- Page 2, segment analysis: customers and sales by RFM segment per report month, with shares.
{{ crm_group_summary('rfm_segment', 'rfm_segment') }}
