"""KPI board: the report month's KPIs with month-on-month and year-on-year change, and trends."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("KPI board")
ui.filter_caption(month, segment, current_segment=True)

board = data.kpi_board(month, segment)
board["report_month"] = pd.to_datetime(board["report_month"])
current = board[board["report_month"] == pd.Timestamp(month)]
if ui.empty_note(current, f"No KPI row for {ui.month_label(month)}."):
    st.stop()
row = current.iloc[0]

for start in range(0, len(data.KPI_MEASURES), 5):
    columns = st.columns(5)
    for column, (measure, label, kind) in zip(columns, data.KPI_MEASURES[start : start + 5]):
        mom = row.get(f"{measure}_mom_change")
        yoy = row.get(f"{measure}_yoy_change")
        # Fewer lost customers is good news.
        delta_color = "inverse" if measure == "lost_customers" else "normal"
        column.metric(
            label,
            ui.fmt_value(row[measure], kind),
            delta=ui.fmt_change(mom),
            delta_color=delta_color,
            delta_description="MoM",
            border=True,
            help=f"Change vs previous month (MoM): {ui.fmt_change(mom) or 'n/a'}; vs the same month last year (YoY): {ui.fmt_change(yoy) or 'n/a'}",
        )
    if start == 5:
        columns[4].metric(
            "CRM customers",
            ui.fmt_count(row["crm_customers"]),
            border=True,
            help="In-scope customers in the snapshot this month (Active + Not Active)",
        )

history = board[board["report_month"] <= pd.Timestamp(month)]
left, right = st.columns(2)
with left:
    fig = ui.sales_and_orders(
        history["report_month"],
        history["sales"],
        history["orders"],
        bar_colors=[ui.HIGHLIGHT if m == pd.Timestamp(month) else "#2874A6" for m in history["report_month"]],
    )
    ui.chart(fig, "kpi_sales", title="Sales and orders by month")
with right:
    crm = history[history["crm_customers"] > 0]
    fig = ui.lines(
        crm,
        "report_month",
        [
            ("active_customers", "Active customers", dict(color="#1E8449")),
            ("buying_customers", "Buying customers", dict(color="#5DADE2", dash="dash")),
        ],
    )
    ui.chart(ui.shade_incomplete_history(fig), "kpi_customers", title="Active and buying customers")

left, right = st.columns(2)
with left:
    fig = go.Figure()
    for measure, label in (
        ("new_customers", "New"),
        ("reactivated_customers", "Reactivated"),
        ("lost_customers", "Lost"),
    ):
        fig.add_bar(x=crm["report_month"], y=crm[measure], name=label, marker_color=ui.EVENT_COLORS[label])
    fig.update_layout(barmode="group")
    ui.chart(ui.shade_incomplete_history(fig), "kpi_events", title="New, reactivated and lost customers")
with right:
    fig = ui.lines(
        history,
        "report_month",
        [
            ("average_order_value", "Average order value", dict(color="#7D3C98")),
            ("sales_per_customer", "Sales per buying customer", dict(color="#117A65")),
        ],
    )
    ui.chart(fig, "kpi_values", title="Average order value and sales per customer")

with st.expander("KPI table"):
    table = history.sort_values("report_month", ascending=False).copy()
    table["report_month"] = table["report_month"].dt.strftime("%Y-%m")
    columns = ["report_month"] + [c for m, _, _ in data.KPI_MEASURES for c in (m, f"{m}_mom_change", f"{m}_yoy_change")]
    config = {c: st.column_config.NumberColumn(format="percent") for c in columns if c.endswith("_change")}
    st.dataframe(table[columns], hide_index=True, column_config=config)
st.caption(
    "Sales are net revenue (returns negative) of all customers, anonymous walk-ins included; "
    "active, new, lost and reactivated customers come from the CRM snapshot. "
    "Without a segment the figures are the kpi_monthly_board mart."
)
