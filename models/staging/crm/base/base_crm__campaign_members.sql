-- Every raw campaign member row (SPEC section 11), typed, with the reason of the first gate it fails
-- (null = clean). An absent or empty campaigns folder reads an empty relation of the same columns
-- (macros/crm_campaigns.sql): no campaigns.
{%- set campaign_files = crm_campaign_files() %}
with

source as (
    {%- if campaign_files is none or campaign_files | length > 0 %}
    select * from {{ source('crm_campaigns', 'campaign_members') }}
    {%- else %}
    -- no campaign file in {{ crm_campaign_dir() }}
    select
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_name,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as send_date,
        cast(null as {{ dbt.type_string() }}) as report_month,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as member_group,
        cast(null as {{ dbt.type_string() }}) as filename
    where false
    {%- endif %}
),

customers as (
    select * from {{ ref('base_crm__customers') }}
    where reject_reason is null
),

numbered as (
    select
        source.*,
        {{ crm_load_row_number('filename') }} as load_row_id
    from source
),

trimmed as (
    select
        {{ crm_file_basename('filename') }} as source_file,
        load_row_id - min(load_row_id) over (partition by filename) + 1 as source_row_number,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(campaign_name), '') as campaign_name,
        lower(nullif(trim(channel), '')) as channel,
        nullif(trim(send_date), '') as send_date_raw,
        nullif(trim(report_month), '') as report_month_raw,
        nullif(trim(customer_id), '') as customer_id,
        lower(nullif(trim(member_group), '')) as member_group
    from numbered
),

typed as (
    select
        *,
        {{ crm_parse_iso_date('send_date_raw') }} as send_date,
        {{ crm_parse_iso_date('report_month_raw') }} as report_month
    from trimmed
),

campaign_fields as (
    -- a campaign's own fields must be the same on every row of the campaign
    select
        campaign_id,
        count(
            distinct concat_ws(
                '|',
                coalesce(campaign_name, '<null>'),
                coalesce(channel, '<null>'),
                coalesce(send_date_raw, '<null>'),
                coalesce(report_month_raw, '<null>')
            )
        ) as field_variants
    from typed
    where campaign_id is not null
    group by campaign_id
),

gated as (
    select
        typed.*,
        case
            when typed.campaign_id is null then 'missing_campaign_id'
            when typed.customer_id is null then 'missing_customer_id'
            when not {{ crm_regexp_full_match('typed.customer_id', "'" ~ var('crm_valid_id_regex') ~ "'") }}
                then 'invalid_customer_id'
            when typed.send_date is null then 'invalid_send_date'
            when
                typed.report_month is null
                or typed.report_month <> cast({{ dbt.date_trunc('month', 'typed.report_month') }} as date)
                then 'invalid_report_month'
            when typed.channel is not null and typed.channel not in ({{ crm_contact_channel_list() }})
                then 'unknown_channel'
            when typed.member_group is null or typed.member_group not in ('contacted', 'holdout')
                then 'unknown_member_group'
            when campaign_fields.field_variants > 1 then 'inconsistent_campaign_fields'
            when customers.customer_id is null then 'unknown_customer_id'
        end as first_gate_reason
    from typed
    left join campaign_fields
        on typed.campaign_id = campaign_fields.campaign_id
    left join customers
        on typed.customer_id = customers.customer_id
),

checked as (
    select
        *,
        coalesce(
            first_gate_reason,
            case
                when
                    row_number() over (
                        partition by campaign_id, customer_id, first_gate_reason is null
                        order by source_file, source_row_number
                    ) > 1
                    then 'duplicate_member'
            end
        ) as reject_reason
    from gated
),

final as (
    select
        source_file,
        source_row_number,
        campaign_id,
        campaign_name,
        channel,
        send_date_raw,
        send_date,
        report_month_raw,
        report_month,
        customer_id,
        member_group,
        reject_reason
    from checked
)

select * from final
