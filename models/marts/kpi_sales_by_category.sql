-- Page 5, sales by business category and brand per month, split by the customer's current
-- segment_label so that a segment selection filters it. Rebuilt every run (a customer's current
-- segment changes every month) from the per-customer sums of int_customer_months__category_sales.
-- Orders are the group's distinct invoices (macros/crm_orders.sql), in the segment of the first customer.
with

customer_sales as (
    select * from {{ ref('int_customer_months__category_sales') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

aggregated as (
    select
        customer_sales.sales_month,
        customer_sales.category,
        customer_sales.brand,
        customer_sales.crm_role,
        customers.segment_label,
        sum(customer_sales.sales) as sales,
        sum(customer_sales.quantity) as quantity,
        sum(customer_sales.units) as units,
        sum(customer_sales.orders) as orders,
        count(*) as customers
    from customer_sales
    inner join customers
        on customer_sales.customer_id = customers.customer_id
    group by 1, 2, 3, 4, 5
),

final as (
    select
        cast(sales_month as date) as invoice_month,
        -- deprecated name of invoice_month (a date, while sales_month is money in the snapshot and the
        -- segment and tier summaries): kept for existing reports
        cast(sales_month as date) as sales_month,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(crm_role as {{ dbt.type_string() }}) as crm_role,
        cast(segment_label as {{ dbt.type_string() }}) as segment_label,
        cast(sales as decimal(18, 4)) as sales,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(units as decimal(18, 4)) as units,
        cast(orders as bigint) as orders,
        cast(customers as bigint) as customers
    from aggregated
)

select * from final
