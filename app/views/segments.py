"""Segment analysis: customers and sales by RFM segment, the selected segment in detail."""

import pandas as pd
import plotly.express as px
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Segment analysis")
ui.filter_caption(month, segment)

summary = data.segment_summary(month)
if ui.empty_note(summary, f"No segment summary for {ui.month_label(month)}."):
    st.stop()
colors = ui.segment_colors()

if segment == data.ANONYMOUS:
    st.info(
        "Anonymous walk-in customers are outside the CRM base: they have no RFM segment. "
        "The sales pages show their purchases."
    )


def pick_clicked_segment() -> None:
    """Clicking a bar of the customers chart selects that segment everywhere."""
    state = st.session_state.get("seg_customers")
    points = state.selection.points if state is not None else []
    if points and points[0].get("y") in set(summary["rfm_segment"]):
        ui.select_segment(points[0]["y"])


left, right = st.columns(2)
with left:
    fig = ui.segment_bars(
        summary,
        summary["customers"],
        [f"{c:,} ({s:.0%})" for c, s in zip(summary["customers"], summary["share_of_customers"])],
        segment,
        name="Customers",
    )
    ui.chart(
        fig,
        "seg_customers",
        title="Customers by segment (click a bar to select it)",
        height=430,
        on_select=pick_clicked_segment,
    )
with right:
    fig = ui.segment_bars(
        summary,
        summary["sales_12m"],
        [f"{s:.0%}" for s in summary["share_of_sales_12m"].fillna(0)],
        segment,
        name="Sales 12 months",
    )
    ui.chart(fig, "seg_sales", title="Sales in the last 12 months by segment", height=430)

if segment and segment in set(summary["rfm_segment"]):
    selected = summary[summary["rfm_segment"] == segment].iloc[0]
    head, clear = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader(segment)
    clear.button(
        "Show all customers",
        key="seg_clear",
        on_click=ui.select_segment,
        args=(None,),
        icon=":material/filter_alt_off:",
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Customers", ui.fmt_count(selected["customers"]), border=True)
    c2.metric("Share of customers", f"{selected['share_of_customers']:.1%}", border=True)
    c3.metric("Sales this month", ui.fmt_money(selected["sales_month"]), border=True)
    c4.metric("Share of 12-month sales", f"{(selected['share_of_sales_12m'] or 0):.1%}", border=True)
    if isinstance(selected["segment_description"], str):
        st.markdown(
            f"**Who:** {selected['segment_description']}  \n"
            f"**Suggested action:** {selected['segment_suggested_action']}"
        )
    moves = data.migration("rfm_segment", month, None)
    inflow = moves[(moves["to_state"] == segment) & (moves["from_state"] != segment)]
    left, right = st.columns(2)
    with left:
        if not inflow.empty:
            fig = px.bar(
                inflow.sort_values("customers"),
                x="customers",
                y="from_state",
                orientation="h",
                color_discrete_sequence=["#2874A6"],
            )
            ui.chart(fig, "seg_inflow", title=f"Joined {segment} this month, coming from", height=320)
        else:
            st.info(f"No customer joined {segment} in {ui.month_label(month)}.")
    with right:
        rfm = data.rfm_grid(month, segment, include_not_active=True)
        if not rfm.empty and rfm["recency_score"].notna().any():
            ui.score_heatmap(rfm, "seg_heat", f"{segment}: customers by R and F score", height=320)

history = data.segment_history(month)
history["report_month"] = pd.to_datetime(history["report_month"])
fig = px.area(
    history,
    x="report_month",
    y="customers",
    color="rfm_segment",
    color_discrete_map=colors,
    category_orders={"rfm_segment": summary["rfm_segment"].tolist()},
)
ui.chart(ui.shade_incomplete_history(fig), "seg_history", title="Customers by segment over time", height=420)

table = summary[
    [
        "rfm_segment",
        "customers",
        "share_of_customers",
        "sales_month",
        "share_of_sales_month",
        "sales_12m",
        "share_of_sales_12m",
        "segment_description",
        "segment_suggested_action",
    ]
]
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "rfm_segment": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_of_customers": st.column_config.NumberColumn("Share of customers", format="percent"),
        "sales_month": st.column_config.NumberColumn("Sales in month", format="localized"),
        "share_of_sales_month": st.column_config.NumberColumn("Share of month sales", format="percent"),
        "sales_12m": st.column_config.NumberColumn("Sales 12 months", format="localized"),
        "share_of_sales_12m": st.column_config.NumberColumn("Share of 12-month sales", format="percent"),
        "segment_description": "Description",
        "segment_suggested_action": "Suggested action",
    },
)
st.caption("Pick a segment in the sidebar, or click its bar, to highlight it here and filter every other page.")
