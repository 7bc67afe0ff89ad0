-- Rejected campaign member rows with their raw values and a machine-readable reason.
with

members as (
    select * from {{ ref('base_crm__campaign_members') }}
),

final as (
    select
        source_file,
        source_row_number,
        reject_reason,
        campaign_id,
        campaign_name,
        channel,
        send_date_raw,
        report_month_raw,
        customer_id,
        member_group
    from members
    where reject_reason is not null
)

select * from final
