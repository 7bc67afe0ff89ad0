-- Page 5, sales by business category and brand per month, split by the customer's current
-- segment_label so that a segment selection filters it.
with

sales as (
    select * from {{ ref('fct_sales') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

aggregated as (
    select
        cast({{ dbt.date_trunc('month', 'sales.invoice_date') }} as date) as sales_month,
        products.category,
        products.brand,
        products.crm_role,
        customers.segment_label,
        sum(sales.revenue) as sales,
        sum(sales.quantity) as quantity,
        sum(coalesce(sales.units, 0)) as units,
        count(distinct sales.invoice_id) as orders,
        count(distinct sales.customer_id) as customers
    from sales
    inner join products
        on sales.product_id = products.product_id
    inner join customers
        on sales.customer_id = customers.customer_id
    group by 1, 2, 3, 4, 5
),

final as (
    select
        cast(sales_month as date) as sales_month,
        cast(category as varchar) as category,
        cast(coalesce(brand, '(no brand)') as varchar) as brand,
        cast(crm_role as varchar) as crm_role,
        cast(segment_label as varchar) as segment_label,
        cast(sales as decimal(18, 4)) as sales,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(units as decimal(18, 4)) as units,
        cast(orders as bigint) as orders,
        cast(customers as bigint) as customers
    from aggregated
)

select * from final
