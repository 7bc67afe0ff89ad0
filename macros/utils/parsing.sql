{#- Strict parsers used by staging. Each returns NULL when the text is not a valid value, so that
    the caller can tell "missing" (raw text null) from "invalid" (raw text present, parse null). -#}

{#- ISO date YYYY-MM-DD only; impossible dates such as 2023-02-30 give NULL -#}
{% macro crm_parse_iso_date(expression) -%}
    case
        when {{ crm_regexp_full_match(expression, "'[0-9]{4}-[0-9]{2}-[0-9]{2}'") }}
            then {{ crm_try_cast(expression, 'date') }}
    end
{%- endmacro %}

{#- a number (decimal point, optional sign, optional exponent); thousands separators are rejected -#}
{% macro crm_parse_decimal(expression) -%}
    case
        when {{ crm_regexp_full_match(expression, "'[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?'") }}
            then {{ crm_try_cast(expression, 'decimal(18, 4)') }}
    end
{%- endmacro %}

{#- consent flag: 0 or 1 (1.0 / 0.0 as written by some exports accepted); anything else NULL -#}
{% macro crm_parse_flag(expression) -%}
    case
        when {{ expression }} in ('1', '1.0') then 1
        when {{ expression }} in ('0', '0.0') then 0
    end
{%- endmacro %}
