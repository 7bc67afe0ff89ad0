-- Calendar days from the first of January of the first year of data (or report months) to
-- the 31st of December of the year of the last invoice (or report month): day, ISO week, month,
-- quarter and year attributes for BI. The spine is sized by those bounds, read from the data.
with

report_months as (
    select * from {{ ref('int_report_months') }}
),

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

report_range as (
    select
        min(report_month) as first_month,
        max(report_month) as last_month
    from report_months
),

line_range as (
    select
        min(invoice_date) as first_day,
        max(invoice_date) as last_day
    from lines
),

bounds as (
    select
        cast({{ dbt.date_trunc('year', 'least(report_range.first_month, line_range.first_day)') }} as date)
            as first_day,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, dbt.date_trunc('year',
            'greatest(report_range.last_month, line_range.last_day)'))) }} as date) as last_day
    from report_range
    cross join line_range
),

day_offsets as (
    -- sized by the data's own bounds: no calendar bound is written here
    {{ crm_integer_series('0', dbt.datediff('first_day', 'last_day', 'day'), 'bounds') }}
),

in_range as (
    select cast({{ dbt.dateadd('day', 'day_offsets.series_value', 'bounds.first_day') }} as date) as date_day
    from day_offsets
    cross join bounds
),

final as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ crm_date_label('date_day', 'iso_day_of_week') }} as integer) as iso_day_of_week,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start_date,
        cast({{ crm_date_label('date_day', 'year_month') }} as {{ dbt.type_string() }}) as year_month,
        cast(
            extract(year from date_day) || '-Q' || extract(quarter from date_day) as {{ dbt.type_string() }}
        ) as year_quarter,
        cast({{ crm_date_label('date_day', 'month_name') }} as {{ dbt.type_string() }}) as month_name,
        cast({{ crm_date_label('date_day', 'day_name') }} as {{ dbt.type_string() }}) as day_name
    from in_range
)

select * from final
