{#-
    Customers and sales per report month and group (segment or tier) of the CRM snapshot, with
    shares of the month's in-scope customers and of their sales. Customers without a group (Not
    Active) form the group `Not Active`, so the shares of a month add up to 1.
-#}
{% macro crm_group_summary(group_column, group_label, changes) %}
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

grouped as (
    select
        report_month,
        coalesce({{ group_column }}, {{ crm_not_active() }}) as {{ group_label }},
        count(*) as customers,
        sum(sales_month) as sales_month,
        sum(sales_12m) as sales_12m,
        sum(m12) as units_12m
    from snapshot
    group by report_month, coalesce({{ group_column }}, {{ crm_not_active() }})
),

summarised as (
    select
        cast(report_month as date) as report_month,
        cast({{ group_label }} as {{ dbt.type_string() }}) as {{ group_label }},
        cast(customers as bigint) as customers,
        cast(
            {{ crm_ratio('customers * 1.0', 'sum(customers) over (partition by report_month)') }} as double
        ) as share_of_customers,
        cast(sales_month as decimal(18, 4)) as sales_month,
        cast({{ crm_ratio('sales_month', 'nullif(sum(sales_month) over (partition by report_month), 0)') }} as double)
            as share_of_sales_month,
        cast(sales_12m as decimal(18, 4)) as sales_12m,
        cast({{ crm_ratio('sales_12m', 'nullif(sum(sales_12m) over (partition by report_month), 0)') }} as double)
            as share_of_sales_12m,
        cast(units_12m as decimal(18, 4)) as units_12m
    from grouped
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

final as (
    select
        summarised.*,
        calendar.is_history_complete,
        calendar.is_month_complete,
        calendar.data_as_of_date
    from summarised
    inner join calendar
        on summarised.report_month = calendar.report_month
)

select * from final
{% endmacro %}
