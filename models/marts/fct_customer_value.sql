{{ config(materialized='incremental', incremental_strategy='crm_month_range', recompute_column='report_month') }}
{%- set changes = crm_changes(ref('int_build_changes')) %}
-- Customer value per in-scope customer and report month (SPEC section 9): the model inputs, P(alive),
-- expected repeat occasions in the next 3 and 12 months, the expected spend per occasion and the
-- discounted CLV over the horizon, from the model chosen by var crm_value_model.
--
-- Expected spend per occasion (Gamma-Gamma conditional mean): (gamma + m_x * x) * p / (p * x + q - 1)
-- for customers with x >= 1 and m_x > 0 (the customers the spend model is fitted on), the
-- population mean p * gamma / (q - 1) otherwise; null for those when q <= 1 (the population mean
-- does not exist).
-- clv_12m = var crm_value_margin * expected spend * the discounted expected occasions over the
-- horizon (var crm_value_horizon_months, discount rate var crm_value_annual_discount_rate).
--
-- Incremental (macros/crm_incremental.sql): a run recomputes the months from the first month
-- whose inputs changed; the fits and scores of those months are recomputed by the same run.
with

inputs as (
    select * from {{ ref('int_customer_value__inputs') }}
    where {{ crm_recompute_filter('report_month_index', changes) }}
),

scores as (
    select * from {{ ref('int_customer_value__scores') }}
    where {{ crm_recompute_filter('report_month_index', changes) }}
),

spend_fits as (
    select
        report_month_index,
        p,
        q,
        gamma
    from {{ ref('int_customer_value__model_fits') }}
    where model = 'gamma_gamma'
),

spend as (
    select
        inputs.customer_id,
        inputs.report_month,
        inputs.report_month_index,
        inputs.x,
        inputs.recency_days,
        inputs.age_days,
        inputs.t_x_weeks,
        inputs.t_weeks,
        inputs.m_x,
        case
            when inputs.x >= 1 and inputs.m_x > 0 and spend_fits.p * inputs.x + spend_fits.q > 1
                then (spend_fits.gamma + cast(inputs.m_x as double) * inputs.x) * spend_fits.p
                    / (spend_fits.p * inputs.x + spend_fits.q - 1)
            when spend_fits.q > 1 then spend_fits.p * spend_fits.gamma / (spend_fits.q - 1)
        end as expected_spend_per_occasion
    from inputs
    left join spend_fits
        on inputs.report_month_index = spend_fits.report_month_index
),

scored as (
    select
        spend.*,
        scores.model,
        scores.p_alive,
        scores.expected_occasions_3m,
        scores.expected_occasions_12m,
        {{ var('crm_value_margin') }} * spend.expected_spend_per_occasion
        * scores.discounted_expected_occasions as clv_12m
    from spend
    left join scores
        on
            spend.report_month_index = scores.report_month_index
            and spend.x = scores.x
            and spend.recency_days = scores.recency_days
            and spend.age_days = scores.age_days
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(report_month as date) as report_month,
        cast(x as integer) as x,
        cast(t_x_weeks as double) as t_x_weeks,
        cast(t_weeks as double) as t_weeks,
        cast(m_x as decimal(18, 4)) as m_x,
        cast(p_alive as double) as p_alive,
        cast(expected_occasions_3m as double) as expected_occasions_3m,
        cast(expected_occasions_12m as double) as expected_occasions_12m,
        cast(expected_spend_per_occasion as decimal(18, 4)) as expected_spend_per_occasion,
        cast(clv_12m as decimal(18, 4)) as clv_12m,
        cast(model as {{ dbt.type_string() }}) as model
    from scored
)

select * from final
