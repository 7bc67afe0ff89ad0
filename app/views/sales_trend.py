"""Sales trend by day, month, quarter or year, filtered by the global segment."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Sales trend")
ui.filter_caption(month, segment, current_segment=True)

period = st.segmented_control(
    "Period", data.PERIOD_TYPES, default="month", key="trend_period", required=True, format_func=str.capitalize
)
period = period or "month"
trend = data.sales_trend(period, month, segment)
if ui.empty_note(trend, "No sales for this selection."):
    st.stop()
trend["period_start"] = pd.to_datetime(trend["period_start"])
if period == "day":
    st.caption(f"Days of the three months up to {ui.month_label(month)}.")
else:
    st.caption(
        f"Whole history up to the end of {ui.month_label(month)}; the last period may be partial. In an earlier "
        "report month, a quarter or year still running after it is left out."
    )

c1, c2, c3, c4 = st.columns(4)
c1.metric("Sales", ui.fmt_money(trend["sales"].sum()), border=True)
c2.metric("Orders", ui.fmt_count(trend["orders"].sum()), border=True)
c3.metric("Returns", ui.fmt_money(-trend["returns_revenue"].sum()), border=True)
c4.metric("Units", ui.fmt_count(trend["units"].sum()), border=True)

fig = ui.sales_and_orders(trend["period_start"], trend["sales"], trend["orders"])
ui.chart(fig, "trend_sales", title=f"Sales and orders by {period}", height=420)

fig = go.Figure()
fig.add_scatter(
    x=trend["period_start"], y=trend["customers"], name="Buying customers", mode="lines", line=dict(color="#1E8449")
)
fig.add_bar(
    x=trend["period_start"],
    y=-trend["returns_revenue"],
    name="Returns (revenue)",
    marker_color="#CB4335",
    yaxis="y2",
    opacity=0.5,
)
fig.update_layout(
    yaxis=dict(title="Customers", rangemode="tozero"),
    yaxis2=dict(title="Returns", overlaying="y", side="right", showgrid=False, rangemode="tozero"),
)
ui.chart(fig, "trend_customers", title=f"Customers and returns by {period}", height=320)

with st.expander("Data"):
    table = trend.sort_values("period_start", ascending=False).copy()
    table["period_start"] = table["period_start"].dt.date
    st.dataframe(table, hide_index=True)
