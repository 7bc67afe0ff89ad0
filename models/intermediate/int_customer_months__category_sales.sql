{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='sales_month') }}
-- Sales of each customer per month and product category, brand and role, anonymous customers
-- included: the pre-aggregate of kpi_sales_by_category, which splits it by the customer's current
-- segment. orders: the invoices whose order this customer carries in the month and group
-- (crm_order_carrier, macros/crm_orders.sql: an invoice id shared by two customers counts once), so
-- that the sum over customers is the group's distinct invoices (SPEC section 7).
--
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose
-- inputs changed.
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

sales as (
    -- the clean lines fct_sales is built from (intermediates read staging or intermediates only)
    select * from {{ ref('int_sales_lines__enriched') }}
    where {{ crm_recompute_date_filter('invoice_date', changes) }}
),

products as (
    -- the clean products dim_products is built from
    select * from {{ ref('stg_crm__products') }}
),

invoice_groups as (
    -- invoices first: distinct invoices are then counted with count(*)
    select
        cast({{ dbt.date_trunc('month', 'sales.invoice_date') }} as date) as sales_month,
        products.category,
        coalesce(products.brand, '(no brand)') as brand,
        products.crm_role,
        sales.customer_id,
        sales.invoice_id,
        sum(sales.revenue) as sales,
        sum(sales.quantity) as quantity,
        sum(coalesce(sales.units, 0)) as units
    from sales
    inner join products
        on sales.product_id = products.product_id
    group by 1, 2, 3, 4, 5, 6
),

carried_invoices as (
    select
        *,
        {{ crm_order_carrier('customer_id', 'invoice_id', ['sales_month', 'category', 'brand', 'crm_role']) }}
            as carried_orders
    from invoice_groups
),

aggregated as (
    select
        sales_month,
        category,
        brand,
        crm_role,
        customer_id,
        sum(sales) as sales,
        sum(quantity) as quantity,
        sum(units) as units,
        sum(carried_orders) as orders
    from carried_invoices
    group by 1, 2, 3, 4, 5
),

final as (
    select
        cast(sales_month as date) as sales_month,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(crm_role as {{ dbt.type_string() }}) as crm_role,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(sales as decimal(18, 4)) as sales,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(units as decimal(18, 4)) as units,
        cast(orders as bigint) as orders
    from aggregated
)

select * from final
