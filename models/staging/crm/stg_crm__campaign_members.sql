-- Clean campaign members: one row per campaign and customer (SPEC section 11).
with

members as (
    select * from {{ ref('base_crm__campaign_members') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        send_date,
        report_month,
        customer_id,
        member_group,
        source_file,
        source_row_number
    from members
    where reject_reason is null
)

select * from final
