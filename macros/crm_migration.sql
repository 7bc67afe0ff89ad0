{#-
    Month-to-month migration of a snapshot attribute (segment or tier): for every report month,
    customers by (state in the previous month -> state in this month). A customer Not Active in a
    month is in state `Not Active`; a customer without a row in the previous month (it did not
    exist yet, or the month is the first report month) comes from `Not in base`.
    by_column (optional, e.g. rfm_segment): split by the customer's value of that column in this
    month (`Not Active` when null), e.g. tier migration of each segment's members.
-#}
{% macro crm_migration(column, by_column=none, changes=none) %}
with

current_snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes) }}
),

previous_snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where {{ crm_recompute_date_filter('report_month', changes, lookback_months=1) }}
),

moves as (
    select
        current_month.report_month,
        {%- if by_column %}
        coalesce(current_month.{{ by_column }}, {{ crm_not_active() }}) as {{ by_column }},
        {%- endif %}
        coalesce(previous_month.{{ column }}, case when previous_month.customer_id is not null then {{ crm_not_active() }} end, 'Not in base')
            as from_{{ column }},
        coalesce(current_month.{{ column }}, {{ crm_not_active() }}) as to_{{ column }}
    from current_snapshot as current_month
    left join previous_snapshot as previous_month
        on
            current_month.customer_id = previous_month.customer_id
            and previous_month.report_month = {{ dbt.dateadd('month', -1, 'current_month.report_month') }}
),

migrations as (
    select
        cast(report_month as date) as report_month,
        {%- if by_column %}
        cast({{ by_column }} as {{ dbt.type_string() }}) as {{ by_column }},
        {%- endif %}
        cast(from_{{ column }} as {{ dbt.type_string() }}) as from_{{ column }},
        cast(to_{{ column }} as {{ dbt.type_string() }}) as to_{{ column }},
        cast(count(*) as bigint) as customers
    from moves
    group by report_month, {{ by_column ~ ', ' if by_column }}from_{{ column }}, to_{{ column }}
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

final as (
    select
        migrations.*,
        calendar.is_history_complete,
        calendar.is_month_complete,
        calendar.data_as_of_date
    from migrations
    inner join calendar
        on migrations.report_month = calendar.report_month
)

select * from final
{% endmacro %}
