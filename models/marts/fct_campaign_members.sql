-- One row per campaign and member (SPEC section 11): the member's group, the campaign's send date
-- and response window, whether the member responded and the member's revenue in the window.
--
-- A response is a core purchase (a core line with positive quantity) dated within the response window:
-- after the send date (the send date itself excluded: a purchase that day may precede the send)
-- and up to send date + var crm_campaign_response_window_days (default 30) days. The revenue in the
-- window is the net revenue of the member's core lines in the window (returns of core products
-- negative): the revenue of the purchases a response is made of, so that device or accessory
-- purchases, rare and large, do not drown the campaign's effect in noise. Lines after the latest
-- data date (the earlier of the latest clean invoice date and the last report month's end) are not
-- seen: a campaign whose window ends later is still running (is_window_complete false).
{%- set window_days = crm_campaign_response_window_days() %}
with

members as (
    select * from {{ ref('stg_crm__campaign_members') }}
),

lines as (
    select * from {{ ref('int_sales_lines__enriched') }}
),

first_send as (
    select min(send_date) as first_send_date
    from members
),

campaign_lines as (
    -- only the lines a window can hold
    select lines.*
    from lines
    inner join first_send
        on lines.invoice_date > first_send.first_send_date
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

report_months as (
    select * from {{ ref('int_report_months') }}
),

latest_data as (
    select
        least(
            (select max(invoice_date) from lines),
            (select max(report_month_end) from report_months)
        ) as latest_data_date
),

windows as (
    select
        members.*,
        cast({{ dbt.dateadd('day', window_days, 'members.send_date') }} as date) as response_window_end
    from members
),

window_lines as (
    select
        windows.campaign_id,
        windows.customer_id,
        campaign_lines.invoice_date,
        campaign_lines.revenue,
        campaign_lines.crm_role = 'core' as is_core_line,
        campaign_lines.crm_role = 'core' and campaign_lines.quantity > 0 as is_core_purchase
    from windows
    inner join campaign_lines
        on
            windows.customer_id = campaign_lines.customer_id
            and windows.send_date < campaign_lines.invoice_date
            and windows.response_window_end >= campaign_lines.invoice_date
    cross join latest_data
    where campaign_lines.invoice_date <= latest_data.latest_data_date
),

responses as (
    select
        campaign_id,
        customer_id,
        min(case when is_core_purchase then invoice_date end) as first_response_date,
        sum(case when is_core_line then revenue else 0 end) as window_revenue
    from window_lines
    group by campaign_id, customer_id
),

final as (
    select
        cast(windows.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(windows.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(windows.campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(windows.channel as {{ dbt.type_string() }}) as channel,
        cast(windows.member_group as {{ dbt.type_string() }}) as member_group,
        cast(windows.send_date as date) as send_date,
        cast(windows.report_month as date) as report_month,
        cast(windows.response_window_end as date) as response_window_end,
        cast(windows.response_window_end <= latest_data.latest_data_date as boolean) as is_window_complete,
        cast(responses.first_response_date is not null as boolean) as responded,
        cast(responses.first_response_date as date) as first_response_date,
        cast(coalesce(responses.window_revenue, 0) as decimal(18, 4)) as window_revenue,
        cast(
            {{ crm_channel_consent('windows.channel', 'customers') }} as boolean
        ) as has_channel_consent
    from windows
    cross join latest_data
    left join responses
        on
            windows.campaign_id = responses.campaign_id
            and windows.customer_id = responses.customer_id
    left join customers
        on windows.customer_id = customers.customer_id
)

select * from final
