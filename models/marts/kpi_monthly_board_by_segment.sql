-- Page 1 with a segment selected: the KPI board of kpi_monthly_board (same measures and changes,
-- macros/crm_kpi_board.sql) per report month and segment_label, a customer counting in its current
-- segment (dim_customers.segment_label: the latest segment, or Not Active / Anonymous), as the
-- segment slicer of Power BI and the sales marts kpi_sales_by_period / kpi_sales_by_category do.
-- Every segment of dim_rfm_segments has a row in every report month (0 when it has no customers).
-- Rebuilt every run: a customer's current segment changes with the latest month.
with

sales as (
    select * from {{ ref('fct_sales') }}
),

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

segments as (
    select * from {{ ref('dim_rfm_segments') }}
),

report_months as (
    select * from {{ ref('int_report_months') }}
    where is_report_month
),

sales_with_segment as (
    select
        sales.*,
        customers.segment_label,
        cast({{ dbt.date_trunc('month', 'sales.invoice_date') }} as date) as report_month
    from sales
    inner join customers
        on sales.customer_id = customers.customer_id
),

snapshot_with_segment as (
    select
        snapshot.*,
        customers.segment_label
    from snapshot
    inner join customers
        on snapshot.customer_id = customers.customer_id
),

monthly_sales as (
    select
        report_month,
        segment_label,
        {{ crm_board_sales_aggregates() }}
    from sales_with_segment
    group by report_month, segment_label
),

monthly_crm as (
    select
        report_month,
        segment_label,
        {{ crm_board_crm_aggregates() }}
    from snapshot_with_segment
    group by report_month, segment_label
),

board as (
    select
        report_months.report_month,
        report_months.report_month_index,
        report_months.is_history_complete,
        report_months.is_month_complete,
        report_months.data_as_of_date,
        segments.segment_label,
        {{ crm_board_measure_columns('monthly_sales', 'monthly_crm') }}
    from report_months
    cross join segments
    left join monthly_sales
        on
            report_months.report_month = monthly_sales.report_month
            and segments.segment_label = monthly_sales.segment_label
    left join monthly_crm
        on
            report_months.report_month = monthly_crm.report_month
            and segments.segment_label = monthly_crm.segment_label
),

compared as (
    select
        current_month.*,
        {{ crm_board_previous_columns() }}
    from board as current_month
    left join board as previous_month
        on
            current_month.report_month_index - 1 = previous_month.report_month_index
            and current_month.segment_label = previous_month.segment_label
    left join board as previous_year
        on
            current_month.report_month_index - 12 = previous_year.report_month_index
            and current_month.segment_label = previous_year.segment_label
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(segment_label as {{ dbt.type_string() }}) as segment_label,
        {{ crm_board_final_columns() }}
    from compared
)

select * from final
