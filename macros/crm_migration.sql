{#-
    Month-to-month migration of a snapshot attribute (segment or tier): for every report month,
    customers by (state in the previous month -> state in this month). A customer Not Active in a
    month is in state `Not Active`; a customer without a row in the previous month (it did not
    exist yet, or the month is the first report month) comes from `Not in base`.
-#}
{% macro crm_migration(column) %}
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

moves as (
    select
        current_month.report_month,
        coalesce(previous_month.{{ column }}, case when previous_month.customer_id is not null then 'Not Active' end, 'Not in base')
            as from_{{ column }},
        coalesce(current_month.{{ column }}, 'Not Active') as to_{{ column }}
    from snapshot as current_month
    left join snapshot as previous_month
        on
            current_month.customer_id = previous_month.customer_id
            and previous_month.report_month = {{ dbt.dateadd('month', -1, 'current_month.report_month') }}
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(from_{{ column }} as varchar) as from_{{ column }},
        cast(to_{{ column }} as varchar) as to_{{ column }},
        cast(count(*) as bigint) as customers
    from moves
    group by report_month, from_{{ column }}, to_{{ column }}
)

select * from final
{% endmacro %}
