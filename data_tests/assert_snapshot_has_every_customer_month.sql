-- Invariant, checked on every build (not only on the months an incremental run rebuilt): every
-- in-scope customer has a snapshot row for every report month from the month they exist (SPEC
-- section 4), and every in-scope customer with a clean core purchase exists. Compares, per report
-- month, the rows of fct_customer_monthly_snapshot with the in-scope customers that exist by then
-- (uniqueness of customer x month is tested on the snapshot itself), so an empty or short
-- snapshot fails the build with the months and counts that are wrong.
with

calendar as (
    select * from {{ ref('int_report_months') }}
    where is_report_month
),

customers as (
    select * from {{ ref('int_customers__scoped') }}
    where is_crm_in_scope
),

activity as (
    select * from {{ ref('int_customer_months__activity') }}
),

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

customers_by_existence_month as (
    select
        exists_from_month_index,
        count(*) as customers
    from customers
    where exists_from_month_index is not null
    group by exists_from_month_index
),

existing_customers as (
    -- customers that exist by each calendar month (a running count over existence months)
    select
        calendar.report_month,
        coalesce(sum(customers_by_existence_month.customers), 0) as expected_rows
    from calendar
    left join customers_by_existence_month
        on calendar.report_month_index >= customers_by_existence_month.exists_from_month_index
    group by calendar.report_month
),

snapshot_rows as (
    select
        report_month,
        count(*) as snapshot_rows
    from snapshot
    group by report_month
),

month_counts as (
    select
        coalesce(existing_customers.report_month, snapshot_rows.report_month) as report_month,
        coalesce(existing_customers.expected_rows, 0) as expected_rows,
        coalesce(snapshot_rows.snapshot_rows, 0) as snapshot_rows
    from existing_customers
    full outer join snapshot_rows
        on existing_customers.report_month = snapshot_rows.report_month
),

core_buyers_without_existence as (
    select count(*) as customers
    from (
        select activity.customer_id
        from activity
        left join customers
            on activity.customer_id = customers.customer_id
        where
            activity.first_core_purchase_date is not null
            and (customers.customer_id is null or customers.exists_from_month_index is null)
        group by activity.customer_id
    ) as orphaned
),

final as (
    select
        report_month,
        expected_rows,
        snapshot_rows,
        'fct_customer_monthly_snapshot has ' || cast(snapshot_rows as {{ dbt.type_string() }})
        || ' rows for ' || cast(report_month as {{ dbt.type_string() }}) || ' but '
        || cast(expected_rows as {{ dbt.type_string() }})
        || ' in-scope customers exist by then (int_customers__scoped, int_report_months)' as explanation
    from month_counts
    where expected_rows != snapshot_rows
    union all
    select
        cast(null as date) as report_month,
        customers as expected_rows,
        0 as snapshot_rows,
        cast(customers as {{ dbt.type_string() }})
        || ' in-scope customers with a clean core purchase have no existence month in int_customers__scoped'
            as explanation
    from core_buyers_without_existence
    where customers > 0
)

select * from final
