-- One row per in-scope customer with a core purchase up to the last report month: the acquisition
-- cohort (SPEC section 10), the month of the customer's first core purchase (a core line with
-- positive quantity). The one home of the cohort rule: dim_customers.cohort_month and
-- kpi_cohort_retention both read it.
with

activity as (
    select * from {{ ref('int_customer_months__activity') }}
),

report_months as (
    select * from {{ ref('int_report_months') }}
),

last_report_month as (
    select max(report_month_index) as last_report_month_index
    from report_months
),

first_core_purchases as (
    select
        activity.customer_id,
        min(activity.first_core_purchase_date) as first_core_purchase_date
    from activity
    cross join last_report_month
    where
        activity.first_core_purchase_date is not null
        and activity.month_index <= last_report_month.last_report_month_index
    group by activity.customer_id
),

final as (
    select
        customer_id,
        first_core_purchase_date,
        cast({{ dbt.date_trunc('month', 'first_core_purchase_date') }} as date) as cohort_month,
        {{ crm_month_index('first_core_purchase_date') }} as cohort_month_index
    from first_core_purchases
)

select * from final
