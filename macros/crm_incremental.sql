{#-
    Incremental refresh: which months a run must rebuild (docs/incremental.md).

    Every input that can change a month of the warehouse has a digest in `int_source_digests`.
    `int_build_changes` compares them with the digests of the last build that completed
    (`int_build_completed`, the last node of the DAG) and says, in one row, from which month this
    run rebuilds (or that it rebuilds everything, or nothing). Each month-recomputed model reads it
    in its own SQL, `{%- set changes = crm_changes(ref('int_build_changes')) %}`, and filters its
    inputs with the macros below; its incremental strategy `crm_month_range` (macros/crm_month_range.sql)
    replaces the same months of its table.

    A run that fails half way does not reach int_build_completed, so the next run compares with the
    same completed digests and rebuilds from the same first month again.
-#}

{#- the model's table exists and this run may change part of it (false in unit tests, where `this`
    is not a relation, and with --full-refresh) -#}
{% macro crm_is_incremental() -%}
    {%- if not execute or this is none or should_full_refresh() -%}{{ return(false) }}{%- endif -%}
    {%- set relation = load_relation(this) -%}
    {{ return(relation is not none and relation.type == 'table') }}
{%- endmacro %}

{% macro crm_run_started_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#-
    What this run rebuilds in the current model, read from `changes_relation` (always
    ref('int_build_changes'), passed by the model so that the dependency is visible in its SQL):
      full: every month (first build, --full-refresh, a change not tied to a month; and in
            commands that build nothing: dbt compile, show, test)
      nothing: no input changed since the last completed build
      from_month_index: the first month to rebuild (when neither full nor nothing)
-#}
{% macro crm_changes(changes_relation) -%}
    {%- set everything = {'full': true, 'nothing': false, 'from_month_index': none} -%}
    {%- if flags.WHICH not in ('run', 'build') or not crm_is_incremental() -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- set query -%}
        select
            is_full,
            rebuild_from_month_index,
            run_started_at = {{ crm_run_started_literal() }} as is_this_run
        from {{ changes_relation }}
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length != 1 or not rows[0]['is_this_run'] -%}
        {#- its row describes another run's inputs: rebuilding from it could miss a change -#}
        {{ exceptions.raise_compiler_error(
            model.name ~ " is incremental and " ~ changes_relation ~ " was not rebuilt by this run, so what"
            ~ " changed since the last build is not known. Select it too, e.g. `dbt build --select"
            ~ " int_build_changes " ~ model.name ~ "` (or +" ~ model.name ~ "), or run with --full-refresh"
            ~ " (docs/incremental.md).") }}
    {%- elif rows[0]['is_full'] -%}
        {{ return(everything) }}
    {%- elif rows[0]['rebuild_from_month_index'] is none -%}
        {{ return({'full': false, 'nothing': true, 'from_month_index': none}) }}
    {%- else -%}
        {{ return({'full': false, 'nothing': false, 'from_month_index': rows[0]['rebuild_from_month_index'] | int}) }}
    {%- endif -%}
{%- endmacro %}

{#- the first day of a month index, as a date literal -#}
{% macro crm_month_start_literal(month_index) -%}
    {%- set year = (month_index // 12) | int -%}
    {%- set month = (month_index % 12 + 1) | int -%}
    cast('{{ "%04d-%02d-01" | format(year, month) }}' as date)
{%- endmacro %}

{#-
    A predicate keeping the rows this run recomputes: month_index_expression >= the first month to
    recompute minus lookback_months (true on a full build, false when nothing changed).
-#}
{% macro crm_recompute_filter(month_index_expression, changes, lookback_months=0) -%}
    {%- if changes.full -%}
        true
    {%- elif changes.nothing -%}
        false
    {%- else -%}
        {{ month_index_expression }} >= {{ changes.from_month_index - lookback_months }}
    {%- endif -%}
{%- endmacro %}

{#- the same on a date column, so that DuckDB can skip row groups by their min/max -#}
{% macro crm_recompute_date_filter(date_expression, changes, lookback_months=0) -%}
    {%- if changes.full -%}
        true
    {%- elif changes.nothing -%}
        false
    {%- else -%}
        {{ date_expression }} >= {{ crm_month_start_literal(changes.from_month_index - lookback_months) }}
    {%- endif -%}
{%- endmacro %}

{#- the first month of the period (month, quarter, year) that holds a month index -#}
{% macro crm_period_start_month_index(month_index, period) -%}
    {%- if period == 'year' -%}
        {{ return(month_index - month_index % 12) }}
    {%- elif period == 'quarter' -%}
        {{ return(month_index - month_index % 3) }}
    {%- else -%}
        {{ return(month_index) }}
    {%- endif -%}
{%- endmacro %}

{#- keeps the periods (period_type_column) that hold a recomputed month, by their start date -#}
{% macro crm_recompute_period_filter(period_type, date_expression, changes) -%}
    {%- if changes.full -%}
        true
    {%- elif changes.nothing -%}
        false
    {%- else -%}
        {{ date_expression }} >= {{ crm_month_start_literal(crm_period_start_month_index(changes.from_month_index, period_type)) }}
    {%- endif -%}
{%- endmacro %}

{#-
    How the current model's months are replaced, from its own config() (incremental strategy
    crm_month_range, or the delete hook of the two Python models): a dict
      column: the column whose months are replaced (config recompute_column)
      is_month_index: true for a month index column, false for a date (config recompute_column_type,
                      'month_index' or 'date'; by default from the name: *month_index = index)
      period_type_column: periods of several lengths (day, month, quarter, year) by their start date
      from_year_start: true to replace from the start of the year holding the first changed month
    or none when the model has no recompute_column.
-#}
{% macro crm_recompute_config() -%}
    {%- set column = config.get('recompute_column') -%}
    {%- if not column -%}{{ return(none) }}{%- endif -%}
    {%- set column_type = config.get('recompute_column_type') or ('month_index' if column.endswith('month_index') else 'date') -%}
    {{ return({
        'column': column,
        'is_month_index': column_type == 'month_index',
        'period_type_column': config.get('period_type_column'),
        'from_year_start': config.get('from_year_start', false),
    }) }}
{%- endmacro %}

{#- the rows of the months this run replaces (recompute: crm_recompute_config(); changes: crm_changes()) -#}
{% macro crm_month_range_predicate(recompute, changes) -%}
    {%- set lookback = changes.from_month_index % 12 if recompute.from_year_start and changes.from_month_index is not none else 0 -%}
    {%- if recompute.period_type_column -%}
        (
        {%- for period in ['day', 'month', 'quarter', 'year'] %}
        ({{ recompute.period_type_column }} = '{{ period }}' and {{ crm_recompute_period_filter(period, recompute.column, changes) }})
        {{- ' or' if not loop.last }}
        {%- endfor %}
        )
    {%- elif recompute.is_month_index -%}
        {{ crm_recompute_filter(recompute.column, changes, lookback_months=lookback) }}
    {%- else -%}
        {{ crm_recompute_date_filter(recompute.column, changes, lookback_months=lookback) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The delete of crm_month_range for the two Python models, which keep dbt's `incremental`
    materialization (append strategy): their own pre_hook (dbt.config in the model file) deletes
    the months this run rebuilds, the model then computes the months its table lacks.
-#}
{% macro crm_delete_rebuilt_months(changes_relation) -%}
    {%- set recompute = crm_recompute_config() -%}
    {%- set changes = crm_changes(changes_relation) -%}
    {%- if recompute is not none and crm_is_incremental() and not changes.nothing -%}
        delete from {{ this }} where {{ crm_month_range_predicate(recompute, changes) }}
    {%- endif -%}
    {#- otherwise empty: dbt skips an empty hook -#}
{%- endmacro %}

{#-
    The latest report month of the snapshot as a date literal (read at run time), so that a filter
    on it skips the other months' row groups instead of scanning the whole snapshot.
-#}
{% macro crm_latest_snapshot_month() -%}
    {%- set snapshot = ref('fct_customer_monthly_snapshot') -%}
    {%- if not execute -%}
        cast(null as date)
    {%- elif load_relation(snapshot) is none -%}
        {#- not built yet (dbt compile, sqlfluff on a fresh clone): the same value as a subquery -#}
        (select max(report_month) from {{ snapshot }})
    {%- else -%}
        {%- set latest = run_query("select max(report_month) from " ~ snapshot).columns[0].values()[0] -%}
        {%- if latest is none -%}
            cast(null as date)
        {%- else -%}
            cast('{{ latest }}' as date)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
