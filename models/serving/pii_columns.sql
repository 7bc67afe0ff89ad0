-- The columns tagged as personal data (config.meta.contains_pii) in the project's YAML, one row per
-- tagged column, read from dbt's graph when the model runs (macro crm_pii_columns). The publish step
-- (publish_serving, scripts/publish.py) reads this table: a published mart column with one of these
-- names fails the publish, naming it, and the restricted models are published to the restricted
-- serving file only when serving_include_pii (var crm_serving_include_pii) is true.
{%- set tagged = crm_pii_columns() %}
with

tagged_columns as (
    select
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as relation_schema,
        cast(null as {{ dbt.type_string() }}) as column_name
    where false
    {%- for column in tagged %}
    union all
    select
        '{{ column.resource_type }}',
        '{{ column.resource_name }}',
        '{{ column.relation_schema }}',
        '{{ column.column_name }}'
    {%- endfor %}
),

final as (
    select
        resource_type,
        resource_name,
        relation_schema,
        column_name,
        {{ 'true' if var('crm_serving_include_pii') | string | lower in ('true', '1', 'yes', 'on') else 'false' }}
            as serving_include_pii
    from tagged_columns
)

select * from final
