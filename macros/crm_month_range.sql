{#-
    Incremental strategy crm_month_range: replace a range of months (docs/incremental.md).

        {{ config(materialized='incremental', incremental_strategy='crm_month_range',
                  recompute_column='report_month') }}
        {%- set changes = crm_changes(ref('int_build_changes')) %}

    dbt's own incremental materialization does the rest: it creates the table on a first build and
    on --full-refresh (with the model's contract), builds the model's result in a temporary table
    otherwise, stops on a change of columns (on_schema_change: fail, dbt_project.yml), and runs
    this strategy's SQL in one transaction with the model's other statements. The strategy:

      months from changes.from_month_index on
          delete from <table> where <recompute_column> >= <first month>; insert the result;
      a full rebuild of an existing table (changes.full: a seed or var changed, ...)
          delete every row; insert the result;
      nothing changed (changes.nothing)
          the model's SQL returned no row (its inputs filtered with `false`); nothing is deleted.

    The model's SQL returns exactly the rows of those months: it filters its inputs with
    crm_recompute_filter / crm_recompute_date_filter / crm_recompute_period_filter and `changes`.

    Configs (the model's own config()):
      recompute_column       the column whose months are replaced: a date (the month's first day or
                             any day in it) or a month index (year * 12 + month - 1);
      recompute_column_type  'date' or 'month_index' (default: month_index when the column name
                             ends in `month_index`, date otherwise);
      period_type_column     rows of several period lengths (day, month, quarter, year) keyed by
                             their start date: each period holding a rebuilt month is replaced whole;
      from_year_start        true: replace from January of the first rebuilt month's year.

    A result row with a null recompute column fails the run: no later run could replace it.
-#}
{% macro get_incremental_crm_month_range_sql(arg_dict) -%}
    {%- set recompute = crm_recompute_config() -%}
    {%- if recompute is none -%}
        {{ exceptions.raise_compiler_error(
            "Model " ~ model.name ~ ": incremental_strategy='crm_month_range' needs config recompute_column "
            ~ "(the column whose months are replaced; docs/incremental.md)") }}
    {%- endif -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set changes = crm_changes(ref('int_build_changes')) -%}
    {%- do crm_month_range_check_nulls(new_rows, recompute) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- if not changes.nothing %}
    delete from {{ target }}
    where {{ crm_month_range_predicate(recompute, changes) }};
    {%- endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ new_rows }}
{%- endmacro %}

{#- no row of the model's result has a null recompute column (a range delete could never replace it) -#}
{% macro crm_month_range_check_nulls(relation, recompute) -%}
    {%- set query -%}
        select count(*) from {{ relation }} where {{ recompute.column }} is null
        {%- if recompute.period_type_column %} or {{ recompute.period_type_column }} is null{% endif %}
    {%- endset -%}
    {%- set nulls = run_query(query).columns[0].values()[0] | int -%}
    {%- if nulls > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Model " ~ model.name ~ " (crm_month_range): " ~ nulls ~ " rows have a null " ~ recompute.column
            ~ ", the column its months are replaced by (recompute_column); no later run could replace them.") }}
    {%- endif -%}
{%- endmacro %}
