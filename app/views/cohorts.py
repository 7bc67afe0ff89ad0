"""Cohort retention (kpi_cohort_retention): the triangle as a heatmap and retention curves."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Cohort retention")
ui.month_to_date_note(month)
st.caption(
    f"Up to {ui.month_label(month)}. A cohort is the month of a customer's first core purchase; a cohort "
    "customer is retained in a month with a core purchase (returns alone do not retain). Cells: the share "
    "of the cohort retained, months since acquisition across (0 = the cohort month). The triangle covers "
    "every CRM customer" + (f"; the segment filter ({segment}) does not apply here." if segment else ".")
)

cohorts = data.cohort_retention(month)
if ui.empty_note(cohorts, "No cohort up to this month (no core purchase yet)."):
    st.stop()
cohorts["cohort"] = pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
for column in ("revenue", "cumulative_revenue_per_customer"):
    cohorts[column] = cohorts[column].astype(float)

measure = st.radio(
    "Cell value",
    ["Retention rate", "Cumulative revenue per customer"],
    horizontal=True,
    key="cohort_measure",
)
value_column = "retention_rate" if measure == "Retention rate" else "cumulative_revenue_per_customer"
matrix = cohorts.pivot(index="cohort", columns="months_since_acquisition", values=value_column)
size = cohorts.groupby("cohort")["cohort_customers"].first().reindex(matrix.index)
per_customer = cohorts.pivot(
    index="cohort", columns="months_since_acquisition", values="cumulative_revenue_per_customer"
).reindex(index=matrix.index)
retained = cohorts.pivot(index="cohort", columns="months_since_acquisition", values="retained_customers").reindex(
    index=matrix.index
)
if value_column == "retention_rate":
    z, text, colorbar = matrix.values * 100, (matrix * 100).round(0), "Retained %"
else:
    z, text, colorbar = matrix.values, matrix.round(0), "Revenue per customer"
labels = [f"{cohort} ({int(n):,})" for cohort, n in size.items()]
fig = go.Figure(
    go.Heatmap(
        z=z,
        x=[str(c) for c in matrix.columns],
        y=labels,
        colorscale="Blues",
        hoverongaps=False,
        text=text.astype("Int64").astype(str).where(matrix.notna(), "").values,
        texttemplate="%{text}",
        customdata=np.dstack([retained.values, per_customer.values]),
        hovertemplate=(
            "Cohort %{y}, month %{x}<br>retained %{customdata[0]:,.0f}"
            "<br>cumulative revenue per customer %{customdata[1]:,.2f}<extra></extra>"
        ),
        colorbar=dict(title=colorbar),
    )
)
fig.update_yaxes(autorange="reversed", type="category", title="Cohort (customers)")
fig.update_xaxes(type="category", title="Months since acquisition")
ui.chart(
    fig, "cohort_heatmap", title=f"Cohort triangle: {measure.lower()}", height=max(380, 18 * len(matrix.index) + 120)
)

all_cohorts = list(matrix.index)
default = all_cohorts[:: max(1, len(all_cohorts) // 4)][:4]
chosen = st.multiselect("Cohorts to compare", all_cohorts, default=default, key="cohort_curves")
curves = cohorts[cohorts["cohort"].isin(chosen)]
fig = go.Figure()
for cohort, frame in curves.groupby("cohort"):
    fig.add_trace(
        go.Scatter(
            x=frame["months_since_acquisition"],
            y=frame["retention_rate"] * 100,
            mode="lines+markers",
            name=cohort,
            customdata=frame[["retained_customers", "cohort_customers"]].values,
            hovertemplate="%{x} months: %{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})<extra>"
            + cohort
            + "</extra>",
        )
    )
fig.update_xaxes(title="Months since acquisition")
fig.update_yaxes(title="Retained %", rangemode="tozero")
ui.chart(fig, "cohort_curves_chart", title="Retention curves")

with st.expander("Cohort table"):
    st.dataframe(cohorts.drop(columns=["cohort"]), hide_index=True)
