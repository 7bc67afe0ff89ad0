"""Sales by category and brand, filtered by the global segment."""

import pandas as pd
import plotly.express as px
import streamlit as st

import crm_data as data
import crm_ui as ui

month, segment = ui.current_filters()
st.title("Sales by category and brand")
ui.filter_caption(month, segment, current_segment=True)

window = st.segmented_control(
    "Period",
    list(data.SALES_WINDOWS),
    default="12m",
    key="category_window",
    required=True,
    format_func=data.SALES_WINDOWS.get,
)
window = window or "12m"
first, last = data.sales_window(month, window)
sales = data.sales_by_category(month, segment, window)
if ui.empty_note(sales, "No sales for this selection."):
    st.stop()
if window == "all":
    st.caption(f"All sales up to {last:%Y-%m-%d}.")
else:
    st.caption(f"Sales from {first:%Y-%m-%d} to {last:%Y-%m-%d}.")

by_category = sales.groupby("category", as_index=False)[["sales", "units", "orders"]].sum()
by_category = by_category.sort_values("sales", ascending=False)
by_brand = sales.groupby("brand", as_index=False)[["sales", "units"]].sum().sort_values("sales", ascending=False)

left, right = st.columns(2)
with left:
    fig = px.bar(
        by_category,
        x="category",
        y="sales",
        color="category",
        text_auto=",.0f",
        color_discrete_sequence=ui.SEGMENT_PALETTE,
    )
    fig.update_layout(showlegend=False)
    ui.chart(fig, "cat_category", title="Sales by category", height=380)
with right:
    fig = px.treemap(
        sales[sales["sales"] > 0],
        path=["category", "brand"],
        values="sales",
        color="category",
        color_discrete_sequence=ui.SEGMENT_PALETTE,
    )
    fig.update_traces(textinfo="label+value+percent root")
    ui.chart(fig, "cat_treemap", title="Category and brand", height=380)

left, right = st.columns(2)
with left:
    fig = px.bar(
        by_brand.head(15).iloc[::-1],
        x="sales",
        y="brand",
        orientation="h",
        text_auto=",.0f",
        color_discrete_sequence=["#2874A6"],
    )
    ui.chart(fig, "cat_brand", title="Brands by sales", height=380)
with right:
    trend = data.category_trend(month, segment)
    trend["sales_month"] = pd.to_datetime(trend["sales_month"])
    fig = px.bar(trend, x="sales_month", y="sales", color="category", color_discrete_sequence=ui.SEGMENT_PALETTE)
    ui.chart(fig, "cat_trend", title="Monthly sales by category (24 months)", height=380)

if window != "month":  # buying customers are distinct per month (kpi_sales_by_category): not summed
    sales = sales.drop(columns=["customers"])
st.dataframe(
    sales,
    hide_index=True,
    column_config={
        "category": "Category",
        "brand": "Brand",
        "crm_role": "CRM role",
        "sales": st.column_config.NumberColumn("Sales", format="localized"),
        "quantity": st.column_config.NumberColumn("Quantity", format="localized"),
        "units": st.column_config.NumberColumn("Units", format="localized"),
        "orders": "Orders",
        "customers": "Customers",
    },
)
