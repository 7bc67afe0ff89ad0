-- One row per campaign (SPEC section 11): members, responders, response rate and revenue per member
-- of the contacted and the held-out group, the uplift (contacted minus held-out response rate, in
-- percentage points) with its 95% confidence interval, and the incremental revenue.
--
-- Confidence interval: the two-proportion normal approximation (Wald interval, unpooled variance):
-- uplift +/- 1.959964 * sqrt(p_c (1 - p_c) / n_c + p_h (1 - p_h) / n_h). It is the standard interval
-- for a difference of two independent proportions and is adequate when each group has some tens of
-- responders and non-responders; with very small groups or rates at 0 or 1 it is too narrow (it
-- collapses to a point when both rates are 0 or 1), so read is_uplift_significant with the group
-- sizes. Null when a group is empty. Significant = the interval excludes 0.
-- Incremental revenue = (revenue per contacted member - revenue per held-out member) x contacted members.
-- Status: running until the response window of the campaign has passed the latest data date.
with

members as (
    select * from {{ ref('fct_campaign_members') }}
),

groups as (
    select
        campaign_id,
        sum(case when member_group = 'contacted' then 1 else 0 end) as contacted_members,
        sum(case when member_group = 'holdout' then 1 else 0 end) as holdout_members,
        sum(case when member_group = 'contacted' and responded then 1 else 0 end) as contacted_responders,
        sum(case when member_group = 'holdout' and responded then 1 else 0 end) as holdout_responders,
        sum(case when member_group = 'contacted' then window_revenue else 0 end) as contacted_revenue,
        sum(case when member_group = 'holdout' then window_revenue else 0 end) as holdout_revenue
    from members
    group by campaign_id
),

campaigns as (
    select distinct
        campaign_id,
        campaign_name,
        channel,
        send_date,
        report_month,
        response_window_end,
        is_window_complete
    from members
),

rates as (
    select
        campaigns.*,
        groups.contacted_members,
        groups.holdout_members,
        groups.contacted_responders,
        groups.holdout_responders,
        groups.contacted_revenue,
        groups.holdout_revenue,
        groups.contacted_responders / nullif(groups.contacted_members, 0) as contacted_rate,
        groups.holdout_responders / nullif(groups.holdout_members, 0) as holdout_rate,
        {{ crm_ratio('groups.contacted_revenue', 'nullif(groups.contacted_members, 0)') }}
            as contacted_revenue_per_member,
        {{ crm_ratio('groups.holdout_revenue', 'nullif(groups.holdout_members, 0)') }} as holdout_revenue_per_member
    from campaigns
    inner join groups
        on campaigns.campaign_id = groups.campaign_id
),

intervals as (
    select
        *,
        contacted_rate - holdout_rate as uplift,
        1.959964 * sqrt(
            contacted_rate * (1 - contacted_rate) / nullif(contacted_members, 0)
            + holdout_rate * (1 - holdout_rate) / nullif(holdout_members, 0)
        ) as margin_of_error
    from rates
),

final as (
    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(send_date as date) as send_date,
        cast(report_month as date) as report_month,
        cast({{ crm_campaign_response_window_days() }} as integer) as response_window_days,
        cast(response_window_end as date) as response_window_end,
        cast(
            case when is_window_complete then 'completed' else 'running' end as {{ dbt.type_string() }}
        ) as campaign_status,
        cast(contacted_members as bigint) as contacted_members,
        cast(holdout_members as bigint) as holdout_members,
        cast(contacted_responders as bigint) as contacted_responders,
        cast(holdout_responders as bigint) as holdout_responders,
        cast(contacted_rate as double) as contacted_response_rate,
        cast(holdout_rate as double) as holdout_response_rate,
        cast(contacted_revenue_per_member as decimal(18, 4)) as contacted_revenue_per_member,
        cast(holdout_revenue_per_member as decimal(18, 4)) as holdout_revenue_per_member,
        cast(100 * uplift as double) as uplift_pp,
        cast(100 * (uplift - margin_of_error) as double) as uplift_ci_lower_pp,
        cast(100 * (uplift + margin_of_error) as double) as uplift_ci_upper_pp,
        cast(uplift - margin_of_error > 0 or uplift + margin_of_error < 0 as boolean) as is_uplift_significant,
        cast(
            (contacted_revenue_per_member - holdout_revenue_per_member) * contacted_members as decimal(18, 4)
        ) as incremental_revenue
    from intervals
)

select * from final
