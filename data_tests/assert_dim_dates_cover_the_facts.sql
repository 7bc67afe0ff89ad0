-- Invariant, checked on every build: dim_dates is a gap-free calendar that covers every invoice
-- date of fct_sales and every report month (Power BI relates the facts to it; a fact date outside
-- it would silently drop from every date-sliced visual). Cheap: compares bounds and day counts.
with

dates as (
    select * from {{ ref('dim_dates') }}
),

sales as (
    select * from {{ ref('fct_sales') }}
),

calendar as (
    select * from {{ ref('int_report_months') }}
),

date_range as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as days,
        count(distinct date_day) as distinct_days
    from dates
),

needed as (
    select
        least(
            (select min(invoice_date) from sales), (select min(report_month) from calendar)
        ) as first_needed_day,
        greatest(
            (select max(invoice_date) from sales), (select max(report_month_end) from calendar)
        ) as last_needed_day
),

checks as (
    select
        needed.first_needed_day,
        needed.last_needed_day,
        date_range.first_day,
        date_range.last_day,
        date_range.days,
        date_range.distinct_days,
        case
            when needed.first_needed_day is not null and date_range.first_day is null
                then 'dim_dates is empty although fct_sales / the report months need dates'
            when
                needed.first_needed_day < date_range.first_day
                or needed.last_needed_day > date_range.last_day
                then 'dim_dates spans ' || cast(date_range.first_day as {{ dbt.type_string() }})
                    || ' to ' || cast(date_range.last_day as {{ dbt.type_string() }})
                    || ' but the facts need ' || cast(needed.first_needed_day as {{ dbt.type_string() }})
                    || ' to ' || cast(needed.last_needed_day as {{ dbt.type_string() }})
            when
                date_range.days != date_range.distinct_days
                or date_range.days != {{ dbt.datediff('date_range.first_day', 'date_range.last_day', 'day') }} + 1  -- noqa: LT05
                then 'dim_dates has gaps or repeated days: ' || cast(date_range.days as {{ dbt.type_string() }})
                    || ' rows between ' || cast(date_range.first_day as {{ dbt.type_string() }})
                    || ' and ' || cast(date_range.last_day as {{ dbt.type_string() }})
        end as explanation
    from needed
    cross join date_range
)

select * from checks
where explanation is not null
