-- Page 4, sales trend: sales by day, month, quarter and year (period_type), split by the customer's
-- current segment_label (dim_customers) so that a segment selection filters the trend too.
with

sales as (
    select * from {{ ref('fct_sales') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

lines as (
    select
        sales.invoice_date,
        sales.invoice_id,
        sales.customer_id,
        sales.revenue,
        sales.quantity,
        sales.units,
        sales.is_return,
        customers.segment_label
    from sales
    inner join customers
        on sales.customer_id = customers.customer_id
),

periods as (
    {%- for period in ['day', 'month', 'quarter', 'year'] %}
    select
        '{{ period }}' as period_type,
        cast({{ dbt.date_trunc(period, 'invoice_date') }} as date) as period_start,
        segment_label,
        sum(revenue) as sales,
        sum(case when is_return then revenue else 0 end) as returns_revenue,
        sum(quantity) as quantity,
        sum(coalesce(units, 0)) as units,
        count(distinct invoice_id) as orders,
        count(distinct customer_id) as customers,
        count(*) as lines
    from lines
    group by 1, 2, 3
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(period_type as varchar) as period_type,
        cast(period_start as date) as period_start,
        cast(segment_label as varchar) as segment_label,
        cast(sales as decimal(18, 4)) as sales,
        cast(returns_revenue as decimal(18, 4)) as returns_revenue,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(units as decimal(18, 4)) as units,
        cast(orders as bigint) as orders,
        cast(customers as bigint) as customers,
        cast(lines as bigint) as lines
    from periods
)

select * from final
