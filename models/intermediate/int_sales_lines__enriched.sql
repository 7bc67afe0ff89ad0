-- Clean sales lines with the product's CRM role and units, and whether the customer is in CRM scope.
-- Units = quantity x unit_size, for core products only (SPEC section 3).
with

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

customers as (
    select * from {{ ref('int_customers__scoped') }}
),

enriched as (
    select
        lines.source_file,
        lines.source_row_number,
        lines.invoice_id,
        lines.customer_id,
        lines.invoice_date,
        {{ crm_month_index('lines.invoice_date') }} as invoice_month_index,
        lines.product_id,
        lines.store_id,
        products.crm_role,
        lines.quantity,
        lines.revenue,
        case
            when products.crm_role = 'core'
                then cast(lines.quantity * products.unit_size as decimal(18, 4))
        end as units,
        lines.quantity < 0 as is_return,
        lines.is_exact_duplicate,
        customers.is_crm_in_scope
    from lines
    inner join products
        on lines.product_id = products.product_id
    inner join customers
        on lines.customer_id = customers.customer_id
)

select * from enriched
