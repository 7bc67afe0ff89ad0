"""Campaign results (kpi_campaign_response): response by group and uplift with its 95% interval."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import crm_data as data
import crm_ui as ui

st.title("Campaign results")
st.caption(
    "Recorded campaigns (Campaign lists page or `scripts/campaign_list.py --campaign-name`) and how they "
    "worked: a response is a core purchase within the response window after the send date; the uplift is "
    "the contacted group's response rate minus the held-out group's, in percentage points, with a 95% "
    "confidence interval (two-proportion normal approximation). An interval that excludes 0 is significant. "
    "A campaign is running until its window has passed the latest data."
)

campaigns = data.campaign_results()
if ui.empty_note(
    campaigns,
    "No campaign recorded yet. Record one on the Campaign lists page or with "
    "`scripts/campaign_list.py --campaign-name ...`, then rebuild (`make build`).",
):
    st.stop()
for column in ("contacted_revenue_per_member", "holdout_revenue_per_member", "incremental_revenue"):
    campaigns[column] = campaigns[column].astype(float)
campaigns["label"] = (
    campaigns["campaign_name"] + " (" + pd.to_datetime(campaigns["send_date"]).dt.strftime("%Y-%m-%d") + ")"
)

table = campaigns[
    [
        "campaign_name",
        "channel",
        "send_date",
        "campaign_status",
        "contacted_members",
        "holdout_members",
        "contacted_response_rate",
        "holdout_response_rate",
        "uplift_pp",
        "uplift_ci_lower_pp",
        "uplift_ci_upper_pp",
        "is_uplift_significant",
        "contacted_revenue_per_member",
        "holdout_revenue_per_member",
        "incremental_revenue",
    ]
]
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "contacted_response_rate": st.column_config.NumberColumn("Contacted rate", format="percent"),
        "holdout_response_rate": st.column_config.NumberColumn("Holdout rate", format="percent"),
        "uplift_pp": st.column_config.NumberColumn("Uplift (pp)", format="%.1f"),
        "uplift_ci_lower_pp": st.column_config.NumberColumn("95% CI low", format="%.1f"),
        "uplift_ci_upper_pp": st.column_config.NumberColumn("95% CI high", format="%.1f"),
        "incremental_revenue": st.column_config.NumberColumn("Incremental revenue", format="%,.0f"),
    },
)

fig = go.Figure()
for status, color in (("completed", "#2E86C1"), ("running", "#AAB7B8")):
    part = campaigns[campaigns["campaign_status"] == status]
    if part.empty:
        continue
    fig.add_trace(
        go.Scatter(
            x=part["uplift_pp"],
            y=part["label"],
            mode="markers",
            name=status,
            marker=dict(size=11, color=color),
            error_x=dict(
                type="data",
                symmetric=False,
                array=part["uplift_ci_upper_pp"] - part["uplift_pp"],
                arrayminus=part["uplift_pp"] - part["uplift_ci_lower_pp"],
            ),
            hovertemplate="%{y}: %{x:.1f} pp<extra>" + status + "</extra>",
        )
    )
fig.add_vline(x=0, line=dict(color="#7F8C8D", dash="dot", width=1))
fig.update_xaxes(title="Uplift in percentage points (95% interval)")
fig.update_yaxes(type="category", title="")
ui.chart(
    fig, "campaign_uplift", title="Uplift with its 95% confidence interval", height=max(300, 60 * len(campaigns) + 120)
)

chosen = st.selectbox("Campaign", campaigns["label"].tolist(), key="campaign_result")
row = campaigns[campaigns["label"] == chosen].iloc[0]
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Contacted response rate",
    f"{row['contacted_response_rate']:.1%}",
    help=f"{row['contacted_responders']:,} of {row['contacted_members']:,} contacted members",
)
c2.metric(
    "Held-out response rate",
    "–" if pd.isna(row["holdout_response_rate"]) else f"{row['holdout_response_rate']:.1%}",
    help=f"{row['holdout_responders']:,} of {row['holdout_members']:,} held-out members",
)
c3.metric(
    "Uplift",
    "–" if pd.isna(row["uplift_pp"]) else f"{row['uplift_pp']:+.1f} pp",
    help=None
    if pd.isna(row["uplift_pp"])
    else f"95% interval {row['uplift_ci_lower_pp']:.1f} to {row['uplift_ci_upper_pp']:.1f} pp",
)
c4.metric("Incremental revenue", ui.fmt_money(row["incremental_revenue"]))
groups = pd.DataFrame(
    {
        "group": ["contacted", "holdout"],
        "response_rate": [row["contacted_response_rate"], row["holdout_response_rate"]],
        "revenue_per_member": [row["contacted_revenue_per_member"], row["holdout_revenue_per_member"]],
    }
)
left, right = st.columns(2)
with left:
    fig = go.Figure(
        go.Bar(
            x=groups["group"],
            y=groups["response_rate"] * 100,
            marker_color=["#2E86C1", "#AAB7B8"],
            text=(groups["response_rate"] * 100).round(1),
            textposition="outside",
        )
    )
    fig.update_yaxes(title="Response rate %", rangemode="tozero")
    ui.chart(fig, "campaign_groups", title=f"Response by group: {row['campaign_name']} ({row['campaign_status']})")
with right:
    fig = go.Figure(
        go.Bar(
            x=groups["group"],
            y=groups["revenue_per_member"],
            marker_color=["#2E86C1", "#AAB7B8"],
            text=groups["revenue_per_member"].round(2),
            textposition="outside",
        )
    )
    fig.update_yaxes(title="Core revenue per member in the window", rangemode="tozero")
    ui.chart(fig, "campaign_revenue", title="Revenue per member by group")
