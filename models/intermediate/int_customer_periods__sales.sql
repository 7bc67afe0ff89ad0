{{ config(
    materialized='incremental',
    incremental_strategy='crm_month_range',
    recompute_column='period_start',
    period_type_column='period_type',
    from_year_start=true
) }}
-- Sales of each customer per day, month, quarter and year (period_type), anonymous customers
-- included: the pre-aggregate of kpi_sales_by_period, which splits it by the customer's current
-- segment. orders: the invoices whose order this customer carries in the period (crm_order_carrier,
-- macros/crm_orders.sql: an invoice id shared by two customers counts once, for the first), so that
-- the sum over customers is the period's distinct invoices (SPEC section 7).
--
-- Incremental (macros/crm_incremental.sql): a run rewrites the periods that contain a month from
-- the first month whose inputs changed: each period (day, month, quarter, year) that holds it or
-- starts after it.
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

sales as (
    -- the clean lines fct_sales is built from (intermediates read staging or intermediates only)
    select * from {{ ref('int_sales_lines__enriched') }}
    where {{ crm_recompute_period_filter('year', 'invoice_date', changes) }}
),

invoice_dates as (
    -- invoices first: distinct invoices are then counted with count(*), much cheaper than
    -- count(distinct) over lines
    select
        customer_id,
        invoice_id,
        invoice_date,
        sum(revenue) as sales,
        sum(case when is_return then revenue else 0 end) as returns_revenue,
        sum(quantity) as quantity,
        sum(coalesce(units, 0)) as units,
        count(*) as lines
    from sales
    group by 1, 2, 3
),

shared_invoices as (
    -- invoice ids on lines of more than one customer (none in clean data): only their orders need
    -- the carrier window; every other customer-invoice row carries its invoice's order (1), which
    -- spares a window over every invoice of every period type
    select invoice_id
    from invoice_dates
    group by 1
    having min(customer_id) <> max(customer_id)
),

invoice_day_sums as (
    -- invoice_dates is already one row per customer, invoice and day
    select
        invoice_date as period_start,
        customer_id,
        invoice_id,
        sales,
        returns_revenue,
        quantity,
        units,
        lines
    from invoice_dates
    where {{ crm_recompute_period_filter('day', 'invoice_date', changes) }}
),

{%- for period in ['month', 'quarter', 'year'] %}

invoice_{{ period }}_sums as (
    select
        cast({{ dbt.date_trunc(period, 'invoice_date') }} as date) as period_start,
        customer_id,
        invoice_id,
        sum(sales) as sales,
        sum(returns_revenue) as returns_revenue,
        sum(quantity) as quantity,
        sum(units) as units,
        sum(lines) as lines
    from invoice_dates
    where {{ crm_recompute_period_filter(period, 'invoice_date', changes) }}
    group by 1, 2, 3
),

{%- endfor %}
{%- for period in ['day', 'month', 'quarter', 'year'] %}

invoice_{{ period }}s as (
    select
        sums.*,
        1 as carried_orders
    from invoice_{{ period }}_sums as sums
    left join shared_invoices
        on sums.invoice_id = shared_invoices.invoice_id
    where shared_invoices.invoice_id is null
    union all
    select
        sums.*,
        {{ crm_order_carrier('sums.customer_id', 'sums.invoice_id', ['sums.period_start']) }} as carried_orders
    from invoice_{{ period }}_sums as sums
    inner join shared_invoices
        on sums.invoice_id = shared_invoices.invoice_id
),
{%- endfor %}

periods as (
    {%- for period in ['day', 'month', 'quarter', 'year'] %}
    select
        '{{ period }}' as period_type,
        period_start,
        customer_id,
        sum(sales) as sales,
        sum(returns_revenue) as returns_revenue,
        sum(quantity) as quantity,
        sum(units) as units,
        sum(carried_orders) as orders,
        sum(lines) as lines
    from invoice_{{ period }}s
    group by 2, 3
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(period_type as {{ dbt.type_string() }}) as period_type,
        cast(period_start as date) as period_start,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(sales as decimal(18, 4)) as sales,
        cast(returns_revenue as decimal(18, 4)) as returns_revenue,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(units as decimal(18, 4)) as units,
        cast(orders as bigint) as orders,
        cast(lines as bigint) as lines
    from periods
)

select * from final
