"""Customer value: P(alive), expected purchases and 12-month CLV by segment, the P(alive)
distribution, the high-value customers who are leaving, and how well the model predicted."""

import pandas as pd
import plotly.express as px
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Customer value")
ui.filter_caption(month, segment)
st.caption(
    "P(alive): probability that the customer still buys (has not silently left); CLV 12 months: "
    "expected revenue of the next 12 months, discounted (BG/NBD-family model with Gamma-Gamma "
    "spend, fitted every month; see docs/customer_value.md)."
)

by_segment = data.value_by_segment(month)
if ui.empty_note(by_segment, f"No customer value for {ui.month_label(month)}."):
    st.stop()

total_clv = float(by_segment["clv_12m"].sum())
customers = int(by_segment["customers"].sum())
mean_p_alive = float((by_segment["mean_p_alive"] * by_segment["customers"]).sum() / max(customers, 1))
cols = st.columns(3)
cols[0].metric("Customers with a purchase", ui.fmt_count(customers))
cols[1].metric("Mean P(alive)", f"{mean_p_alive:.1%}")
cols[2].metric("CLV next 12 months", ui.fmt_money(total_clv))

left, right = st.columns(2)
with left:
    fig = ui.segment_bars(
        by_segment,
        by_segment["clv_12m"].astype(float),
        [f"{share:.0%}" for share in by_segment["share_of_clv_12m"].fillna(0)],
        segment,
    )
    ui.chart(fig, "value_segments", title="CLV 12 months by segment", height=430)
with right:
    fig = ui.segment_bars(
        by_segment, by_segment["mean_p_alive"], [f"{p:.0%}" for p in by_segment["mean_p_alive"]], segment
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    ui.chart(fig, "value_p_alive_segments", title="Mean P(alive) by segment", height=430)

distribution = data.p_alive_distribution(month, segment)
fig = px.bar(distribution, x="p_alive_from", y="customers", hover_data=["clv_12m"])
fig.update_xaxes(title=f"P(alive) (bands of {data.P_ALIVE_BAND:.0%})", tickformat=".0%")
ui.chart(fig, "value_p_alive_distribution", title="P(alive) distribution", height=320)

st.subheader("High value, likely leaving")
max_p_alive = st.slider(  # by whole bands: kpi_customer_value_leaving keeps the best customers of each band
    "P(alive) at most",
    min_value=data.P_ALIVE_BAND,
    max_value=1 - data.P_ALIVE_BAND,
    value=0.5,
    step=data.P_ALIVE_BAND,
    key="value_max_p_alive",
)
leaving = data.leaving_customers(month, segment, max_p_alive)
if leaving.empty:
    st.info("No customer with a CLV history and P(alive) this low in this selection.")
else:
    st.caption("Ranked by the highest CLV 12 months of the last year; P(alive) 3 months ago shows the fall.")
    st.dataframe(
        leaving,
        hide_index=True,
        column_config={
            "p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
            "p_alive_3m_ago": st.column_config.NumberColumn("P(alive) 3 months ago", format="percent"),
            "clv_12m": st.column_config.NumberColumn("CLV 12 months", format="%.2f"),
            "peak_clv_12m": st.column_config.NumberColumn("Peak CLV (12 months)", format="%.2f"),
            "weeks_since_last_purchase": st.column_config.NumberColumn("Weeks since last purchase", format="%.1f"),
        },
    )

st.subheader("How well did the model predict?")
validation = data.value_validation()
if validation.empty:
    st.info("No calibration month with later months yet (the validation needs at least one month after it).")
else:
    calibration = pd.to_datetime(validation["calibration_month"].iloc[0])
    st.caption(
        f"Predicted at the end of {calibration:%Y-%m} for that month's customers, against what they "
        f"actually bought afterwards (model {validation['model'].iloc[0]})."
    )
    total = validation[validation["x_group"] == "total"]
    left, right = st.columns(2)
    with left:
        long = total.melt(
            id_vars=["report_month"],
            value_vars=["predicted_repeat_occasions", "actual_repeat_occasions"],
            var_name="series",
            value_name="occasions",
        )
        long["series"] = long["series"].map(
            {"predicted_repeat_occasions": "Predicted", "actual_repeat_occasions": "Actual"}
        )
        fig = px.line(long, x="report_month", y="occasions", color="series", markers=True)
        fig.update_yaxes(title="Cumulative repeat purchases")
        ui.chart(fig, "value_validation_total", title="Cumulative repeat purchases after calibration")
    with right:
        last = validation[
            (validation["months_ahead"] == validation["months_ahead"].max()) & (validation["x_group"] != "total")
        ]
        long = last.melt(
            id_vars=["x_group"],
            value_vars=["predicted_per_customer", "actual_per_customer"],
            var_name="series",
            value_name="per_customer",
        )
        long["series"] = long["series"].map({"predicted_per_customer": "Predicted", "actual_per_customer": "Actual"})
        fig = px.bar(long, x="x_group", y="per_customer", color="series", barmode="group")
        fig.update_xaxes(title="Repeat purchases before calibration (x)")
        fig.update_yaxes(title="Repeat purchases per customer")
        ui.chart(
            fig,
            "value_validation_by_x",
            title=f"Per customer by past frequency, {int(last['months_ahead'].iloc[0])} months ahead",
        )

with st.expander("Model fits of this month"):
    st.dataframe(data.value_model_fits(month), hide_index=True)
with st.expander("Value by tier"):
    st.dataframe(data.value_by_tier(month), hide_index=True)
