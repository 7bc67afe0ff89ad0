-- Every calendar month from the first month of data (or the first report month, if earlier) to the
-- last report month, flagged is_report_month from the first report month on (SPEC section 5).
-- Defaults: the month of the first / latest clean invoice line; vars crm_first_report_month and
-- crm_last_report_month (YYYY-MM-01) override them. Months before the first report month are kept
-- so that the window aggregates of the first report months still see earlier purchases.
with

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

calendar_months as (
    {{ dbt.date_spine('month', "cast('2000-01-01' as date)", "cast('2101-01-01' as date)") }}
),

data_range as (
    select
        {% if var('crm_first_report_month') -%}
        {{ crm_month_index("cast('" ~ var('crm_first_report_month') ~ "' as date)") }}
        {%- else -%}
        min({{ crm_month_index('invoice_date') }})
        {%- endif %} as first_report_month_index,
        {% if var('crm_last_report_month') -%}
        {{ crm_month_index("cast('" ~ var('crm_last_report_month') ~ "' as date)") }}
        {%- else -%}
        max({{ crm_month_index('invoice_date') }})
        {%- endif %} as last_report_month_index,
        min({{ crm_month_index('invoice_date') }}) as first_data_month_index
    from lines
),

months as (
    select
        cast(calendar_months.date_month as date) as report_month,
        {{ crm_month_index('calendar_months.date_month') }} as report_month_index
    from calendar_months
),

final as (
    select
        months.report_month,
        months.report_month_index,
        {{ crm_month_end('months.report_month') }} as report_month_end,
        months.report_month_index >= data_range.first_report_month_index as is_report_month
    from months
    cross join data_range
    where months.report_month_index
        between least(data_range.first_report_month_index, data_range.first_data_month_index)
        and data_range.last_report_month_index
)

select * from final
