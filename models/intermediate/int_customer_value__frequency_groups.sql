{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month_index') }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
-- The customer value inputs grouped for the BG/NBD and MBG/NBD fits and scores: one row per report
-- month and distinct (x, t_x, T) triple (t_x and T in whole days), with the number of customers as
-- its weight. Customers with equal inputs get equal predictions, so the Python models fit and score
-- the triples, not the customers (a million customers collapse to a few hundred thousand triples).
-- Incremental like int_customer_value__inputs (the same months are recomputed).
with

inputs as (
    select * from {{ ref('int_customer_value__inputs') }}
    where {{ crm_recompute_filter('report_month_index', changes) }}
),

groups as (
    select
        report_month,
        report_month_index,
        x,
        recency_days,
        age_days,
        count(*) as customers
    from inputs
    group by report_month, report_month_index, x, recency_days, age_days
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(report_month_index as integer) as report_month_index,
        cast(x as integer) as x,
        cast(recency_days as integer) as recency_days,
        cast(age_days as integer) as age_days,
        cast(customers as bigint) as customers
    from groups
)

select * from final
