-- Page 4, sales trend: sales by day, month, quarter and year (period_type), split by the customer's
-- current segment_label (dim_customers) so that a segment selection filters the trend too. Rebuilt
-- every run (a customer's current segment changes every month) from the per-customer period sums
-- of int_customer_periods__sales. Orders are the period's distinct invoices (macros/crm_orders.sql):
-- an invoice number used by two customers counts once, in the segment of the first of them.
with

customer_periods as (
    select * from {{ ref('int_customer_periods__sales') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

periods as (
    select
        customer_periods.period_type,
        customer_periods.period_start,
        customers.segment_label,
        sum(customer_periods.sales) as sales,
        sum(customer_periods.returns_revenue) as returns_revenue,
        sum(customer_periods.quantity) as quantity,
        sum(customer_periods.units) as units,
        sum(customer_periods.orders) as orders,
        count(*) as customers,
        sum(customer_periods.lines) as lines
    from customer_periods
    inner join customers
        on customer_periods.customer_id = customers.customer_id
    group by customer_periods.period_type, customer_periods.period_start, customers.segment_label
),

final as (
    select
        cast(period_type as {{ dbt.type_string() }}) as period_type,
        cast(period_start as date) as period_start,
        cast(segment_label as {{ dbt.type_string() }}) as segment_label,
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
