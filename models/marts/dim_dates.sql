-- Calendar days from the first of January of the first year of data (or report months) to
-- the 31st of December of the year of the last invoice (or report month): day, ISO week, month,
-- quarter and year attributes for BI.
with

report_months as (
    select * from {{ ref('int_report_months') }}
),

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

bounds as (
    select
        least(
            (select min(report_month) from report_months), (select min(invoice_date) from lines)
        ) as first_month,
        greatest(
            (select max(report_month) from report_months), (select max(invoice_date) from lines)
        ) as last_month
),

days as (
    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2101-01-01' as date)") }}
),

in_range as (
    select cast(days.date_day as date) as date_day
    from days
    cross join bounds
    where
        extract(year from days.date_day) >= extract(year from bounds.first_month)
        and extract(year from days.date_day) <= extract(year from bounds.last_month)
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
        cast({{ crm_date_label('date_day', 'year_month') }} as varchar) as year_month,
        cast(extract(year from date_day) || '-Q' || extract(quarter from date_day) as varchar) as year_quarter,
        cast({{ crm_date_label('date_day', 'month_name') }} as varchar) as month_name,
        cast({{ crm_date_label('date_day', 'day_name') }} as varchar) as day_name
    from in_range
)

select * from final
