"""RFM score by customer: a searchable, filterable table of the month's customers and scores."""

import plotly.express as px
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("RFM score by customer")
ui.filter_caption(month, segment)

c1, c2, c3 = st.columns([2, 2, 1])
search = c1.text_input(
    "Search customer",
    key="rfm_search",
    placeholder="customer id",
    help="Case-insensitive; matches part of the customer id. Names and contact details are personal data and "
    "not in the serving file: the Campaign lists page adds them on request.",
)
tiers = c2.multiselect("Value tier", data.TIER_ORDER, key="rfm_tiers")
include_not_active = c3.checkbox(
    "Include Not Active", key="rfm_not_active", help="Not Active customers have no scores."
)
s1, s2, s3, s4 = st.columns(4)
score_options = data.score_options()  # the build's bins (crm_score_bins), best first
scores = {
    "recency_score": s1.multiselect("R score", score_options, key="rfm_r"),
    "frequency_score": s2.multiselect("F score", score_options, key="rfm_f"),
    "monetary_score": s3.multiselect("M score", score_options, key="rfm_m"),
    "tenure_score": s4.multiselect("T score", score_options, key="rfm_t"),
}

filters = dict(search=search, include_not_active=include_not_active, tiers=tiers, scores=scores)
found = data.customer_rfm_count(month, segment, **filters)
pages = max(1, -(-found // data.RFM_PAGE_SIZE))
head, pager = st.columns([4, 1], vertical_alignment="bottom")
page = (
    pager.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1, key="rfm_page")
    if pages > 1
    else 1
)
customers = data.customer_rfm(month, segment, **filters, offset=(int(page) - 1) * data.RFM_PAGE_SIZE)
first_row = (int(page) - 1) * data.RFM_PAGE_SIZE
head.markdown(
    f"**{found:,} customers**"
    + (
        f" · rows {first_row + 1:,} to {first_row + len(customers):,}, highest monetary value first"
        if pages > 1
        else ""
    )
)
st.dataframe(
    customers,
    hide_index=True,
    height=420,
    column_config={
        "customer_id": st.column_config.TextColumn("Customer", pinned=True),
        "customer_group": "Group",
        "city": "City",
        "activity_status": "Status",
        "value_tier": "Tier",
        "lifecycle_event": "Event",
        "rfm_segment": "Segment",
        "rfm_cell": "RFM",
        "recency_score": "R",
        "frequency_score": "F",
        "monetary_score": "M",
        "tenure_score": "T",
        "recency_days": st.column_config.NumberColumn("Days since last purchase"),
        "frequency_orders": st.column_config.NumberColumn("Orders 12 m"),
        "monetary_value": st.column_config.NumberColumn("Monetary 12 m", format="localized"),
        "tenure_months": st.column_config.NumberColumn("Tenure (months)"),
        "sales_12m": st.column_config.NumberColumn("Sales 12 m", format="localized"),
    },
)

# The charts count every customer of the filters (kpi_customer_grid), not only the page shown.
grid = data.rfm_grid(month, segment, include_not_active=include_not_active, tiers=tiers, scores=scores)
scored = grid.dropna(subset=["recency_score", "frequency_score"])
if search and search.strip():
    st.caption("The charts show the customers of the other filters (the search narrows the table only).")
left, right = st.columns(2)
with left:
    if not scored.empty:
        ui.score_heatmap(scored, "rfm_heat_chart", "Customers by R and F score")
    else:
        st.info("No scored customer matches the filters.")
with right:
    if not scored.empty:
        by_m = scored.groupby("monetary_score").agg(customers=("customers", "sum"), sales_12m=("sales_12m", "sum"))
        by_m = by_m.reset_index()
        fig = px.bar(by_m, x="monetary_score", y="sales_12m", text="customers", color_discrete_sequence=["#117A65"])
        fig.update_xaxes(dtick=1, title="M score")
        fig.update_yaxes(title="Sales 12 months")
        ui.chart(fig, "rfm_m_chart", title="12-month sales by M score (labels: customers)", height=360)

with st.expander("How are the scores computed? (score bands of the month)"):
    bands = data.score_bands(month)
    st.dataframe(
        bands,
        hide_index=True,
        column_config={
            "dimension": "Score",
            "measure_name": "Measure",
            "score": "Value",
            "lowest_measure": st.column_config.NumberColumn("Lowest", format="localized"),
            "highest_measure": st.column_config.NumberColumn("Highest", format="localized"),
            "customers": "Customers",
        },
    )
    st.caption(
        f"Scores are {len(score_options)} bins (1-{max(score_options)}, {max(score_options)} best) over the "
        "month's Active customers; equal measures always get the same score."
    )
