-- Customers: latest master attributes and consent flags, CRM scope, and the customer's state in the
-- latest report month (status, tier, event, RFMT scores and segment). segment_label is the key to
-- dim_rfm_segments: the latest segment, or Anonymous / Not Active, so that a BI click on a segment
-- filters sales lines, trends and categories through this dimension. Anonymous walk-in customers are kept (their sales
-- belong to them) with is_crm_in_scope = false and no CRM state.
with

customers as (
    -- named columns, not *: Spark bound this import to the view's columns by position (issue 24 moved
    -- the personal columns out of this model; Spark then read customer_name as opt_email)
    select
        customer_id,
        customer_group,
        city,
        created_date,
        opt_email,
        opt_sms,
        opt_phone,
        dq_flags
    from {{ ref('stg_crm__customers') }}
),

scoped as (
    select * from {{ ref('int_customers__scoped') }}
),

cohorts as (
    select * from {{ ref('int_customers__cohorts') }}
),

snapshot as (
    select * from {{ ref('fct_customer_monthly_snapshot') }}
),

latest_snapshot as (
    -- the latest report month, as a literal: only its row groups are read
    select * from snapshot
    where report_month = {{ crm_latest_snapshot_month() }}
),

latest_value as (
    -- customer value (SPEC section 9) in the same month; none on Spark, where the Python models
    -- that fit it are not built (docs/spark.md)
    {%- if target.type != 'spark' %}
    select * from {{ ref('fct_customer_value') }}
    where report_month = {{ crm_latest_snapshot_month() }}
    {%- else %}
    select
        customer_id,
        cast(null as double) as p_alive,
        cast(null as double) as expected_occasions_3m,
        cast(null as double) as expected_occasions_12m,
        cast(null as decimal(18, 4)) as clv_12m
    from customers
    where false
    {%- endif %}
),

final as (
    select
        cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(customers.customer_group as {{ dbt.type_string() }}) as customer_group,
        cast(customers.city as {{ dbt.type_string() }}) as city,
        cast(customers.created_date as date) as created_date,
        cast(customers.opt_email as integer) as opt_email,
        cast(customers.opt_sms as integer) as opt_sms,
        cast(customers.opt_phone as integer) as opt_phone,
        cast(scoped.is_anonymous as boolean) as is_anonymous,
        cast(scoped.is_crm_in_scope as boolean) as is_crm_in_scope,
        cast(scoped.first_purchase_date as date) as first_purchase_date,
        cast(latest_snapshot.report_month as date) as latest_report_month,
        cast(latest_snapshot.activity_status as {{ dbt.type_string() }}) as latest_activity_status,
        cast(latest_snapshot.value_tier as {{ dbt.type_string() }}) as latest_value_tier,
        cast(latest_snapshot.lifecycle_event as {{ dbt.type_string() }}) as latest_lifecycle_event,
        cast(latest_snapshot.recency_score as integer) as latest_recency_score,
        cast(latest_snapshot.frequency_score as integer) as latest_frequency_score,
        cast(latest_snapshot.monetary_score as integer) as latest_monetary_score,
        cast(latest_snapshot.tenure_score as integer) as latest_tenure_score,
        cast(latest_snapshot.rfm_cell as {{ dbt.type_string() }}) as latest_rfm_cell,
        cast(latest_snapshot.rfm_segment as {{ dbt.type_string() }}) as latest_rfm_segment,
        cast(
            coalesce(
                latest_snapshot.rfm_segment,
                case when scoped.is_anonymous then 'Anonymous' else {{ crm_not_active() }} end
            ) as {{ dbt.type_string() }}
        ) as segment_label,
        cast(latest_value.p_alive as double) as latest_p_alive,
        cast(latest_value.expected_occasions_3m as double) as latest_expected_occasions_3m,
        cast(latest_value.expected_occasions_12m as double) as latest_expected_occasions_12m,
        cast(latest_value.clv_12m as decimal(18, 4)) as latest_clv_12m,
        cast(customers.dq_flags as {{ dbt.type_string() }}) as dq_flags,
        cast(cohorts.cohort_month as date) as cohort_month
    from customers
    inner join scoped
        on customers.customer_id = scoped.customer_id
    left join latest_snapshot
        on customers.customer_id = latest_snapshot.customer_id
    left join cohorts
        on customers.customer_id = cohorts.customer_id
    left join latest_value
        on customers.customer_id = latest_value.customer_id
)

select * from final
