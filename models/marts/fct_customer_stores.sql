-- Campaign lists (app page and scripts/campaign_list.py --store): one row per customer and store
-- where the customer bought (a purchase line, not a return), with the date of the first purchase
-- there. "Bought in the store up to the end of the report month" is first_purchase_date <= the
-- month's last day: the list reads this mart instead of searching fct_sales at view time.
with

sales as (
    select * from {{ ref('fct_sales') }}
    where store_id is not null and not is_return
),

first_purchases as (
    select
        customer_id,
        store_id,
        min(invoice_date) as first_purchase_date
    from sales
    group by customer_id, store_id
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(first_purchase_date as date) as first_purchase_date
    from first_purchases
)

select * from final
