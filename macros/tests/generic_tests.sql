{#- Project generic tests (the dbt package hub is unreachable, so no dbt_utils). Each returns
    the failing rows: zero rows = pass. -#}

{#- every row satisfies a boolean SQL expression -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %} and ({{ where_clause }}){% endif %}
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

{#- the combination of columns is unique -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
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
{% test equal_aggregate(model, expression, compare_model, compare_expression=none, where_clause=none, compare_where_clause=none, tolerance=0) %}
with

this_side as (
    select {{ expression }} as measure
    from {{ model }}
    {%- if where_clause %} where {{ where_clause }}{% endif %}
),

other_side as (
    select {{ compare_expression or expression }} as measure
    from {{ compare_model }}
    {%- if compare_where_clause %} where {{ compare_where_clause }}{% endif %}
)

select
    this_side.measure as model_measure,
    other_side.measure as compare_measure
from this_side
cross join other_side
where abs(coalesce(this_side.measure, 0) - coalesce(other_side.measure, 0)) > {{ tolerance }}
{% endtest %}

{#- a quality gate: rejected rows (this model) stay under a share of all raw rows (base_model) -#}
{% test reject_share_below(model, base_model, max_share) %}
with

counts as (
    select
        (select count(*) from {{ model }}) as rejected_rows,
        (select count(*) from {{ base_model }}) as raw_rows
)

select *
from counts
where rejected_rows > {{ max_share }} * raw_rows
{% endtest %}
