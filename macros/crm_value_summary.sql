{#-
    Customer value per report month and group (segment or tier) of the CRM snapshot (SPEC section 9):
    customers with a value row (at least one core purchase), mean P(alive), sum and mean of clv_12m,
    and the expected repeat occasions in the next 12 months. Customers without a group (Not Active)
    form the group `Not Active`. Incremental like the snapshot.
-#}
{% macro crm_value_summary(group_column, group_label, changes) %}
with

customer_value as (
    select * from {{ ref('fct_customer_value') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

snapshot as (
    select
        customer_id,
        report_month,
        {{ group_column }}
    from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

grouped as (
    select
        customer_value.report_month,
        coalesce(snapshot.{{ group_column }}, {{ crm_not_active() }}) as {{ group_label }},
        count(*) as customers,
        avg(customer_value.p_alive) as mean_p_alive,
        sum(customer_value.clv_12m) as clv_12m,
        avg(customer_value.clv_12m) as mean_clv_12m,
        sum(customer_value.expected_occasions_12m) as expected_occasions_12m
    from customer_value
    inner join snapshot
        on
            customer_value.customer_id = snapshot.customer_id
            and customer_value.report_month = snapshot.report_month
    group by customer_value.report_month, coalesce(snapshot.{{ group_column }}, {{ crm_not_active() }})
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

grouped_with_calendar as (
    -- the month's month-to-date flags (SPEC section 13, int_report_months)
    select
        grouped.*,
        calendar.is_month_complete,
        calendar.data_as_of_date
    from grouped
    inner join calendar
        on grouped.report_month = calendar.report_month
),

final as (
    select
        cast(report_month as date) as report_month,
        cast({{ group_label }} as {{ dbt.type_string() }}) as {{ group_label }},
        cast(customers as bigint) as customers,
        cast(mean_p_alive as double) as mean_p_alive,
        cast(clv_12m as decimal(18, 4)) as clv_12m,
        cast(mean_clv_12m as decimal(18, 4)) as mean_clv_12m,
        cast(clv_12m / nullif(sum(clv_12m) over (partition by report_month), 0) as double) as share_of_clv_12m,
        cast(expected_occasions_12m as double) as expected_occasions_12m,
        is_month_complete,
        data_as_of_date
    from grouped_with_calendar
)

select * from final
{% endmacro %}
