-- Invariant, checked on every build: the report-month calendar is never silently empty or short.
-- Fails when there are clean lines but no report month, or when a month holding clean lines (up
-- to the last report month) is missing from int_report_months. Each failing row explains itself.
with

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

line_months as (
    select
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as line_month,
        count(*) as clean_lines
    from lines
    group by cast({{ dbt.date_trunc('month', 'invoice_date') }} as date)
),

calendar_summary as (
    select
        count(*) as calendar_months,
        coalesce(sum(case when is_report_month then 1 else 0 end), 0) as report_months,
        max(report_month) as last_report_month
    from calendar
),

missing_months as (
    select
        line_months.line_month,
        line_months.clean_lines
    from line_months
    cross join calendar_summary
    left join calendar
        on line_months.line_month = calendar.report_month
    where
        calendar.report_month is null
        and calendar_summary.report_months > 0
        and line_months.line_month <= calendar_summary.last_report_month
),

no_report_month as (
    select
        cast(null as date) as line_month,
        (select sum(line_months.clean_lines) from line_months) as clean_lines,
        'no report month at all although there are clean lines: check vars crm_first_report_month and '
        || 'crm_last_report_month (YYYY-MM-01, first <= last) and int_report_months' as explanation
    from calendar_summary
    where calendar_summary.report_months = 0 and exists (select 1 from line_months)
),

final as (
    select * from no_report_month
    union all
    select
        line_month,
        clean_lines,
        'month ' || cast(line_month as {{ dbt.type_string() }}) || ' holds '
        || cast(clean_lines as {{ dbt.type_string() }})
        || ' clean lines but is missing from the report-month calendar int_report_months' as explanation
    from missing_months
)

select * from final
