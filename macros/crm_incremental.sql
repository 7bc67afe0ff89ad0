{#-
    Incremental refresh: which months a run must recompute.

    Every input that can change a month of the warehouse has a digest in `int_source_digests`
    (clean and rejected transaction lines per file and invoice month, the customers and products
    masters bucketed by the first month they can affect, the reference seeds and the vars), with
    the time of the run that last saw it change (`changed_at`). Every incremental model records in
    `intermediate.crm_build_state` when it was last built successfully (`built_at`). A run
    recomputes, for each incremental model, every month from the earliest month whose digest
    changed after that model's last successful build; a change that is not tied to a month (a
    seed, a var, a master row that is not tied to any month) recomputes every month. A model that
    has no state row (new warehouse, older version) is rebuilt whole.

    Because the state is per model and written only when its build succeeds, a run that fails half
    way is caught up by the next one.
-#}

{#- is_incremental(), false in unit tests (where `this` is not a relation) -#}
{% macro crm_is_incremental() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{% macro crm_build_state_table() -%}
    intermediate.crm_build_state
{%- endmacro %}

{#- on-run-start: the state table exists before any model reads it -#}
{% macro crm_create_build_state() -%}
    create table if not exists {{ crm_build_state_table() }} (
        model_name varchar primary key,
        run_started_at timestamp,
        built_at timestamp,
        recompute_from_month_index integer,
        is_full boolean
    )
{%- endmacro %}

{% macro crm_run_started_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#-
    What this run must recompute for the current model, as a dict:
      full: every month (first build, --full-refresh, no state, or a change not tied to a month)
      nothing: no input changed since the model's last successful build
      from_month_index: the first month to recompute (when neither full nor nothing)
-#}
{% macro crm_changes() -%}
    {%- set digests = ref('int_source_digests') -%}
    {%- if not execute or not crm_is_incremental() -%}
        {{ return({'full': true, 'nothing': false, 'from_month_index': none}) }}
    {%- endif -%}
    {%- set query -%}
        with
        state as (
            select max(built_at) as built_at
            from {{ crm_build_state_table() }}
            where model_name = '{{ this.identifier }}'
        ),
        changed as (
            select digests.month_index
            from {{ digests }} as digests
            cross join state
            where state.built_at is null or digests.changed_at > state.built_at
        )
        select
            (select built_at from state) is null as no_state,
            coalesce(bool_or(month_index is null), false) as any_global,
            min(month_index) as from_month_index,
            count(*) as changes
        from changed
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if row['no_state'] or row['any_global'] -%}
        {{ return({'full': true, 'nothing': false, 'from_month_index': none}) }}
    {%- elif row['changes'] == 0 -%}
        {{ return({'full': false, 'nothing': true, 'from_month_index': none}) }}
    {%- else -%}
        {{ return({'full': false, 'nothing': false, 'from_month_index': row['from_month_index'] | int}) }}
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
    How the current model's months are recomputed: its `meta.crm_recompute` from dbt_project.yml, a
    dict with named keys (none for a model that is not month-recomputed):
      date_column / month_index_column: the column whose months are rewritten (a date or a month index)
      period_type_column: periods of several lengths (day, month, quarter, year) by their start date
      from_year_start: true to rewrite from the start of the year holding the first changed month
-#}
{% macro crm_recompute_config() -%}
    {%- set meta = config.get('meta') or {} -%}
    {{ return(meta.get('crm_recompute')) }}
{%- endmacro %}

{#-
    pre-hook of every model (dbt_project.yml); for a month-recomputed model: note the run in the
    state table and delete the months it recomputes, so that the `append` strategy then inserts them
    anew. Renders nothing for any other model (dbt skips an empty hook).
-#}
{% macro crm_incremental_pre_hook() -%}
    {%- set recompute = crm_recompute_config() -%}
    {%- if recompute is none -%}{{ return('') }}{%- endif -%}
    {%- set date_column = recompute.get('date_column') -%}
    {%- set month_index_column = recompute.get('month_index_column') -%}
    {%- set period_type_column = recompute.get('period_type_column') -%}
    {%- set from_year_start = recompute.get('from_year_start', false) -%}
    {%- set changes = crm_changes() -%}
    {%- set lookback = changes.from_month_index % 12 if from_year_start and changes.from_month_index is not none else 0 -%}
    insert into {{ crm_build_state_table() }} (model_name, run_started_at, recompute_from_month_index, is_full)
    values (
        '{{ this.identifier }}',
        {{ crm_run_started_literal() }},
        {{ (changes.from_month_index - lookback) if changes.from_month_index is not none else 'null' }},
        {{ 'true' if changes.full else 'false' }}
    )
    on conflict (model_name) do update set
        run_started_at = excluded.run_started_at,
        recompute_from_month_index = excluded.recompute_from_month_index,
        is_full = excluded.is_full;
    {%- if crm_is_incremental() and not changes.nothing %}
    delete from {{ this }}
    {%- if not changes.full %}
    where
        {%- if period_type_column %}
        {%- for period in ['day', 'month', 'quarter', 'year'] %}
        ({{ period_type_column }} = '{{ period }}' and {{ crm_recompute_period_filter(period, date_column, changes) }})
        {{- ' or' if not loop.last }}
        {%- endfor %}
        {%- elif date_column %}
        {{ crm_recompute_date_filter(date_column, changes, lookback_months=lookback) }}
        {%- else %}
        {{ crm_recompute_filter(month_index_column, changes, lookback_months=lookback) }}
        {%- endif %}
    {%- endif %};
    {%- endif %}
{%- endmacro %}

{#- post-hook of every model: for a month-recomputed model, the build succeeded -#}
{% macro crm_incremental_post_hook() -%}
    {%- if crm_recompute_config() is none -%}{{ return('') }}{%- endif -%}
    update {{ crm_build_state_table() }}
    set built_at = run_started_at
    where model_name = '{{ this.identifier }}'
{%- endmacro %}

{#-
    For tests (crm_rebuilt_months_predicate): the first month index the current run rebuilt in `model_name`,
    or none when the model was rebuilt whole or not built by this run (the test then reads every row).
-#}
{% macro crm_rebuilt_from_month_index(model_name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set query -%}
        select recompute_from_month_index, is_full, built_at = {{ crm_run_started_literal() }} as built_now
        from {{ crm_build_state_table() }}
        where model_name = '{{ model_name }}'
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length == 0 or not rows[0]['built_now'] or rows[0]['is_full'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if rows[0]['recompute_from_month_index'] is none -%}
        {{ return(999999) }}
    {%- endif -%}
    {{ return(rows[0]['recompute_from_month_index'] | int) }}
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
