{#-
    The columns tagged as personal data (SPEC section 12): every column of a model, seed, snapshot or
    source whose YAML carries `config: {meta: {contains_pii: true}}` (or, as before dbt 1.10,
    `meta: {contains_pii: true}`), read from dbt's parsed graph at run time. One dict
    (resource_type, resource_name, relation_schema, column_name) per tagged column, ordered.
    Rendered as a table by models/serving/pii_columns.sql, which the publish step reads
    (src/crm_warehouse/pii.py): no published column may carry one of these names.
-#}
{% macro crm_pii_columns() %}
{%- set found = [] %}
{%- if execute %}
    {%- for node in (graph.nodes.values() | list) + (graph.sources.values() | list) %}
        {%- if node.resource_type in ('model', 'seed', 'snapshot', 'source') and node.config.get('enabled', true) %}
            {%- for column in (node.columns or {}).values() %}
                {%- set column_meta = column.get('meta') or {} %}
                {%- set column_config_meta = (column.get('config') or {}).get('meta') or {} %}
                {%- if column_meta.get('contains_pii') in (true, 'true', 'True') or column_config_meta.get('contains_pii') in (true, 'true', 'True') %}
                    {%- do found.append({
                        'resource_type': node.resource_type,
                        'resource_name': (node.source_name ~ '.' ~ node.name) if node.resource_type == 'source' else node.name,
                        'relation_schema': node.schema,
                        'column_name': column.name | lower,
                    }) %}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
    {{ return(found | sort(attribute='resource_name') | sort(attribute='resource_type')) }}
{% endmacro %}
