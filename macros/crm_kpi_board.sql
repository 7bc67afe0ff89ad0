{#-
    The KPI board's measures (SPEC section 7), defined once for kpi_monthly_board (one row per report
    month) and kpi_monthly_board_by_segment (one row per report month and segment_label):
      sales               sum of net revenue of every clean line (returns negative)
      orders              distinct invoices (crm_orders, macros/crm_orders.sql)
      buying_customers    distinct customers with a line of positive quantity
      crm_customers       snapshot rows (in-scope customers that exist in the month)
      active_customers    ... with activity_status Active
      new / lost / reactivated_customers   ... with that lifecycle_event
      average_order_value sales / orders (null without orders)
      sales_per_customer  sales / buying_customers (null without buyers)
    and each measure's change against the month before (_mom_change) and the same month a year
    before (_yoy_change): value / earlier value - 1, null when the earlier month is missing or 0.
-#}
{% macro crm_board_measures() -%}
    {#- var crm_board_measures (dbt_project.yml): [column, label, kind] in board order; the app reads it too -#}
    {%- set columns = [] -%}
    {%- for measure in var('crm_board_measures') -%}
        {%- do columns.append(measure[0]) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- aggregates of sales lines (fct_sales columns), grouped by the caller -#}
{% macro crm_board_sales_aggregates() -%}
    sum(revenue) as sales,
        {{ crm_orders('invoice_id') }} as orders,
        count(distinct case when quantity > 0 then customer_id end) as buying_customers
{%- endmacro %}

{#- aggregates of snapshot rows (fct_customer_monthly_snapshot columns), grouped by the caller -#}
{% macro crm_board_crm_aggregates() -%}
    sum(case when activity_status = 'Active' then 1 else 0 end) as active_customers,
        sum(case when lifecycle_event = 'New' then 1 else 0 end) as new_customers,
        sum(case when lifecycle_event = 'Lost' then 1 else 0 end) as lost_customers,
        sum(case when lifecycle_event = 'Reactivated' then 1 else 0 end) as reactivated_customers,
        count(*) as crm_customers
{%- endmacro %}

{#- the board's measures from the two aggregates (left-joined: a month without rows counts 0) -#}
{% macro crm_board_measure_columns(monthly_sales, monthly_crm) -%}
    coalesce({{ monthly_sales }}.sales, 0) as sales,
        coalesce({{ monthly_sales }}.orders, 0) as orders,
        coalesce({{ monthly_sales }}.buying_customers, 0) as buying_customers,
        coalesce({{ monthly_crm }}.crm_customers, 0) as crm_customers,
        coalesce({{ monthly_crm }}.active_customers, 0) as active_customers,
        coalesce({{ monthly_crm }}.new_customers, 0) as new_customers,
        coalesce({{ monthly_crm }}.lost_customers, 0) as lost_customers,
        coalesce({{ monthly_crm }}.reactivated_customers, 0) as reactivated_customers,
        {{ crm_ratio(monthly_sales ~ '.sales', 'nullif(' ~ monthly_sales ~ '.orders, 0)') }} as average_order_value,
        {{ crm_ratio(monthly_sales ~ '.sales', 'nullif(' ~ monthly_sales ~ '.buying_customers, 0)') }} as sales_per_customer
{%- endmacro %}

{#- each measure of the month before and of the same month a year before (board aliases
    current_month, previous_month, previous_year) -#}
{% macro crm_board_previous_columns() -%}
    {%- for measure in crm_board_measures() %}
        previous_month.{{ measure }} as {{ measure }}_previous_month,
        previous_year.{{ measure }} as {{ measure }}_previous_year{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- the typed measures and their changes, read from the compared CTE -#}
{% macro crm_board_final_columns() -%}
    cast(sales as decimal(18, 4)) as sales,
        cast(orders as bigint) as orders,
        cast(buying_customers as bigint) as buying_customers,
        cast(crm_customers as bigint) as crm_customers,
        cast(active_customers as bigint) as active_customers,
        cast(new_customers as bigint) as new_customers,
        cast(lost_customers as bigint) as lost_customers,
        cast(reactivated_customers as bigint) as reactivated_customers,
        cast(average_order_value as decimal(18, 4)) as average_order_value,
        cast(sales_per_customer as decimal(18, 4)) as sales_per_customer,
        is_history_complete,
        is_month_complete,
        data_as_of_date,
    {%- for measure in crm_board_measures() %}
        cast({{ crm_ratio(measure, 'nullif(' ~ measure ~ '_previous_month, 0)') }} - 1 as double) as {{ measure }}_mom_change,
        cast({{ crm_ratio(measure, 'nullif(' ~ measure ~ '_previous_year, 0)') }} - 1 as double) as {{ measure }}_yoy_change
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
