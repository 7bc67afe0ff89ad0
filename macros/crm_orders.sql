{#-
    Orders (SPEC section 7: orders = invoices), the one definition every model that counts orders
    uses (kpi_monthly_board and its segment split, kpi_sales_by_period, kpi_sales_by_category):
    an order is an invoice id, counted once in each period (and group: category, brand, role) in
    which it has a clean line, whatever the number of its customers, dates or lines.

    crm_orders() counts them in an aggregate over sales lines. A model that first sums per customer
    and later sums those rows over customers (split by segment) marks with crm_order_carrier() the
    one customer row that carries each invoice's order, the smallest customer id on that invoice in
    the partition, so that the sum over customers equals crm_orders(): an invoice id shared by two
    customers counts once, in the segment of the first of them. Clean data (one customer per
    invoice) gives the same figures either way; the unit tests of kpi_sales_by_period and
    kpi_sales_by_category hold the case where it matters.
-#}
{% macro crm_orders(invoice_column='invoice_id') -%}
    count(distinct {{ invoice_column }})
{%- endmacro %}

{#- 1 on the row (one per customer and invoice within partition_columns) that carries the invoice's
    order, 0 on the others -#}
{% macro crm_order_carrier(customer_column, invoice_column, partition_columns) -%}
    case
        when {{ customer_column }} = min({{ customer_column }}) over (
            partition by {{ partition_columns | join(', ') }}, {{ invoice_column }}
        ) then 1
        else 0
    end
{%- endmacro %}
