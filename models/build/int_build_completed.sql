{{ config(materialized='table') }}
-- The digests (int_source_digests) the last completed build was made from, and that build's
-- start (run_started_at): the last model of the DAG. It reads every month-recomputed model
-- (below), so `dbt build` skips it when one of them or one of their data tests fails; it then
-- keeps the previous completed build's digests, and the next run's int_build_changes rebuilds
-- again what the failed run was to rebuild (docs/incremental.md "A run that fails half way").
--
-- Written only when this invocation rebuilt every month-recomputed model (selected_resources):
-- a `dbt build --select` of a part of the DAG keeps the previous content, so that the models it
-- did not rebuild are caught up by the next whole build. tests/test_test_scope.py checks that
-- every model with a recompute_column is listed here.
--
-- depends_on: {{ ref('int_customer_months__activity') }}
-- depends_on: {{ ref('int_customer_months__category_sales') }}
-- depends_on: {{ ref('int_customer_months__windows') }}
-- depends_on: {{ ref('int_customer_periods__sales') }}
-- depends_on: {{ ref('int_customer_value__inputs') }}
-- depends_on: {{ ref('int_customer_value__frequency_groups') }}
-- depends_on: {{ ref('fct_sales') }}
-- depends_on: {{ ref('fct_customer_monthly_snapshot') }}
-- depends_on: {{ ref('kpi_cohort_retention') }}
-- depends_on: {{ ref('kpi_monthly_board') }}
-- depends_on: {{ ref('kpi_rfm_score_bands') }}
-- depends_on: {{ ref('kpi_segment_migration') }}
-- depends_on: {{ ref('kpi_segment_summary') }}
-- depends_on: {{ ref('kpi_tier_migration') }}
-- depends_on: {{ ref('kpi_tier_migration_by_segment') }}
-- depends_on: {{ ref('kpi_tier_summary') }}
{%- if target.type != 'spark' %}
-- (customer value: DuckDB only, docs/spark.md)
-- depends_on: {{ ref('int_customer_value__model_fits') }}
-- depends_on: {{ ref('int_customer_value__scores') }}
-- depends_on: {{ ref('fct_customer_value') }}
-- depends_on: {{ ref('kpi_customer_value_by_segment') }}
-- depends_on: {{ ref('kpi_customer_value_by_tier') }}
-- depends_on: {{ ref('kpi_customer_value_leaving') }}
-- depends_on: {{ ref('kpi_customer_value_p_alive_bands') }}
{%- endif %}
{%- set rebuilt_all = true %}
{%- if execute %}
{%- set month_range_models = [] %}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.get('recompute_column') %}
{%- do month_range_models.append(node.unique_id) %}
{%- endfor %}
{%- set rebuilt_all = month_range_models | reject('in', selected_resources) | list | length == 0 %}
{%- endif %}
{%- set previous = load_relation(this) if execute else none %}
with

current_digests as (
    select * from {{ ref('int_source_digests') }}
),

{%- if rebuilt_all or previous is none %}

completed as (
    {%- if rebuilt_all %}
    select
        *,
        {{ crm_run_started_literal() }} as run_started_at
    from current_digests
    {%- else %}
    -- not every month-recomputed model was rebuilt and no build completed yet: no digest, so the
    -- next run rebuilds every month
    select
        *,
        {{ crm_run_started_literal() }} as run_started_at
    from current_digests
    where false
    {%- endif %}
),
{%- else %}

completed as (
    -- a partial build (dbt build --select): the digests of the last completed build stay
    select * from {{ previous }}
),
{%- endif %}

final as (
    select
        input_name,
        input_key,
        month_index,
        row_count,
        digest,
        run_started_at
    from completed
)

select * from final
