-- The customer value model fits (SPEC section 9): one row per report month and model (bg_nbd,
-- mbg_nbd, gamma_gamma) with every parameter (null where it does not apply), the log-likelihood,
-- the customers fitted and whether the optimiser converged (a fit that did not fails the build).
with

fits as (
    select * from {{ ref('int_customer_value__model_fits') }}
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(model as {{ dbt.type_string() }}) as model,
        cast(model = '{{ var("crm_value_model") }}' or model = 'gamma_gamma' as boolean) as is_used_for_scores,
        cast(r as double) as r,
        cast(alpha as double) as alpha,
        cast(a as double) as a,
        cast(b as double) as b,
        cast(p as double) as p,
        cast(q as double) as q,
        cast(gamma as double) as gamma,
        cast(log_likelihood as double) as log_likelihood,
        cast(customers as bigint) as customers,
        cast(converged as boolean) as converged,
        cast(at_parameter_bound as boolean) as at_parameter_bound,
        cast(no_dropout_plateau as boolean) as no_dropout_plateau,
        cast(start_used as {{ dbt.type_string() }}) as start_used,
        cast(starts_tried as integer) as starts_tried,
        cast(iterations as integer) as iterations,
        cast(optimizer_message as {{ dbt.type_string() }}) as optimizer_message
    from fits
)

select * from final
