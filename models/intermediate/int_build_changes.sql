{{ config(materialized='table') }}
-- What this run rebuilds, in one row: read by every month-recomputed model in its own SQL
-- (`crm_changes(ref('int_build_changes'))`, macros/crm_incremental.sql) and by the data tests that
-- check only the rebuilt months (their `where`, docs/incremental.md "Data tests").
--
-- The digests of this run's inputs (int_source_digests) are compared with those the last completed
-- build was made from (int_build_completed, the last model of the DAG). A digest that differs,
-- appeared or disappeared marks its month: the run rebuilds from the earliest such month. A change
-- not tied to a month (seeds, vars: month_index null; rows tied to no month: -1), no completed
-- build yet, or --full-refresh rebuild every month.
--
-- A run that fails after this model (a later model or data test) does not reach int_build_completed,
-- which keeps the digests of the last completed build. The failed run may have rewritten months of
-- some tables from its inputs, which the next run's inputs need not match (a reverted file, a var
-- set back): so the next run also rebuilds what every run since the last completed build rebuilt
-- (this model's previous row, carried while its run is later than the completed build's).
--
-- The one read outside ref(): int_build_completed is downstream of every incremental model (a ref
-- would be a cycle), so its content as the previous completed run left it is looked up by name,
-- the way a model reads its own previous content through {{ '{{ this }}' }} (also read here).
{%- set completed = adapter.get_relation(this.database, this.schema, 'int_build_completed') if execute else none %}
{%- set previous = load_relation(this) if execute else none %}
with

current_digests as (
    select * from {{ ref('int_source_digests') }}
),

{%- if completed is not none and not flags.FULL_REFRESH %}

completed_digests as (
    select * from {{ completed }}
),

changed as (
    select coalesce(current_digests.month_index, completed_digests.month_index) as month_index
    from current_digests
    full outer join completed_digests
        on
            current_digests.input_name = completed_digests.input_name
            and current_digests.input_key = completed_digests.input_key
            and current_digests.month_index is not distinct from completed_digests.month_index
    where
        current_digests.input_name is null
        or completed_digests.input_name is null
        or current_digests.row_count <> completed_digests.row_count
        or current_digests.digest <> completed_digests.digest
),

changed_since_completed as (
    select
        coalesce(bool_or(month_index is null or month_index < 0), false) as is_full,
        min(month_index) as first_month_index
    from changed
),

{%- if previous is not none %}

unfinished_runs as (
    -- the previous run's range when that run did not complete (its own row carries the runs
    -- before it that did not complete either)
    select
        is_full,
        case when not is_full then rebuild_from_month_index end as first_month_index
    from {{ previous }} as previous_run
    where not exists (
        select 1
        from completed_digests
        where completed_digests.run_started_at >= previous_run.run_started_at
    )
),
{%- else %}

unfinished_runs as (
    select
        false as is_full,
        cast(null as integer) as first_month_index
    where false
),
{%- endif %}

summary as (
    select
        changed_since_completed.is_full or coalesce(unfinished_runs.is_full, false) as is_full,
        case
            when unfinished_runs.first_month_index is null then changed_since_completed.first_month_index
            when changed_since_completed.first_month_index is null then unfinished_runs.first_month_index
            else least(changed_since_completed.first_month_index, unfinished_runs.first_month_index)
        end as first_month_index
    from changed_since_completed
    left join unfinished_runs on true
),
{%- else %}

summary as (
    -- first build, or --full-refresh: every month
    select
        true as is_full,
        cast(null as integer) as first_month_index,
        count(*) as current_inputs
    from current_digests
),
{%- endif %}

final as (
    select
        cast(is_full as boolean) as is_full,
        -- full: 12 = January of year 1, so that `column >= rebuild_from_month(_index)` holds for
        -- every row; null = nothing to rebuild (a comparison with null keeps no row)
        cast(case when is_full then 12 else first_month_index end as integer) as rebuild_from_month_index,
        case
            when is_full then cast('0001-01-01' as date)
            else cast({{ dbt.dateadd('month', 'first_month_index - 12', "cast('0001-01-01' as date)") }} as date)
        end as rebuild_from_month,
        {{ crm_run_started_literal() }} as run_started_at
    from summary
)

select * from final
