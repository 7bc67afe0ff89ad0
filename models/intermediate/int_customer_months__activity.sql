{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='month_index') }}
-- One row per in-scope customer and month with activity: the sums that the monthly windows are
-- built from. CRM sums count only core lines with positive quantity (returns never cancel a
-- purchase, SPEC section 3); entry lines give the first entry purchase date; net_revenue (every
-- line, returns included) feeds the sales reporting by segment and tier.
--
-- Distinct-invoice counts over a window (o6, o12) are carried as deltas so that the windows model
-- only needs running sums: an invoice seen in month m adds 1 from m until it leaves the window
-- (m + 6) or until the next month it is seen again, whichever is first. An invoice number that
-- reappears in a later month is therefore counted once while both months are in the window, which
-- is exactly count(distinct invoice_id) over the window's lines.
--
-- Incremental (macros/crm_incremental.sql): a run recomputes the months from the first month whose
-- inputs changed, reading the lines of the 12 months before it too (their deltas land up to 12
-- months later).
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

lines as (
    select * from {{ ref('int_sales_lines__enriched') }}
    where
        is_crm_in_scope
        and {{ crm_recompute_date_filter('invoice_date', changes, lookback_months=12) }}
),

monthly_sums as (
    select
        customer_id,
        invoice_month_index as month_index,
        sum(case when crm_role = 'core' and quantity > 0 then units else 0 end) as core_units,
        sum(case when crm_role = 'core' and quantity > 0 then revenue else 0 end) as core_revenue,
        sum(revenue) as net_revenue,
        min(case when crm_role = 'core' and quantity > 0 then invoice_date end) as first_core_purchase_date,
        max(case when crm_role = 'core' and quantity > 0 then invoice_date end) as last_core_purchase_date,
        min(case when crm_role = 'entry' and quantity > 0 then invoice_date end) as first_entry_purchase_date
    from lines
    group by customer_id, invoice_month_index
),

core_invoice_months as (
    select distinct
        customer_id,
        invoice_id,
        invoice_month_index as month_index
    from lines
    where crm_role = 'core' and quantity > 0
),

core_invoice_spans as (
    select
        customer_id,
        invoice_id,
        month_index,
        lead(month_index) over (
            partition by customer_id, invoice_id order by month_index
        ) as next_seen_month_index
    from core_invoice_months
),

invoice_window_deltas as (
    select
        customer_id,
        month_index,
        1 as o6_delta,
        1 as o12_delta
    from core_invoice_spans
    union all
    select
        customer_id,
        least(month_index + 6, coalesce(next_seen_month_index, month_index + 6)) as month_index,
        -1 as o6_delta,
        0 as o12_delta
    from core_invoice_spans
    union all
    select
        customer_id,
        least(month_index + 12, coalesce(next_seen_month_index, month_index + 12)) as month_index,
        0 as o6_delta,
        -1 as o12_delta
    from core_invoice_spans
),

monthly_deltas as (
    select
        customer_id,
        month_index,
        sum(o6_delta) as o6_delta,
        sum(o12_delta) as o12_delta
    from invoice_window_deltas
    group by customer_id, month_index
),

combined as (
    select
        coalesce(monthly_sums.customer_id, monthly_deltas.customer_id) as customer_id,
        coalesce(monthly_sums.month_index, monthly_deltas.month_index) as month_index,
        coalesce(monthly_sums.core_units, 0) as core_units,
        coalesce(monthly_sums.core_revenue, 0) as core_revenue,
        coalesce(monthly_sums.net_revenue, 0) as net_revenue,
        coalesce(monthly_deltas.o6_delta, 0) as o6_delta,
        coalesce(monthly_deltas.o12_delta, 0) as o12_delta,
        monthly_sums.first_core_purchase_date,
        monthly_sums.last_core_purchase_date,
        monthly_sums.first_entry_purchase_date
    from monthly_sums
    full outer join monthly_deltas
        on
            monthly_sums.customer_id = monthly_deltas.customer_id
            and monthly_sums.month_index = monthly_deltas.month_index
),

final as (
    select * from combined
    where {{ crm_recompute_filter('month_index', changes) }}
)

select * from final
