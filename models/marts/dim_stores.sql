-- The stores of the sales (fct_sales.store_id), for the store filter of the campaign lists: one row
-- per store with its first and last purchase date and the customers who bought there (purchase lines,
-- not returns). The app lists the filter's choices from this small table.
with

sales as (
    select * from {{ ref('fct_sales') }}
    where store_id is not null
),

stores as (
    select
        store_id,
        min(invoice_date) as first_sale_date,
        max(invoice_date) as last_sale_date,
        count(distinct case when not is_return then customer_id end) as buying_customers
    from sales
    group by store_id
),

final as (
    select
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(first_sale_date as date) as first_sale_date,
        cast(last_sale_date as date) as last_sale_date,
        cast(buying_customers as bigint) as buying_customers
    from stores
)

select * from final
