{#-
    Data tests on an incremental model check only the months that the current run rebuilt: the
    other rows were checked by the run that wrote them and have not changed since. This keeps a
    one-month incremental `dbt build` proportional to the month. The tests check every row when the
    model was rebuilt whole (first build, `--full-refresh`, a change of seeds or vars), when the
    model was not built by this run (`dbt test`), and for the tests that compare a model with another
    one (they are not row-local). `dbt build --vars '{crm_test_every_row: true}'` checks every row.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scoped = crm_test_scope_predicate(relation) -%}
    {%- set predicates = [] -%}
    {%- if where %}{% do predicates.append('(' ~ where ~ ')') %}{% endif -%}
    {%- if scoped %}{% do predicates.append(scoped) %}{% endif -%}
    {%- if predicates | length > 0 -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ predicates | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}

{#-
    The month-recomputed models and the column their months are rebuilt by, read from their
    `meta.crm_recompute` in dbt_project.yml: {model name: {'column': ..., 'kind': 'date' | 'index'}}
-#}
{% macro crm_incremental_month_columns() -%}
    {%- set columns = {} -%}
    {%- if not execute -%}{{ return(columns) }}{%- endif -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set recompute = (node.config.meta or {}).get('crm_recompute') -%}
        {%- if recompute -%}
            {%- if recompute.get('month_index_column') -%}
                {%- do columns.update({node.name: {'column': recompute['month_index_column'], 'kind': 'index'}}) -%}
            {%- else -%}
                {%- do columns.update({node.name: {'column': recompute['date_column'], 'kind': 'date'}}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro crm_test_scope_predicate(relation) -%}
    {%- set row_local_tests = ['not_null', 'unique', 'accepted_values', 'relationships', 'accepted_range',
        'expression_is_true', 'unique_combination_of_columns', 'null_iff'] -%}
    {%- set columns = crm_incremental_month_columns() -%}
    {%- set line_relations = ['base_crm__sales_transaction_lines', 'base_crm__sales_transactions',
        'stg_crm__sales_transactions', 'stg_crm__sales_transactions_rejects', 'int_sales_lines__enriched'] -%}
    {%- if not execute or var('crm_test_every_row', false) or relation is string
        or (relation.identifier not in columns and relation.identifier not in line_relations) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model is not defined or model.test_metadata is not defined or model.test_metadata is none
        or model.test_metadata.name not in row_local_tests -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if relation.identifier in line_relations -%}
        {{ return(crm_line_test_scope_predicate()) }}
    {%- endif -%}
    {%- set first_month = crm_rebuilt_from_month_index(relation.identifier) -%}
    {%- if first_month is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set month_column = columns[relation.identifier] -%}
    {%- if first_month == 999999 -%}
        {{ return('false') }}
    {%- elif month_column.kind == 'index' -%}
        {{ return(month_column.column ~ ' >= ' ~ first_month) }}
    {%- else -%}
        {{ return(month_column.column ~ ' >= ' ~ crm_month_start_literal(first_month)) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Tests on the line-level models (parsed lines, their clean / rejected views, enriched lines) in a
    `dbt build`: the lines parsed by this run (every line of a file parsed again; only the appended
    lines of a file that grew). The other lines have not changed; a change of the masters can only
    move them between the clean and rejected views, whose checks hold by construction (the masters
    are tested whole at every run).
-#}
{% macro crm_line_test_scope_predicate() -%}
    {%- if flags.WHICH != 'build' or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {#- looked up, not ref'd: a ref here would add a dependency to every test; the parsed lines are
        upstream of every line-level model, so they exist when these tests run -#}
    {%- set lines = adapter.get_relation(target.database, 'staging', 'base_crm__sales_transaction_lines') -%}
    {%- if lines is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select source_file, min(source_row_number) as first_row
        from {{ lines }}
        where loaded_at = {{ crm_run_started_literal() }}
        group by source_file
        order by source_file
    {%- endset -%}
    {%- set predicates = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do predicates.append("(source_file = '" ~ (row['source_file'] | replace("'", "''")) ~ "' and source_row_number >= " ~ (row['first_row'] | int) ~ ")") -%}
    {%- endfor -%}
    {%- if predicates | length == 0 -%}
        {{ return('false') }}
    {%- endif -%}
    {{ return('(' ~ predicates | join(' or ') ~ ')') }}
{%- endmacro %}
