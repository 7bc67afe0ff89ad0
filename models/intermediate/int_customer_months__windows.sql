{%- set changes = crm_changes() %}
-- One row per in-scope customer and report month from the month the customer exists: the
-- point-in-time window aggregates of SPEC section 5, each made of whole calendar months ending
-- with the report month and seeing no line dated after the month's last day.
--
-- Cost grows with activity rows + customers x months: a dense customer x month spine carries
-- running sums, and a window of k months is the running sum minus the running sum k rows earlier.
--
-- Incremental runs (macros/crm_incremental.sql) recompute only the report months from the first
-- month whose inputs changed. They start the spine 25 months earlier and carry everything older in
-- per-customer baselines, so the rows are identical to a full refresh. (One algorithm for every run:
-- an earlier second one, aggregating each output month straight from the activity rows, was cheaper
-- only for runs of one to three months and made the model two programs; docs/performance.md.)
with

customers as (
    select * from {{ ref('int_customers__scoped') }}
    where is_crm_in_scope and exists_from_month_index is not null
),

activity as (
    -- from the month the customer exists: a return dated earlier does not enter its windows
    select activity.*
    from {{ ref('int_customer_months__activity') }} as activity
    inner join customers
        on
            activity.customer_id = customers.customer_id
            and activity.month_index >= customers.exists_from_month_index
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

recompute_range as (
    select
        {% if changes.full or changes.nothing -%}
        min(case when is_report_month then report_month_index end)
        {%- else -%}
        greatest(
            {{ changes.from_month_index }},
            min(case when is_report_month then report_month_index end)
        )
        {%- endif %} as first_output_month_index,
        min(report_month_index) as first_calendar_month_index
    from calendar
),

spine_range as (
    select
        first_output_month_index,
        greatest(first_calendar_month_index, first_output_month_index - 25) as first_spine_month_index
    from recompute_range
),

baselines as (
    -- everything before the spine, per customer: it only adds to the running totals (m_total, o6,
    -- o12, last core purchase); a k-month window never reaches before the spine
    select
        activity.customer_id,
        sum(activity.core_units) as core_units,
        sum(activity.o6_delta) as o6_delta,
        sum(activity.o12_delta) as o12_delta,
        max(activity.last_core_purchase_date) as last_core_purchase_date
    from activity
    cross join spine_range
    where activity.month_index < spine_range.first_spine_month_index
    group by activity.customer_id
),

first_purchases as (
    -- a running minimum is the customer's first date from the month it falls in
    select
        customer_id,
        min(first_core_purchase_date) as first_core_purchase_date,
        min(case when first_core_purchase_date is not null then month_index end) as first_core_month_index,
        min(first_entry_purchase_date) as first_entry_purchase_date,
        min(case when first_entry_purchase_date is not null then month_index end) as first_entry_month_index
    from activity
    group by customer_id
),

customer_months as (
    -- narrow rows (the window sorts them): the calendar and the baselines are joined afterwards
    select
        customers.customer_id,
        calendar.report_month_index,
        case
            when calendar.report_month_index >= first_purchases.first_entry_month_index
                then first_purchases.first_entry_purchase_date
        end as first_entry_purchase_date,
        case
            when calendar.report_month_index >= first_purchases.first_core_month_index
                then first_purchases.first_core_purchase_date
        end as first_core_purchase_date
    from customers
    cross join spine_range
    left join first_purchases
        on customers.customer_id = first_purchases.customer_id
    inner join calendar
        on
            calendar.report_month_index
            >= greatest(spine_range.first_spine_month_index, customers.exists_from_month_index)
),

spine_activity as (
    select
        customer_months.customer_id,
        customer_months.report_month_index,
        customer_months.first_entry_purchase_date,
        customer_months.first_core_purchase_date,
        coalesce(activity.core_units, 0) as core_units,
        coalesce(activity.core_revenue, 0) as core_revenue,
        coalesce(activity.net_revenue, 0) as net_revenue,
        coalesce(activity.o6_delta, 0) as o6_delta,
        coalesce(activity.o12_delta, 0) as o12_delta,
        activity.last_core_purchase_date
    from customer_months
    left join activity
        on
            customer_months.customer_id = activity.customer_id
            and customer_months.report_month_index = activity.month_index
),

running as (
    -- running sums since the start of the spine, in one sort
    select
        customer_id,
        report_month_index,
        first_entry_purchase_date,
        first_core_purchase_date,
        sum(core_units) over customer_history as cumulative_units,
        sum(core_revenue) over customer_history as cumulative_revenue,
        sum(net_revenue) over customer_history as cumulative_net_revenue,
        sum(o6_delta) over customer_history as cumulative_o6_delta,
        sum(o12_delta) over customer_history as cumulative_o12_delta,
        max(last_core_purchase_date) over customer_history as last_core_purchase_date
    from spine_activity
    window customer_history as (
        partition by customer_id
        order by report_month_index
        rows between unbounded preceding and current row
    )
),

windows as (
    -- a k-month window is the running sum minus the running sum k rows earlier (0 before the
    -- spine starts: the baseline cancels out)
    select
        *,
        {%- for months in [1, 6, 12, 13, 24, 25] %}
        cumulative_units - coalesce(lag(cumulative_units, {{ months }}) over customer_order, 0) as m{{ months }},
        {%- endfor %}
        cumulative_revenue - coalesce(lag(cumulative_revenue, 12) over customer_order, 0) as r12,
        cumulative_net_revenue - coalesce(lag(cumulative_net_revenue, 1) over customer_order, 0) as sales_month,
        cumulative_net_revenue - coalesce(lag(cumulative_net_revenue, 12) over customer_order, 0) as sales_12m
    from running
    window customer_order as (partition by customer_id order by report_month_index)
),

final as (
    select
        windows.customer_id,
        calendar.report_month,
        windows.report_month_index,
        calendar.report_month_end,
        cast(coalesce(baselines.core_units, 0) + windows.cumulative_units as decimal(18, 4)) as m_total,
        cast(windows.m1 as decimal(18, 4)) as m1,
        cast(windows.m6 as decimal(18, 4)) as m6,
        cast(windows.m12 as decimal(18, 4)) as m12,
        cast(windows.m13 as decimal(18, 4)) as m13,
        cast(windows.m24 as decimal(18, 4)) as m24,
        cast(windows.m25 as decimal(18, 4)) as m25,
        cast(coalesce(baselines.o6_delta, 0) + windows.cumulative_o6_delta as integer) as o6,
        cast(coalesce(baselines.o12_delta, 0) + windows.cumulative_o12_delta as integer) as o12,
        cast(windows.r12 as decimal(18, 4)) as r12,
        cast(windows.sales_month as decimal(18, 4)) as sales_month,
        cast(windows.sales_12m as decimal(18, 4)) as sales_12m,
        windows.first_entry_purchase_date,
        windows.first_core_purchase_date,
        coalesce(windows.last_core_purchase_date, baselines.last_core_purchase_date) as last_core_purchase_date
    from windows
    cross join spine_range
    inner join calendar
        on windows.report_month_index = calendar.report_month_index
    left join baselines
        on windows.customer_id = baselines.customer_id
    where
        calendar.is_report_month
        and windows.report_month_index >= spine_range.first_output_month_index
        and {{ 'false' if changes.nothing else 'true' }}
)

select * from final
