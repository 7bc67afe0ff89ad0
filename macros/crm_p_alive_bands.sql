{#- The number of P(alive) bands of the app's Customer value page (var crm_p_alive_bands: 20 bands of
    width 0.05), the one home Python reads too (the app's P(alive) slider steps by one band:
    src/crm_warehouse/project_settings.py) -#}
{% macro crm_p_alive_bands() -%}
    {%- set bands = var('crm_p_alive_bands') | int -%}
    {%- if bands < 2 -%}
        {{ exceptions.raise_compiler_error("var crm_p_alive_bands must be a whole number of bands >= 2, got " ~ var('crm_p_alive_bands')) }}
    {%- endif -%}
    {{ return(bands) }}
{%- endmacro %}

{#- The P(alive) band of p_alive_expression, as a bound of width 1 / crm_p_alive_bands():
    bound 'from': the lower bound of bands closed below, floor(p * n) / n (P(alive) = 1 falls in the
    last band, from 1 - 1 / n); bound 'to': the upper bound of bands closed above, ceil(p * n) / n with
    p * n rounded to 9 decimals first (so that a P(alive) a rounding error above a bound stays in the
    band below it; 0 for P(alive) below 5e-11 / n) -#}
{% macro crm_p_alive_band(p_alive_expression, bound) -%}
    {%- set bands = crm_p_alive_bands() -%}
    {%- if bound == 'from' -%}
        least(floor({{ p_alive_expression }} * {{ bands }}), {{ bands - 1 }}) / {{ bands }}.0
    {%- elif bound == 'to' -%}
        ceil(round({{ p_alive_expression }} * {{ bands }}, 9)) / {{ bands }}.0
    {%- else -%}
        {{ exceptions.raise_compiler_error("crm_p_alive_band: bound must be 'from' or 'to', got " ~ bound) }}
    {%- endif -%}
{%- endmacro %}
