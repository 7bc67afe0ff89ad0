{#- Project generic tests (the dbt package hub is unreachable, so no dbt_utils). Each returns
    the failing rows: zero rows = pass. -#}

{#- every row satisfies a boolean SQL expression -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}

{#- every row satisfies each of several named boolean SQL expressions: one test (one query, one dbt
    node) instead of one per expression. Each expression is its own branch of a union, so that the
    database still prunes each one with its column statistics (a single scan testing an OR of every
    expression cost DuckDB more CPU). A failing row comes once per expression it fails, with
    failed_check, the expression's name (a null expression fails, as in expression_is_true). -#}
{% test expressions_are_true(model, expressions, where_clause=none) %}
{%- for name, expression in expressions.items() %}
{{ 'union all' if not loop.first }}
select
    '{{ name }}' as failed_check,
    *
from {{ model }}
where
    not coalesce(({{ expression }}), false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{%- endfor %}
{% endtest %}

{#- column lies within [min_value, max_value] (nulls pass; bounds optional) -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {%- if min_value is not none %}
    or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}

{#- the combination of columns is unique. With month_column (one of the columns, a date on the first
    of a month) or month_index_column (one of the columns, a month number), a cheap pass first: grouped by the other columns and a 60-month block, a row count
    above the number of distinct months (the bits set in a bit_or of one bit per month) marks the
    keys that may repeat; only their rows are grouped by every column. Exact either way (a repeated
    combination sets one bit twice; a date that is not a month start, a null or a collision only
    sends more keys to the exact pass), and far cheaper on a customer x month table than grouping
    its tens of millions of rows by customer and month. -#}
{% test unique_combination_of_columns(model, combination_of_columns, month_column=none, month_index_column=none) %}
{%- set month_key = month_column or month_index_column %}
{%- if month_key %}
{%- set others = combination_of_columns | reject('equalto', month_key) | list %}
{%- set month_number = crm_month_index(month_column) if month_column else month_index_column %}
with

keyed as (
    select
        {{ others | join(', ') }},
        {{ month_number }} as month_number
    from {{ model }}
),

candidate_keys as (
    select distinct {{ others | join(', ') }}
    from keyed
    group by {{ others | join(', ') }}, month_number - month_number % 60
    having count(*) <> coalesce(bit_count(bit_or(cast(power(2, month_number % 60) as bigint))), 0)
),

checked_rows as (
    select tested.*
    from (select * from {{ model }}) as tested
    inner join candidate_keys
        on
        {%- for column in others %}
            {{ 'and ' if not loop.first }}tested.{{ column }} is not distinct from candidate_keys.{{ column }}
        {%- endfor %}
)

select
    {{ combination_of_columns | join(', ') }},
    count(*) as duplicate_rows
from checked_rows
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{%- else %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endtest %}

{#- the model has at least min_rows rows (returns one row when it has fewer) -#}
{% test min_row_count(model, min_rows=1) %}
select row_count
from (select count(*) as row_count from {{ model }}) as counted
where row_count < {{ min_rows }}
{% endtest %}

{#- the column is null exactly when the condition holds -#}
{% test null_iff(model, column_name, condition) %}
select *
from {{ model }}
where (({{ condition }}) and {{ column_name }} is not null)
   or (not ({{ condition }}) and {{ column_name }} is null)
{% endtest %}

{#- two queries give the same aggregate: compare a measure of this model with another model -#}
{% test equal_aggregate(model, expression, compare_model, compare_expression=none, where_clause=none, compare_where_clause=none, tolerance=0, month_column=none, compare_month_column=none) %}
{#-
    month_column / compare_month_column (dates): both sides are compared from the first month this
    run rebuilt on (intermediate.int_build_changes; every month on a full build, none when nothing
    was rebuilt): the earlier months were reconciled by the run that wrote them and have not changed.
-#}
{%- set this_filters = [] -%}
{%- set other_filters = [] -%}
{%- if where_clause %}{% do this_filters.append('(' ~ where_clause ~ ')') %}{% endif -%}
{%- if compare_where_clause %}{% do other_filters.append('(' ~ compare_where_clause ~ ')') %}{% endif -%}
{%- if month_column and not var('crm_test_every_row', false) -%}
    {%- set first_month = '(select rebuild_from_month from ' ~ ref('int_build_changes') ~ ')' -%}
    {%- do this_filters.append(month_column ~ ' >= ' ~ first_month) -%}
    {%- do other_filters.append((compare_month_column or month_column) ~ ' >= ' ~ first_month) -%}
{%- endif %}
with

this_side as (
    select {{ expression }} as measure
    from {{ model }}
    {%- if this_filters %} where {{ this_filters | join(' and ') }}{% endif %}
),

other_side as (
    select {{ compare_expression or expression }} as measure
    from {{ compare_model }}
    {%- if other_filters %} where {{ other_filters | join(' and ') }}{% endif %}
)

select
    this_side.measure as model_measure,
    other_side.measure as compare_measure
from this_side
cross join other_side
where abs(coalesce(this_side.measure, 0) - coalesce(other_side.measure, 0)) > {{ tolerance }}
{% endtest %}

{#- a quality gate: rejected rows (this model) stay under a share of all raw rows (base_model).
    One query for both levels: every row carries the gate level (1 = above warn_share, 2 = above
    error_share); dbt warns on 1 and fails on 2. When the gate trips, the rows explain it: one row
    per top reason (at most 5) with its count, the first file and row number that has it, and the
    fix from seed reject_reasons; `explanation` says it in one line, and the on-run-end hook
    crm_explain_test_failures prints it. -#}
{% test reject_share_below(model, base_model, warn_share, error_share, raw_source) %}
{{ config(fail_calc='coalesce(max(gate_level), 0)', warn_if='>=1', error_if='>=2') }}
with

rejects as (
    select * from {{ model }}
),

reasons as (
    select * from {{ ref('reject_reasons') }}
    where raw_source = '{{ raw_source }}' and disposition = 'rejected'
),

counts as (
    select
        (select count(*) from rejects) as rejected_rows,
        (select count(*) from {{ base_model }}) as raw_rows
),

levels as (
    select
        rejected_rows,
        raw_rows,
        case
            when rejected_rows > {{ error_share }} * raw_rows then 2
            when rejected_rows > {{ warn_share }} * raw_rows then 1
            else 0
        end as gate_level
    from counts
),

numbered_rejects as (
    select
        reject_reason,
        source_file,
        source_row_number,
        count(*) over (partition by reject_reason) as reason_rows,
        row_number() over (partition by reject_reason order by source_file, source_row_number) as occurrence
    from rejects
    where (select gate_level from levels) > 0
),

top_reasons as (
    select
        reject_reason,
        reason_rows,
        source_file as example_file,
        source_row_number as example_row_number,
        row_number() over (order by reason_rows desc, reject_reason) as reason_rank
    from numbered_rejects
    where occurrence = 1
),

final as (
    select
        '{{ raw_source }}' as raw_source,
        case levels.gate_level when 2 then 'error' else 'warn' end as gate,
        levels.rejected_rows,
        levels.raw_rows,
        round(100.0 * levels.rejected_rows / levels.raw_rows, 2) as rejected_percent,
        top_reasons.reject_reason,
        top_reasons.reason_rows,
        top_reasons.example_file,
        top_reasons.example_row_number,
        coalesce(reasons.fix, 'see seed reject_reasons') as fix,
        levels.gate_level,
        {{ dbt.concat([
            "'" ~ raw_source ~ ": '",
            "cast(levels.rejected_rows as " ~ dbt.type_string() ~ ")",
            "' of '",
            "cast(levels.raw_rows as " ~ dbt.type_string() ~ ")",
            "' rows rejected ('",
            "cast(round(100.0 * levels.rejected_rows / levels.raw_rows, 2) as " ~ dbt.type_string() ~ ")",
            "'%, '",
            "case levels.gate_level when 2 then 'over the error threshold " ~ (error_share | float * 100) ~ "% of var crm_reject_share_error' else 'over the warn threshold " ~ (warn_share | float * 100) ~ "% of var crm_reject_share_warn' end",
            "'); reason '",
            "top_reasons.reject_reason",
            "': '",
            "cast(top_reasons.reason_rows as " ~ dbt.type_string() ~ ")",
            "' rows, e.g. '",
            "top_reasons.example_file",
            "' row '",
            "cast(top_reasons.example_row_number as " ~ dbt.type_string() ~ ")",
            "'. Fix: '",
            "coalesce(reasons.fix, 'see seed reject_reasons')",
        ]) }} as explanation
    from levels
    inner join top_reasons
        on top_reasons.reason_rank <= 5
    left join reasons
        on top_reasons.reject_reason = reasons.reject_reason
    where levels.gate_level > 0
)

select * from final
{% endtest %}

{#- Every customer value fit converged (SPEC section 9). A fit that did not stops the build with an
    error naming the report months and models (dbt would only print the number of failing rows).
    The error is raised in the filter, so that dbt's count(*) around the test cannot skip it.
    A month with nothing to fit (customers = 0: no customer with a core purchase for BG/NBD and
    MBG/NBD, none with a repeat occasion for Gamma-Gamma, as in the first month of data that starts
    late in a month) has no model rather than a failed one: its parameters and what they predict
    are null, and it does not stop the build. -#}
{% test crm_customer_value_fits_converged(model) %}
with

failed as (
    select
        string_agg(
            cast(report_month as {{ dbt.type_string() }}) || ' ' || model || ' (' || coalesce(optimizer_message, 'no message') || ')',
            '; ' order by report_month, model
        ) as fits,
        count(*) as failed_fits
    from {{ model }}
    where not converged and customers > 0
)

select fits
from failed
where
    failed_fits > 0
    and (
        case
            when failed_fits > 0
                then {{ crm_raise_error("'customer value fit did not converge (report month, model): ' || fits") }}
        end
    ) is null
{% endtest %}
