{#-
    The models that read against the one-way flow sources -> base -> staging -> intermediate -> marts
    (and restricted, the personal-data models beside the marts) -> build (int_build_completed: it reads
    every month-recomputed model, docs/incremental.md) -> serving (publish_serving, which runs once the
    build completed) (layer = the model's folder under models/; base = models/staging/*/base/), from dbt's
    parsed graph: one dict (model, reads, rule) per offending edge. Checked by
    data_tests/assert_dag_flows_one_way.sql. Rules:
      * no model reads a model of a later layer;
      * only base/staging models read sources;
      * a mart reads another mart only with config meta `reads_marts: <reason>` in its YAML;
      * an intermediate reads a base model only with config meta `reads_base: <reason>`; marts and
        serving never read base models.
-#}
{% macro crm_dag_violations() %}
{%- set layer_rank = {'base': 0, 'staging': 1, 'intermediate': 2, 'marts': 3, 'restricted': 3, 'build': 4, 'serving': 5} %}
{%- set violations = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' %}
        {%- set node_layer = 'base' if '/base/' in node.original_file_path.replace('\\', '/') else node.fqn[1] %}
        {%- set node_meta = node.config.get('meta', {}) or {} %}
        {%- for parent_id in node.depends_on.nodes %}
            {%- if parent_id.startswith('source.') and node_layer not in ('base', 'staging') %}
                {%- do violations.append({'model': node.name, 'reads': parent_id, 'rule': 'reads a source outside staging'}) %}
            {%- elif parent_id.startswith('model.') %}
                {%- set parent = graph.nodes[parent_id] %}
                {%- set parent_layer = 'base' if '/base/' in parent.original_file_path.replace('\\', '/') else parent.fqn[1] %}
                {%- if layer_rank.get(parent_layer, 99) > layer_rank.get(node_layer, -1) %}
                    {%- do violations.append({'model': node.name, 'reads': parent.name, 'rule': node_layer ~ ' reads the later layer ' ~ parent_layer}) %}
                {%- elif parent_layer == 'marts' and node_layer == 'marts' and not node_meta.get('reads_marts') %}
                    {%- do violations.append({'model': node.name, 'reads': parent.name, 'rule': 'mart reads a mart without meta reads_marts'}) %}
                {%- elif parent_layer == 'base' and node_layer == 'intermediate' and not node_meta.get('reads_base') %}
                    {%- do violations.append({'model': node.name, 'reads': parent.name, 'rule': 'intermediate reads a base model without meta reads_base'}) %}
                {%- elif parent_layer == 'base' and node_layer not in ('base', 'staging', 'intermediate') %}
                    {%- do violations.append({'model': node.name, 'reads': parent.name, 'rule': node_layer ~ ' reads a base model'}) %}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}
    {{ return(violations) }}
{% endmacro %}
