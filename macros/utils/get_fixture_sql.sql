{#- dbt's get_fixture_sql, copied from dbt-core 1.11.16 (include/global_project/macros/unit_test_sql/
    get_fixture_sql.sql), with one change marked "Project change" below: unit tests can mock the
    file-backed sources of this project (dbt-duckdb external_location), whose columns dbt cannot
    introspect. tests/test_layout.py fails when the installed dbt-core is another version or its
    macro differs from this copy without the marked change: copy it again and re-apply the change. -#}
{% macro get_fixture_sql(rows, column_name_to_data_types) %}
-- Fixture for {{ model.name }}
{% set default_row = {} %}

{%- if not column_name_to_data_types -%}
{#-- Use defer_relation IFF it is available in the manifest and 'this' is missing from the database --#}
{%-   set this_or_defer_relation = defer_relation if (defer_relation and not load_relation(this)) else this -%}
{%-   set columns_in_relation = adapter.get_columns_in_relation(this_or_defer_relation) -%}

{%-   set column_name_to_data_types = {} -%}
{%-   set column_name_to_quoted = {} -%}
{%-   for column in columns_in_relation -%}

{#-- This needs to be a case-insensitive comparison --#}
{%-     do column_name_to_data_types.update({column.name|lower: column.data_type}) -%}
{%-     do column_name_to_quoted.update({column.name|lower: column.quoted}) -%}
{%-   endfor -%}
{%- endif -%}

{#-- Project change: a source read from files (dbt-duckdb external_location: every source of this
      project) is no relation, so dbt cannot introspect it. Every column of those sources is read as
      VARCHAR by design, so the fixture's own columns of a source (a fixture node with a
      source_name) are typed varchar. No source name is listed here: a new file-backed source is
      covered. --#}
{%- if not column_name_to_data_types and model.get('source_name') -%}
{%-   for row in rows -%}
{%-     for column_name in row.keys() -%}
{%-       do column_name_to_data_types.update({column_name | lower: 'varchar'}) -%}
{%-       do column_name_to_quoted.update({column_name | lower: adapter.quote(column_name)}) -%}
{%-     endfor -%}
{%-   endfor -%}
{%- endif -%}
{#-- End of the project change --#}

{%- if not column_name_to_data_types -%}
    {{ exceptions.raise_compiler_error("Not able to get columns for unit test '" ~ model.name ~ "' from relation " ~ this ~ " because the relation doesn't exist") }}
{%- endif -%}

{%- for column_name, column_type in column_name_to_data_types.items() -%}
    {%- do default_row.update({column_name: (safe_cast("null", column_type) | trim )}) -%}
{%- endfor -%}

{{ validate_fixture_rows(rows, row_number) }}

{%- for row in rows -%}
{%-   set formatted_row = format_row(row, column_name_to_data_types) -%}
{%-   set default_row_copy = default_row.copy() -%}
{%-   do default_row_copy.update(formatted_row) -%}
select
{%-   for column_name, column_value in default_row_copy.items() %} {{ column_value }} as {{ column_name_to_quoted[column_name] }}{% if not loop.last -%}, {%- endif %}
{%-   endfor %}
{%-   if not loop.last %}
union all
{%    endif %}
{%- endfor -%}

{%- if (rows | length) == 0 -%}
    select
    {%- for column_name, column_value in default_row.items() %} {{ column_value }} as {{ column_name_to_quoted[column_name] }}{% if not loop.last -%},{%- endif %}
    {%- endfor %}
    limit 0
{%- endif -%}
{% endmacro %}
