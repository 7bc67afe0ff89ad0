{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month_index') }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
-- The inputs of the customer value models (SPEC section 9), one row per in-scope customer and
-- report month from the month of the customer's first core purchase: x (repeat occasions), t_x
-- and T in days and weeks, m_x (mean revenue of the repeat occasions). A purchase occasion is a
-- distinct day with a core line of positive quantity; its revenue is the revenue of those lines.
--
-- Point-in-time: the rows of month M are the snapshot windows' rows of M (which see no line dated
-- after M's last day) plus running sums of the occasions of months up to M.
--
-- Incremental (macros/crm_incremental.sql): a run recomputes the months from the first month
-- whose inputs changed; the occasions of older months enter as per-customer baselines, so the
-- rows are identical to a full refresh.
with

windows as (
    select
        customer_id,
        report_month,
        report_month_index,
        report_month_end,
        first_core_purchase_date,
        last_core_purchase_date
    from {{ ref('int_customer_months__windows') }}
    where
        first_core_purchase_date is not null
        and {{ crm_recompute_filter('report_month_index', changes) }}
),

lines as (
    select * from {{ ref('int_sales_lines__enriched') }}
    where is_crm_in_scope and crm_role = 'core' and quantity > 0
),

occasions as (
    select
        customer_id,
        invoice_date as occasion_date,
        invoice_month_index as month_index,
        sum(revenue) as occasion_revenue
    from lines
    group by customer_id, invoice_date, invoice_month_index
),

first_occasions as (
    select
        customer_id,
        min(occasion_date) as first_occasion_date
    from occasions
    group by customer_id
),

first_occasion_revenues as (
    select
        occasions.customer_id,
        occasions.occasion_revenue as first_occasion_revenue
    from occasions
    inner join first_occasions
        on
            occasions.customer_id = first_occasions.customer_id
            and occasions.occasion_date = first_occasions.first_occasion_date
),

occasion_months as (
    select
        customer_id,
        month_index,
        count(*) as occasions,
        sum(occasion_revenue) as occasion_revenue
    from occasions
    group by customer_id, month_index
),

output_range as (
    select min(report_month_index) as first_output_month_index
    from windows
),

baselines as (
    -- the occasions before the first recomputed month (none on a full build)
    select
        occasion_months.customer_id,
        sum(occasion_months.occasions) as occasions,
        sum(occasion_months.occasion_revenue) as occasion_revenue
    from occasion_months
    cross join output_range
    where occasion_months.month_index < output_range.first_output_month_index
    group by occasion_months.customer_id
),

month_occasions as (
    select
        windows.customer_id,
        windows.report_month,
        windows.report_month_index,
        windows.report_month_end,
        windows.first_core_purchase_date,
        windows.last_core_purchase_date,
        coalesce(occasion_months.occasions, 0) as occasions,
        coalesce(occasion_months.occasion_revenue, 0) as occasion_revenue
    from windows
    left join occasion_months
        on
            windows.customer_id = occasion_months.customer_id
            and windows.report_month_index = occasion_months.month_index
),

running as (
    select
        customer_id,
        report_month,
        report_month_index,
        report_month_end,
        first_core_purchase_date,
        last_core_purchase_date,
        sum(occasions) over customer_history as occasions,
        sum(occasion_revenue) over customer_history as occasion_revenue
    from month_occasions
    window customer_history as (
        partition by customer_id
        order by report_month_index
        rows between unbounded preceding and current row
    )
),

inputs as (
    select
        running.customer_id,
        running.report_month,
        running.report_month_index,
        running.first_core_purchase_date,
        running.last_core_purchase_date,
        running.occasions + coalesce(baselines.occasions, 0) - 1 as repeat_occasions,
        running.occasion_revenue + coalesce(baselines.occasion_revenue, 0)
        - first_occasion_revenues.first_occasion_revenue as repeat_revenue,
        {{ dbt.datediff('running.first_core_purchase_date', 'running.last_core_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('running.first_core_purchase_date', 'running.report_month_end', 'day') }} as age_days  -- noqa: LT05
    from running
    inner join first_occasion_revenues
        on running.customer_id = first_occasion_revenues.customer_id
    left join baselines
        on running.customer_id = baselines.customer_id
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(report_month as date) as report_month,
        cast(report_month_index as integer) as report_month_index,
        cast(first_core_purchase_date as date) as first_core_purchase_date,
        cast(last_core_purchase_date as date) as last_core_purchase_date,
        cast(repeat_occasions as integer) as x,
        cast(recency_days as integer) as recency_days,
        cast(age_days as integer) as age_days,
        cast(recency_days / 7.0 as double) as t_x_weeks,
        cast(age_days / 7.0 as double) as t_weeks,
        cast(repeat_revenue as decimal(18, 4)) as repeat_revenue,
        cast(case when repeat_occasions > 0 then repeat_revenue / repeat_occasions end as decimal(18, 4)) as m_x
    from inputs
)

select * from final
