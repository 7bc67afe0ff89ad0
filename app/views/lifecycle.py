"""Lifecycle and tiers over time: status, tier and event counts per month, tier and segment migration."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Lifecycle and tiers")
ui.filter_caption(month, segment)
if segment:
    st.caption(
        f"With a segment, each month counts the customers who were {segment} in that month; the migration "
        f"charts show how the customers of {ui.month_label(month)} got there."
    )

counts = data.lifecycle_counts(month, segment)
if ui.empty_note(counts, "No CRM customers for this selection (anonymous customers are outside the CRM base)."):
    st.stop()
counts["report_month"] = pd.to_datetime(counts["report_month"])


def bars_by_month(frame, colors: dict, order, **options):
    """Customers per report month and label of rows of `counts` as bars (stacked unless options say
    otherwise), with the selected month marked."""
    fig = px.bar(
        frame,
        x="report_month",
        y="customers",
        color="label",
        color_discrete_map=colors,
        category_orders={"label": order},
        **options,
    )
    return ui.mark_month(fig, month)


left, right = st.columns(2)
with left:
    status = counts[counts["dimension"] == "status"]
    fig = bars_by_month(status, ui.STATUS_COLORS, data.STATUS_ORDER)
    ui.chart(fig, "life_status", title="Customers by activity status")
with right:
    events = counts[counts["dimension"] == "event"]
    if events.empty:
        st.info("No lifecycle events for this selection.")
    else:
        fig = bars_by_month(events, ui.EVENT_COLORS, data.EVENT_ORDER, barmode="group")
        ui.chart(fig, "life_events", title="Lifecycle events (New, Reactivated, Lost)")

tiers = counts[counts["dimension"] == "tier"]
show_inactive = st.toggle("Show Not Active in the tier chart", value=False, key="life_inactive")
if not show_inactive:
    tiers = tiers[tiers["label"] != data.NOT_ACTIVE]
fig = bars_by_month(tiers, ui.TIER_COLORS, data.TIER_ORDER)
ui.chart(fig, "life_tiers", title="Customers by value tier", height=400)


def migration_heatmap(frame: pd.DataFrame, order: list[str], title: str, key: str) -> None:
    if frame.empty:
        st.info("No migration for this selection.")
        return
    states_from = [s for s in ["Not in base", *order] if s in set(frame["from_state"])]
    states_to = [s for s in order if s in set(frame["to_state"])]
    extra_from = sorted(set(frame["from_state"]) - set(states_from))
    extra_to = sorted(set(frame["to_state"]) - set(states_to))
    states_from += extra_from
    states_to += extra_to
    matrix = frame.pivot_table(index="from_state", columns="to_state", values="customers", aggfunc="sum")
    matrix = matrix.reindex(index=states_from, columns=states_to)
    fig = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=states_to,
            y=states_from,
            colorscale="Blues",
            hoverongaps=False,
            text=matrix.fillna(0).astype(int).astype(str).where(matrix.notna(), "").values,
            texttemplate="%{text}",
            colorbar=dict(title="Customers"),
        )
    )
    fig.update_xaxes(title="to (this month)", side="bottom")
    fig.update_yaxes(title="from (previous month)", autorange="reversed")
    ui.chart(fig, key, title=title, height=460)


previous = ui.month_label(data.add_months(month, -1))
left, right = st.columns(2)
with left:
    tier_moves = data.migration("value_tier", month, segment)
    migration_heatmap(
        tier_moves, data.TIER_ORDER, f"Tier migration {previous} → {ui.month_label(month)}", "life_tier_migration"
    )
with right:
    segment_order = data.segments()["segment_label"].tolist()
    segment_moves = data.migration("rfm_segment", month, segment)
    migration_heatmap(
        segment_moves,
        segment_order,
        f"Segment migration {previous} → {ui.month_label(month)}",
        "life_segment_migration",
    )

with st.expander("Migration tables"):
    left, right = st.columns(2)
    left.dataframe(tier_moves.sort_values("customers", ascending=False), hide_index=True)
    right.dataframe(segment_moves.sort_values("customers", ascending=False), hide_index=True)
