-- Every calendar month from the first month of data (or the first report month, if earlier) to
-- the last report month, flagged is_report_month from the first report month on (SPEC section 5).
-- Defaults: the month of the first / latest clean invoice line; vars crm_first_report_month and
-- crm_last_report_month (YYYY-MM-01) override them. Months before the first report month are kept
-- so that the window aggregates of the first report months still see earlier purchases.
--
-- The spine is generated from the data's own bounds (no calendar bound is written here), so data
-- of any era builds. is_history_complete is false while the longest window (m25: the report month
-- and the 24 months before it) still reaches before the first month of data.
--
-- Month to date (SPEC section 13), the one home of the rule: the data reaches data_as_of, the date
-- of the latest clean invoice line, or the var crm_data_as_of when it is later (the extract is
-- known to be complete up to that day). A month is complete once the data reaches its last day:
-- data_as_of >= the month's last day (a line dated on it or in a later month, or the var). Each
-- month's data_as_of_date is the date its figures reach: its last day once complete, else data_as_of.
with

lines as (
    select * from {{ ref('stg_crm__sales_transactions') }}
),

data_range as (
    select
        {% if var('crm_first_report_month') -%}
        cast('{{ var("crm_first_report_month") }}' as date)
        {%- else -%}
        cast({{ dbt.date_trunc('month', 'min(invoice_date)') }} as date)
        {%- endif %} as first_report_month,
        {% if var('crm_last_report_month') -%}
        cast('{{ var("crm_last_report_month") }}' as date)
        {%- else -%}
        cast({{ dbt.date_trunc('month', 'max(invoice_date)') }} as date)
        {%- endif %} as last_report_month,
        cast({{ dbt.date_trunc('month', 'min(invoice_date)') }} as date) as first_data_month,
        {% if var('crm_data_as_of') -%}
        greatest(max(invoice_date), cast('{{ var("crm_data_as_of") }}' as date))
        {%- else -%}
        max(invoice_date)
        {%- endif %} as data_as_of
    from lines
),

calendar_range as (
    select
        first_report_month,
        last_report_month,
        first_data_month,
        data_as_of,
        least(first_report_month, coalesce(first_data_month, first_report_month)) as first_calendar_month
    from data_range
),

month_offsets as (
    {{ crm_integer_series('0', dbt.datediff('first_calendar_month', 'last_report_month', 'month'), 'calendar_range') }}
),

months as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.series_value', 'calendar_range.first_calendar_month') }} as date)
            as report_month,
        calendar_range.first_report_month,
        calendar_range.first_data_month,
        calendar_range.data_as_of
    from month_offsets
    cross join calendar_range
),

months_with_end as (
    select
        *,
        {{ crm_month_end('report_month') }} as report_month_end
    from months
),

final as (
    select
        report_month,
        {{ crm_month_index('report_month') }} as report_month_index,
        report_month_end,
        report_month >= first_report_month as is_report_month,
        coalesce(
            {{ dbt.datediff('first_data_month', 'report_month', 'month') }} >= 24, false  -- noqa: LT05
        ) as is_history_complete,
        coalesce(data_as_of >= report_month_end, false) as is_month_complete,
        cast(
            case when data_as_of >= report_month_end then report_month_end else data_as_of end as date
        ) as data_as_of_date
    from months_with_end
)

select * from final
