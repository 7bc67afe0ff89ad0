{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
-- Score bands: for every report month, RFMT dimension and score, the lowest and highest measure and
-- the number of customers, so that every score is explainable to a business user. A score with no
-- row in a month is an empty bin (a measure dominated by ties collapses bins).
-- Incremental (macros/crm_incremental.sql): a run rewrites the months from the first month whose inputs changed.
{%- set dimensions = [
    ('R', 'recency_days', 'recency_score', 'days since the last core purchase'),
    ('F', 'frequency_orders', 'frequency_score', 'core orders in 12 months'),
    ('M', 'monetary_value', 'monetary_score', var('crm_monetary_measure') ~ ' in 12 months'),
    ('T', 'tenure_months', 'tenure_score', 'months since the first core purchase'),
] %}
{%- set changes = crm_changes(ref('int_build_changes')) %}
with

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
    where activity_status = 'Active' and {{ crm_recompute_date_filter('report_month', changes) }}
),

bands as (
    {%- for dimension, measure, score, meaning in dimensions %}
    select
        report_month,
        is_history_complete,
        is_month_complete,
        data_as_of_date,
        '{{ dimension }}' as dimension,
        '{{ meaning }}' as measure_name,
        {{ score }} as score,
        min({{ measure }}) as lowest_measure,
        max({{ measure }}) as highest_measure,
        count(*) as customers
    from snapshot
    group by report_month, is_history_complete, is_month_complete, data_as_of_date, {{ score }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(measure_name as {{ dbt.type_string() }}) as measure_name,
        cast(score as integer) as score,
        cast(lowest_measure as decimal(18, 4)) as lowest_measure,
        cast(highest_measure as decimal(18, 4)) as highest_measure,
        cast(customers as bigint) as customers,
        is_history_complete,
        is_month_complete,
        data_as_of_date
    from bands
)

select * from final
