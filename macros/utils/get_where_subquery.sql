{#-
    dbt's get_where_subquery (the `where` config of a data test), plus two placeholders a test can
    put in its own `where` (a YAML `where` cannot call project macros, so they are expanded here;
    the pattern of dbt's docs for the `where` config):

      __crm_rebuilt_months__  on a month-recomputed model (`meta.crm_recompute` in dbt_project.yml):
                              the months the current run rebuilt;
      __crm_parsed_lines__    on a line-level model (`meta.crm_line_level` in dbt_project.yml): the
                              raw lines the current `dbt build` parsed.

    e.g. `config: {where: "__crm_rebuilt_months__"}`. The rows outside were checked by the run that
    wrote them and have not changed since, so a one-month incremental `dbt build` tests the month.
    A placeholder is `true` (every row) when the model was rebuilt whole (first build,
    `--full-refresh`, a change of seeds or vars), in `dbt test`, on Spark (no incremental state
    there) or with `--vars '{crm_test_every_row: true}'`, and `false` when the run rebuilt nothing.
    A test without a placeholder checks every row. docs/incremental.md, "Data tests".
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__crm_' in (where | lower) -%}
        {%- set where = crm_expand_test_scope(where, model.attached_node, model.name) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} as scoped_relation where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}

{#-
    `where` with each placeholder replaced by its predicate. A misplaced or unknown placeholder is a
    compilation error naming the test (checked when the test compiles, where dbt's graph is known).
-#}
{% macro crm_expand_test_scope(where, tested_node_id, test_name) -%}
    {%- set placeholders = {'__crm_rebuilt_months__': 'crm_recompute', '__crm_parsed_lines__': 'crm_line_level'} -%}
    {%- set found = modules.re.findall('(?i)__crm_[a-z0-9_]*?__', where) | unique | list -%}
    {%- for placeholder in found if placeholder not in placeholders -%}
        {{ exceptions.raise_compiler_error(
            "Data test " ~ test_name ~ ": unknown placeholder " ~ placeholder ~ " in its `where` config;"
            ~ " the known ones are " ~ (placeholders.keys() | sort | join(', '))
            ~ " (macros/utils/get_where_subquery.sql)") }}
    {%- endfor -%}
    {%- set node = graph.nodes.get(tested_node_id) if execute and tested_node_id else none -%}
    {%- set meta = ((node.config.meta if node else none) or {}) -%}
    {%- for placeholder in found if execute and not meta.get(placeholders[placeholder]) -%}
        {{ exceptions.raise_compiler_error(
            "Data test " ~ test_name ~ ": " ~ placeholder ~ " in its `where` config needs a model with `meta."
            ~ placeholders[placeholder] ~ "` (dbt_project.yml), and "
            ~ ((node.name ~ " has none") if node else "the test is on no model")
            ~ ". Remove the placeholder (the test then checks every row) or declare the model in"
            ~ " dbt_project.yml (docs/incremental.md, \"Data tests\").") }}
    {%- endfor -%}
    {%- set expanded = namespace(where=where) -%}
    {%- for placeholder in found -%}
        {%- if not execute -%}
            {#- parsing: the graph is not known yet; the test is compiled again before it runs -#}
            {%- set predicate = 'true' -%}
        {%- elif placeholder == '__crm_rebuilt_months__' -%}
            {%- set predicate = crm_rebuilt_months_predicate(node.alias, meta['crm_recompute']) -%}
        {%- else -%}
            {%- set predicate = crm_parsed_lines_predicate() -%}
        {%- endif -%}
        {%- set expanded.where = expanded.where | replace(placeholder, '(' ~ predicate ~ ')') -%}
    {%- endfor -%}
    {{ return(expanded.where) }}
{%- endmacro %}

{#- every row, whatever the run rebuilt: var crm_test_every_row, or Spark (no incremental state) -#}
{% macro crm_tests_check_every_row() -%}
    {{ return(not execute or var('crm_test_every_row', false) or target.type == 'spark') }}
{%- endmacro %}

{#-
    The months the current run rebuilt in a month-recomputed model, as a predicate on the column its
    months are recomputed by (`recompute`: the model's meta.crm_recompute): `true` when the run
    rebuilt it whole or did not build it, `false` when it rebuilt no month.
-#}
{% macro crm_rebuilt_months_predicate(model_name, recompute) -%}
    {%- if crm_tests_check_every_row() -%}{{ return('true') }}{%- endif -%}
    {%- set first_month = crm_rebuilt_from_month_index(model_name) -%}
    {%- if first_month is none -%}
        {{ return('true') }}
    {%- elif first_month == 999999 -%}
        {{ return('false') }}
    {%- elif recompute.get('month_index_column') -%}
        {{ return(recompute['month_index_column'] ~ ' >= ' ~ first_month) }}
    {%- else -%}
        {{ return(recompute['date_column'] ~ ' >= ' ~ crm_month_start_literal(first_month)) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Tests on the line-level models (parsed lines, their clean / rejected views, enriched lines) in a
    `dbt build`: the lines parsed by this run (every line of a file parsed again; only the appended
    lines of a file that grew), as a predicate on (source_file, source_row_number); `true` outside
    an incremental `dbt build`, `false` when no line was parsed. The other lines have not changed; a
    change of the masters can only move them between the clean and rejected views, whose checks
    hold by construction (the masters are tested whole at every run).
-#}
{% macro crm_parsed_lines_predicate() -%}
    {%- if crm_tests_check_every_row() or flags.WHICH != 'build' or flags.FULL_REFRESH -%}
        {{ return('true') }}
    {%- endif -%}
    {#- looked up, not ref'd: a ref here would add a dependency to every test; the parsed lines are
        upstream of every line-level model, so they exist when these tests run -#}
    {%- set lines = adapter.get_relation(target.database, 'staging', 'base_crm__sales_transaction_lines') -%}
    {%- if lines is none -%}
        {{ return('true') }}
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
    {{ return(predicates | join(' or ')) }}
{%- endmacro %}
