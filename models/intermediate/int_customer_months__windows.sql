{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month_index') }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
-- One row per in-scope customer and report month from the month the customer exists: the
-- point-in-time window aggregates of SPEC section 5, each made of whole calendar months ending
-- with the report month and seeing no line dated after the month's last day.
--
-- One algorithm for full and incremental runs: the customer's rows are the output months (dense:
-- every report month from the first one recomputed, from the month the customer exists) and, before
-- them, only the months with activity (sparse); window functions over each customer's months in
-- order then give the k-month windows as RANGE frames over the month number (k - 1 preceding to
-- the current month; a month without a row adds nothing) and the running totals (m_total, o6, o12,
-- first and last purchase dates) as frames from the first row. A full build costs customers x
-- months; an incremental run (macros/crm_incremental.sql: the report months from the first month
-- whose inputs changed) costs customers x recomputed months + the earlier activity rows, and gives
-- the same rows as a full refresh. (Measured at 1M lines, CPU s: full 3.1, 12 months 1.7, 1 month
-- 1.0; the dense spine with running sums and lags it replaced took 5.0 / 4.3 / 3.2, and the second
-- algorithm beside it for short runs 7.7 / 2.8 / 0.45: docs/performance.md, issue 25.)

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
        {%- endif %} as first_output_month_index
    from calendar
),

output_months as (
    select calendar.report_month_index
    from calendar
    cross join recompute_range
    where
        calendar.is_report_month
        and calendar.report_month_index >= recompute_range.first_output_month_index
),

customer_months as (
    -- dense output months, then the sparse earlier months with activity (none on a full build)
    select
        customers.customer_id,
        output_months.report_month_index as month_index,
        true as is_output
    from customers
    inner join output_months
        on customers.exists_from_month_index <= output_months.report_month_index
    union all
    select
        activity.customer_id,
        activity.month_index,
        false as is_output
    from activity
    cross join recompute_range
    where activity.month_index < recompute_range.first_output_month_index
),

month_activity as (
    select
        customer_months.customer_id,
        customer_months.month_index,
        customer_months.is_output,
        coalesce(activity.core_units, 0) as core_units,
        coalesce(activity.core_revenue, 0) as core_revenue,
        coalesce(activity.net_revenue, 0) as net_revenue,
        coalesce(activity.o6_delta, 0) as o6_delta,
        coalesce(activity.o12_delta, 0) as o12_delta,
        activity.first_entry_purchase_date,
        activity.first_core_purchase_date,
        activity.last_core_purchase_date
    from customer_months
    left join activity
        on
            customer_months.customer_id = activity.customer_id
            and customer_months.month_index = activity.month_index
),

windows as (
    select
        customer_id,
        month_index,
        is_output,
        sum(core_units) over customer_history as m_total,
        {%- for months in [1, 6, 12, 13, 24, 25] %}
        sum(core_units) over (
            partition by customer_id order by month_index range between {{ months - 1 }} preceding and current row
        ) as m{{ months }},
        {%- endfor %}
        sum(o6_delta) over customer_history as o6,
        sum(o12_delta) over customer_history as o12,
        sum(core_revenue) over (
            partition by customer_id order by month_index range between 11 preceding and current row
        ) as r12,
        net_revenue as sales_month,  -- one row per customer and month: the month's own sum
        sum(net_revenue) over (
            partition by customer_id order by month_index range between 11 preceding and current row
        ) as sales_12m,
        min(first_entry_purchase_date) over customer_history as first_entry_purchase_date,
        min(first_core_purchase_date) over customer_history as first_core_purchase_date,
        max(last_core_purchase_date) over customer_history as last_core_purchase_date
    from month_activity
    window customer_history as (
        partition by customer_id
        order by month_index
        rows between unbounded preceding and current row
    )
),

final as (
    select
        windows.customer_id,
        calendar.report_month,
        windows.month_index as report_month_index,
        calendar.report_month_end,
        cast(windows.m_total as decimal(18, 4)) as m_total,
        cast(windows.m1 as decimal(18, 4)) as m1,
        cast(windows.m6 as decimal(18, 4)) as m6,
        cast(windows.m12 as decimal(18, 4)) as m12,
        cast(windows.m13 as decimal(18, 4)) as m13,
        cast(windows.m24 as decimal(18, 4)) as m24,
        cast(windows.m25 as decimal(18, 4)) as m25,
        cast(windows.o6 as integer) as o6,
        cast(windows.o12 as integer) as o12,
        cast(windows.r12 as decimal(18, 4)) as r12,
        cast(windows.sales_month as decimal(18, 4)) as sales_month,
        cast(windows.sales_12m as decimal(18, 4)) as sales_12m,
        windows.first_entry_purchase_date,
        windows.first_core_purchase_date,
        windows.last_core_purchase_date
    from windows
    inner join calendar
        on windows.month_index = calendar.report_month_index
    where
        windows.is_output
        and {{ 'false' if changes.nothing else 'true' }}
)

select * from final
