-- One row per clean customer: anonymous (walk-in) or in CRM scope, and the month from which the
-- customer exists (SPEC section 4): the earlier of the creation month and the month of the first
-- purchase of any product (a line with positive quantity).
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

anonymous_groups as (
    select * from {{ ref('anonymous_customer_groups') }}
),

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

first_purchases as (
    select
        customer_id,
        min(case when quantity > 0 then invoice_date end) as first_purchase_date,
        min(invoice_date) as first_line_date
    from lines
    group by customer_id
),

scoped as (
    select
        customers.customer_id,
        customers.customer_group,
        customers.created_date,
        first_purchases.first_purchase_date,
        first_purchases.first_line_date,
        anonymous_groups.customer_group is not null as is_anonymous,
        anonymous_groups.customer_group is null as is_crm_in_scope,
        {{ crm_month_index('customers.created_date') }} as created_month_index,
        {{ crm_month_index('first_purchases.first_purchase_date') }} as first_purchase_month_index,
        {{ crm_month_index('first_purchases.first_line_date') }} as first_line_month_index
    from customers
    left join anonymous_groups
        on lower(customers.customer_group) = lower(anonymous_groups.customer_group)
    left join first_purchases
        on customers.customer_id = first_purchases.customer_id
),

final as (
    select
        *,
        case
            when created_month_index is null then first_purchase_month_index
            when first_purchase_month_index is null then created_month_index
            else least(created_month_index, first_purchase_month_index)
        end as exists_from_month_index
    from scoped
)

select * from final
