{#- A table, not a view (staging's default): the customers master is parsed once per build. As a
    view it was parsed again by every model and data test reading a customer staging model
    (base_crm__sales_transactions joins it: ~40 parses of the file per build). Its contact columns
    stay in the build file, which already holds them (restricted schema) and is owner-only. -#}
{{ config(materialized='table') }}
-- Every raw customers_master row, typed, with its reject reason (null = clean) and data-quality flags.
with

source as (
    select * from {{ source('crm', 'customers_master') }}
),

numbered as (
    select
        source.*,
        {{ crm_load_row_number('filename') }} as source_row_number
    from source
),

trimmed as (
    select
        {{ crm_file_basename('filename') }} as source_file,
        source_row_number,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(customer_name), '') as customer_name,
        nullif(trim(customer_group), '') as customer_group,
        nullif(trim(city), '') as city,
        nullif(trim(created_date), '') as created_date_raw,
        nullif(trim(email), '') as email,
        nullif(trim(mobile_number), '') as mobile_number,
        nullif(trim(opt_email), '') as opt_email_raw,
        nullif(trim(opt_sms), '') as opt_sms_raw,
        nullif(trim(opt_phone), '') as opt_phone_raw
    from numbered
),

typed as (
    select
        *,
        {{ crm_parse_iso_date('created_date_raw') }} as created_date,
        {{ crm_parse_flag('opt_email_raw') }} as opt_email,
        {{ crm_parse_flag('opt_sms_raw') }} as opt_sms,
        {{ crm_parse_flag('opt_phone_raw') }} as opt_phone,
        row_number() over (
            partition by customer_id order by source_file, source_row_number
        ) as key_occurrence
    from trimmed
),

checked as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when not {{ crm_regexp_full_match('customer_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_customer_id'
            when key_occurrence > 1 then 'duplicate_customer_id'
        end as reject_reason,
        nullif(
            concat_ws(
                ',',
                case when created_date_raw is not null and created_date is null then 'invalid_created_date' end,
                case when opt_email_raw is not null and opt_email is null then 'invalid_opt_email' end,
                case when opt_sms_raw is not null and opt_sms is null then 'invalid_opt_sms' end,
                case when opt_phone_raw is not null and opt_phone is null then 'invalid_opt_phone' end
            ),
            ''
        ) as dq_flags
    from typed
)

select * from checked
