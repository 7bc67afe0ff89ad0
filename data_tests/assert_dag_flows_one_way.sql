-- The DAG flows one way: sources -> base -> staging -> intermediate -> marts -> serving. Returns one
-- row per model that reads against that flow (the rules: macros/crm_dag_violations.sql), checked on
-- dbt's parsed graph, so it needs no table: a model reading a later layer, a mart reading a mart
-- without `meta: reads_marts: <reason>` in its YAML, a source or base model read outside staging.
-- Attached to a root model so that a failure holds back every later node, the publish node included.
-- depends_on: {{ ref('base_crm__sales_transaction_lines') }}
{%- set violations = crm_dag_violations() %}

with

violations as (
    {%- for violation in violations %}
    select
        '{{ violation.model }}' as model_name,
        '{{ violation.reads }}' as reads_node,
        '{{ violation.rule }}' as broken_rule
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as model_name,
        cast(null as {{ dbt.type_string() }}) as reads_node,
        cast(null as {{ dbt.type_string() }}) as broken_rule
    where false
),

final as (
    select * from violations
)

select * from final
