{#- Cross-database helpers that dbt does not ship. Each dispatches so that another adapter
    (Spark, ...) only needs its own implementation. -#}

{#- true when the whole string matches the regular expression -#}
{% macro crm_regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('crm_regexp_full_match', 'crm_warehouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__crm_regexp_full_match(expression, pattern) -%}
    regexp_like({{ expression }}, '^(?:' || {{ pattern }} || ')$')
{%- endmacro %}

{% macro duckdb__crm_regexp_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro spark__crm_regexp_full_match(expression, pattern) -%}
    ({{ expression }} rlike concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}

{#- file name without its folder -#}
{% macro crm_file_basename(expression) -%}
    {{ return(adapter.dispatch('crm_file_basename', 'crm_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__crm_file_basename(expression) -%}
    regexp_replace({{ expression }}, '^.*[\\/]', '')
{%- endmacro %}

{#- number of whole calendar months from the month of start_date to the month of end_date -#}
{% macro crm_month_index(date_expression) -%}
    {{ return(adapter.dispatch('crm_month_index', 'crm_warehouse')(date_expression)) }}
{%- endmacro %}

{% macro default__crm_month_index(date_expression) -%}
    (extract(year from {{ date_expression }}) * 12 + extract(month from {{ date_expression }}) - 1)
{%- endmacro %}

{#- last day of the month of a date -#}
{% macro crm_month_end(date_expression) -%}
    {{ return(adapter.dispatch('crm_month_end', 'crm_warehouse')(date_expression)) }}
{%- endmacro %}

{% macro default__crm_month_end(date_expression) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, dbt.date_trunc('month', date_expression))) }} as date)
{%- endmacro %}

{#- cast that returns NULL instead of failing (dbt.safe_cast is a plain cast on dbt-duckdb) -#}
{% macro crm_try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('crm_try_cast', 'crm_warehouse')(expression, data_type)) }}
{%- endmacro %}

{% macro default__crm_try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{#- text / number labels of a date for the date dimension -#}
{% macro crm_date_label(expression, label) -%}
    {{ return(adapter.dispatch('crm_date_label', 'crm_warehouse')(expression, label)) }}
{%- endmacro %}

{% macro default__crm_date_label(expression, label) -%}
    {%- set formats = {'year_month': '%Y-%m', 'month_name': '%B', 'day_name': '%A'} -%}
    {%- if label == 'iso_day_of_week' -%}
        extract(isodow from {{ expression }})
    {%- else -%}
        strftime({{ expression }}, '{{ formats[label] }}')
    {%- endif -%}
{%- endmacro %}

{% macro spark__crm_date_label(expression, label) -%}
    {%- set formats = {'year_month': 'yyyy-MM', 'month_name': 'MMMM', 'day_name': 'EEEE'} -%}
    {%- if label == 'iso_day_of_week' -%}
        (dayofweek({{ expression }}) + 5) % 7 + 1
    {%- else -%}
        date_format({{ expression }}, '{{ formats[label] }}')
    {%- endif -%}
{%- endmacro %}

{#- One row per integer from start_expression to stop_expression (both included), column
    `series_value`. The bounds are SQL expressions over `from_relation_sql` (a one-row relation),
    so a date spine is sized by the data itself: no calendar bound is written in the SQL. -#}
{% macro crm_integer_series(start_expression, stop_expression, from_relation_sql) -%}
    {{ return(adapter.dispatch('crm_integer_series', 'crm_warehouse')(start_expression, stop_expression, from_relation_sql)) }}
{%- endmacro %}

{% macro default__crm_integer_series(start_expression, stop_expression, from_relation_sql) -%}
    select generate_series({{ start_expression }}, {{ stop_expression }}) as series_value
    from {{ from_relation_sql }}
{%- endmacro %}

{% macro duckdb__crm_integer_series(start_expression, stop_expression, from_relation_sql) -%}
    select unnest(range({{ start_expression }}, {{ stop_expression }} + 1)) as series_value
    from {{ from_relation_sql }}
{%- endmacro %}

{% macro spark__crm_integer_series(start_expression, stop_expression, from_relation_sql) -%}
    select explode(sequence({{ start_expression }}, {{ stop_expression }})) as series_value
    from {{ from_relation_sql }}
{%- endmacro %}

{#- raise a query error with a message (a text expression): a data test that must stop the build with
    a message naming what failed -#}
{% macro crm_raise_error(message_expression) -%}
    {{ return(adapter.dispatch('crm_raise_error', 'crm_warehouse')(message_expression)) }}
{%- endmacro %}

{% macro default__crm_raise_error(message_expression) -%}
    error({{ message_expression }})
{%- endmacro %}

{% macro spark__crm_raise_error(message_expression) -%}
    raise_error({{ message_expression }})
{%- endmacro %}

{#- Row number of each raw line in load order: numbered within each file in the file's line order
    (the models subtract each file's first number). DuckDB reads the CSV files in order with
    preserve_insertion_order. Spark reads files in parallel splits: monotonically_increasing_id()
    rises with the position inside a file, so ordering by (file, id) numbers each file's lines in
    file order. -#}
{% macro crm_load_row_number(file_column) -%}
    {{ return(adapter.dispatch('crm_load_row_number', 'crm_warehouse')(file_column)) }}
{%- endmacro %}

{% macro default__crm_load_row_number(file_column) -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__crm_load_row_number(file_column) -%}
    row_number() over (order by {{ file_column }}, monotonically_increasing_id())
{%- endmacro %}

{#- a hash of a whole row (`alias` of the relation) -#}
{% macro crm_row_hash(alias) -%}
    {{ return(adapter.dispatch('crm_row_hash', 'crm_warehouse')(alias)) }}
{%- endmacro %}

{% macro default__crm_row_hash(alias) -%}
    hash({{ alias }})
{%- endmacro %}

{% macro spark__crm_row_hash(alias) -%}
    hash({{ alias }}.*)
{%- endmacro %}

{#- numerator / denominator as DECIMAL(18, 4). DuckDB divides decimals in double precision and rounds
    the double to 4 decimals (267.02025 is stored as 267.0202499..., giving 267.0202); Spark divides
    decimals exactly (267.0203). Spark does the same as DuckDB here, so both engines give one value. -#}
{% macro crm_decimal_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('crm_decimal_ratio', 'crm_warehouse')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__crm_decimal_ratio(numerator, denominator) -%}
    cast({{ numerator }} / {{ denominator }} as decimal(18, 4))
{%- endmacro %}

{% macro spark__crm_decimal_ratio(numerator, denominator) -%}
    cast(floor(cast({{ numerator }} as double) / {{ denominator }} * 10000 + 0.5) / 10000 as decimal(18, 4))
{%- endmacro %}

{#- numerator / denominator in double precision: DuckDB divides decimals as doubles; Spark divides
    decimals as decimals, keeping as few as 6 decimals (a share of 0.0123618745 instead of
    0.012361874480384717), so it divides doubles here -#}
{% macro crm_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('crm_ratio', 'crm_warehouse')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__crm_ratio(numerator, denominator) -%}
    {{ numerator }} / {{ denominator }}
{%- endmacro %}

{% macro spark__crm_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / {{ denominator }}
{%- endmacro %}
