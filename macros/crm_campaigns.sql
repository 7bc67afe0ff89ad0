{#-
    The campaigns folder (SPEC section 11): CRM_CAMPAIGN_DIR, by default the `campaigns` folder inside
    the raw landing folder CRM_RAW_DIR. It may be absent or empty (no campaigns): DuckDB's read_csv
    fails on a glob that matches nothing, so base_crm__campaign_members asks crm_campaign_files()
    first and reads an empty relation of the same columns when there is no file.
-#}
{% macro crm_campaign_dir() -%}
    {%- set configured = env_var('CRM_CAMPAIGN_DIR', '') -%}
    {%- set folder = configured if configured else crm_raw_dir() ~ '/campaigns' -%}
    {{ return(folder.replace('\\', '/').rstrip('/')) }}
{%- endmacro %}

{#- the campaign files of the folder (a list), or none when unknown (parsing, unit tests): the
    model then reads the source, so that dbt sees the dependency and unit tests can mock it -#}
{% macro crm_campaign_files() -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if target.type == 'spark' -%}
        {{ return(crm_spark_list_files(crm_campaign_dir() ~ '/*.csv')) }}
    {%- endif -%}
    {%- set query = "select file from glob('" ~ crm_campaign_dir() ~ "/*.csv') order by file" -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- the response window of a campaign in days (var crm_campaign_response_window_days of dbt_project.yml) -#}
{% macro crm_campaign_response_window_days() -%}
    {%- set days = var('crm_campaign_response_window_days') | int -%}
    {%- if days < 1 -%}
        {{ exceptions.raise_compiler_error("var crm_campaign_response_window_days must be a positive number of days, got " ~ days) }}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}

{#- whether the customer (alias customers, dim_customers / stg columns) consents to the channel in
    channel_expression: one branch per channel of var crm_contact_channels (its consent column = 1) -#}
{% macro crm_channel_consent(channel_expression, customers_alias) -%}
    case {{ channel_expression }}
        {%- for channel, columns in var('crm_contact_channels').items() %}
        when '{{ channel }}' then {{ customers_alias }}.{{ columns['consent_column'] }} = 1
        {%- endfor %}
    end
{%- endmacro %}

{#- the channels of var crm_contact_channels as a SQL list of string literals ('email', 'sms', 'phone') -#}
{% macro crm_contact_channel_list() -%}
    {%- for channel in var('crm_contact_channels') -%}
        '{{ channel }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
