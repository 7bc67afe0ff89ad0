{#- The label of customers in scope but not Active, as a SQL string literal (var crm_not_active_label,
    the one home Python reads too: src/crm_warehouse/project_settings.py) -#}
{% macro crm_not_active() -%}
    '{{ var("crm_not_active_label") }}'
{%- endmacro %}
