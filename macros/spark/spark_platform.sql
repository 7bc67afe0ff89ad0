{#-
    Apache Spark target (docs/spark.md): what the project does differently there, in one file.
    - The raw landing folder is registered at the start of every run as external CSV tables (schema
      crm_landing) with a view per source that adds the file of each line (`filename`), where DuckDB
      reads the files with read_csv (the sources' meta external_location).
    - Incremental models build whole, as tables: the month-recomputed models (incremental strategy
      crm_month_range) and the parsed lines need delete on the tables, which Spark's parquet tables
      refuse. A Delta or Iceberg target could keep it once it can be tested.
-#}

{#- on-run-start on Spark (called by crm_validate_raw_landing): every source of crm and crm_campaigns
    as an external CSV table over its files, all columns text; Spark checks each file's header
    against the source's column names (enforceSchema false) and stops on a malformed line (FAILFAST),
    as DuckDB's strict read_csv does -#}
{% macro crm_spark_register_raw_landing() %}
    {%- if execute -%}
        {%- do run_query('create schema if not exists crm_landing') -%}
        {%- for node in graph.sources.values() if node.source_name in ('crm', 'crm_campaigns') -%}
            {%- set folder = crm_campaign_dir() if node.source_name == 'crm_campaigns' else crm_raw_dir() -%}
            {%- set columns = node.columns.keys() | reject('equalto', 'filename') | list -%}
            {%- set landing = 'crm_landing.' ~ node.source_name ~ '__' ~ node.name -%}
            {%- do run_query('drop table if exists ' ~ landing) -%}
            {%- do run_query(
                'create table ' ~ landing ~ ' (' ~ columns | join(' string, ') ~ ' string) using csv options ('
                ~ "path '" ~ folder ~ '/' ~ node.meta.raw_file ~ "', header 'true', enforceSchema 'false', "
                ~ "mode 'FAILFAST', quote '\"', escape '\"', multiLine 'false')") -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier ~ ' as select '
                ~ columns | join(', ') ~ ', _metadata.file_path as filename from ' ~ landing) -%}
        {%- endfor -%}
        {{ log("Raw landing folder '" ~ crm_raw_dir() ~ "' registered as external CSV tables (crm_landing).", info=true) }}
    {%- endif -%}
    {{ return('select 1') }}
{% endmacro %}

{#- the files matching a pattern of a folder (Spark lists them through the binaryFile source
    without reading their bytes); an empty list when nothing matches -#}
{% macro crm_spark_list_files(pattern) -%}
    {%- set query = "select path from binaryFile.`" ~ pattern ~ "` order by path" -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro spark__crm_raw_file_stats(pattern, with_md5=false, path_filter='true') -%}
    select
        path as file_path,
        {{ crm_file_basename('path') }} as source_file,
        cast(length as bigint) as file_size,
        cast(unix_millis(modificationTime) as bigint) as file_modified_at
        {%- if with_md5 %},
        md5(content) as file_md5
        {%- endif %}
    from binaryFile.`{{ crm_raw_dir() }}/{{ pattern }}`
    where {{ path_filter | replace('filename', 'path') }}
{%- endmacro %}

{#- Incremental models on Spark: built whole, as a table, without their strategy or pre-hook (their
    deletes are DuckDB's). Runs only on Spark. -#}
{% materialization incremental, adapter='spark' -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- call statement('main') -%}
        {{ create_table_as(false, target_relation, compiled_code) }}
    {%- endcall -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

{#- Seeds on Spark: the rows as escaped literals. dbt-spark 1.11.0 passes them as bindings, which its
    session connection pastes into the SQL unescaped: a value with a quote (Can't Lose Them) broke
    the insert. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {%- for row in chunk %}
            (
                {%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {{- ', ' if not loop.last -}}
                {%- endfor -%}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
