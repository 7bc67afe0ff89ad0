"""Shared UI pieces of the CRM app: global filters, formatting, colours and chart helpers."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import crm_data as data

MONTH_KEY = "month"
SEGMENT_KEY = "segment"

TIER_COLORS = {
    "Diamond": "#2E86C1",
    "Platinum": "#7D3C98",
    "Gold": "#D4AC0D",
    "Silver": "#95A5A6",
    "Bronze": "#BA6A2B",
    "Passive": "#566573",
    data.NOT_ACTIVE: "#D5D8DC",
    "Not in base": "#F2F3F4",
}
STATUS_COLORS = {"Active": "#1E8449", data.NOT_ACTIVE: "#D5D8DC"}
EVENT_COLORS = {"New": "#2E86C1", "Reactivated": "#28B463", "Lost": "#CB4335"}
SEGMENT_PALETTE = [
    "#1B4F72",
    "#2874A6",
    "#5DADE2",
    "#117A65",
    "#48C9B0",
    "#F4D03F",
    "#F39C12",
    "#E67E22",
    "#CB4335",
    "#884EA0",
    "#7B7D7D",
    "#D5D8DC",
    "#AAB7B8",
]
HIGHLIGHT = "#E74C3C"
MUTED = "#D5D8DC"


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def sidebar_filters() -> tuple[dt.date, str | None]:
    """The global report month and segment filters (sidebar), kept in st.session_state.

    Both are bound to the URL query (?month=2025-06&segment=Champions) so a filtered page can be
    shared or bookmarked. Returns (report month, segment or None for all customers).
    """
    months = data.report_months()
    if not months:
        st.error("The customer monthly snapshot is empty: nothing to show. Run `make build`.")
        st.stop()
    month_options = [month_label(m) for m in months]
    if st.session_state.get(MONTH_KEY) not in month_options:
        st.session_state[MONTH_KEY] = month_options[0]
    segment_options = [data.ALL_SEGMENTS, *data.segments()["segment_label"].tolist()]
    if st.session_state.get(SEGMENT_KEY) not in segment_options:
        st.session_state[SEGMENT_KEY] = data.ALL_SEGMENTS

    with st.sidebar:
        st.selectbox(
            "Report month",
            month_options,
            key=MONTH_KEY,
            bind="query-params",
            help="Latest report month by default; pick an earlier month to navigate history.",
        )
        st.selectbox(
            "Segment",
            segment_options,
            key=SEGMENT_KEY,
            bind="query-params",
            help="Restricts every page to the customers in this RFM segment in the selected report month.",
        )
    month = dt.datetime.strptime(st.session_state[MONTH_KEY], "%Y-%m").date()
    segment = st.session_state[SEGMENT_KEY]
    return month, (None if segment == data.ALL_SEGMENTS else segment)


def current_filters() -> tuple[dt.date, str | None]:
    month = dt.datetime.strptime(st.session_state[MONTH_KEY], "%Y-%m").date()
    segment = st.session_state.get(SEGMENT_KEY, data.ALL_SEGMENTS)
    return month, (None if segment == data.ALL_SEGMENTS else segment)


def month_to_date_note(month: dt.date) -> None:
    """For a partial report month (SPEC section 13) a warning "month to date, data up to YYYY-MM-DD",
    so that its lower figures are not read as a drop; nothing for a complete month."""
    partial = data.month_to_date(month)
    if partial:
        st.warning(
            f"**{month_label(month)}: {partial}.** The month is not complete yet: its figures cover the data "
            "so far, so compare them with a full month with care.",
            icon=":material/event_upcoming:",
        )


def filter_caption(month: dt.date, segment: str | None, current_segment: bool = False) -> None:
    """The page's filters, after the month-to-date warning of a partial month (every page with a
    report month shows it). current_segment: the page follows the customers' current segment
    (dim_customers.segment_label: the sales pages and the KPI board), not their segment in `month`."""
    month_to_date_note(month)
    latest = data.report_months()[0]
    if segment and current_segment and month != latest:
        customers = data.segment_customers(latest, segment)
        st.caption(
            f"Report month **{month_label(month)}** · segment **{segment}** by the customers' current segment "
            f"({customers:,} customers in {month_label(latest)}; every figure on this page is restricted to them)"
        )
    elif segment:
        customers = data.segment_customers(month, segment)
        st.caption(
            f"Report month **{month_label(month)}** · segment **{segment}** "
            f"({customers:,} customers in {month_label(month)}; every figure on this page is restricted "
            "to them)"
        )
    else:
        st.caption(f"Report month **{month_label(month)}** · all customers")


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def fmt_money(value) -> str:
    return "–" if is_missing(value) else f"{value:,.0f}"


def fmt_count(value) -> str:
    return "–" if is_missing(value) else f"{value:,.0f}"


def fmt_change(value) -> str | None:
    return None if is_missing(value) else f"{value:+.1%}"


def fmt_value(value, kind: str) -> str:
    if is_missing(value):
        return "–"
    if kind == "money":
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,.0f}"


def segment_colors() -> dict[str, str]:
    labels = data.segments()["segment_label"].tolist()
    colors = {label: SEGMENT_PALETTE[i % len(SEGMENT_PALETTE)] for i, label in enumerate(labels)}
    colors.update({data.NOT_ACTIVE: MUTED, "Anonymous": "#AAB7B8", "Not in base": "#F2F3F4"})
    return colors


def segment_bars(frame: pd.DataFrame, values, text: list[str], segment: str | None, name: str | None = None):
    """Horizontal bars of values per rfm_segment of frame (first row on top), each segment in its colour,
    or, with a selected segment, that one alone (the others muted)."""
    colors = segment_colors()
    fig = go.Figure(
        go.Bar(
            x=values,
            y=frame["rfm_segment"],
            orientation="h",
            marker_color=[colors.get(s, MUTED) if segment in (None, s) else MUTED for s in frame["rfm_segment"]],
            text=text,
            textposition="auto",
            name=name,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


AXIS_TITLES = {
    "report_month": "",
    "sales_month": "",
    "period_start": "",
    "category": "",
    "brand": "",
    "reason": "",
    "from_state": "",
    "customers": "Customers",
    "sales": "Sales",
    "sales_12m": "Sales 12 months",
    "row_count": "Rows",
}


def style(fig: go.Figure, height: int = 380) -> go.Figure:
    """Common layout: compact margins, legend below the plot, readable axis titles."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title_text=""),
    )
    fig.for_each_xaxis(lambda axis: axis.update(title_text=AXIS_TITLES.get(axis.title.text, axis.title.text)))
    fig.for_each_yaxis(lambda axis: axis.update(title_text=AXIS_TITLES.get(axis.title.text, axis.title.text)))
    return fig


def chart(fig: go.Figure, key: str, title: str | None = None, height: int = 380, on_select=None) -> None:
    """A titled Plotly chart (the title is a Streamlit heading, so the modebar never hides it)."""
    if title:
        st.markdown(f"**{title}**")
    options = {"on_select": on_select, "selection_mode": "points"} if on_select else {}
    st.plotly_chart(style(fig, height), key=key, config={"displaylogo": False}, **options)


def sales_and_orders(x, sales, orders, bar_colors="#2874A6") -> go.Figure:
    """Sales as bars (bar_colors: one colour or one per bar) and orders as a line on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=x, y=sales, name="Sales", marker_color=bar_colors)
    fig.add_scatter(x=x, y=orders, name="Orders", mode="lines+markers", line=dict(color="#F39C12"), secondary_y=True)
    fig.update_yaxes(title_text="Sales", secondary_y=False)
    fig.update_yaxes(title_text="Orders", secondary_y=True, showgrid=False)
    return fig


def lines(frame: pd.DataFrame, x: str, traces: list[tuple[str, str, dict]]) -> go.Figure:
    """One line per (column, name, line style) of frame over column x; the first with markers."""
    fig = go.Figure()
    for position, (column, name, line) in enumerate(traces):
        fig.add_scatter(
            x=frame[x], y=frame[column], name=name, mode="lines+markers" if position == 0 else "lines", line=line
        )
    return fig


def select_segment(label: str | None) -> None:
    """Set the global segment filter (from callbacks, which run before the sidebar widget is drawn)."""
    st.session_state[SEGMENT_KEY] = label or data.ALL_SEGMENTS


def score_heatmap(frame: pd.DataFrame, key: str, title: str, height: int = 360) -> None:
    """Customers per (R score, F score) cell, a grid of the build's scores (var crm_score_bins: 1 to 5
    by default, the highest best). frame: rows of kpi_customer_grid (data.rfm_grid: a `customers` count
    per score combination)."""
    scores = sorted(data.score_options())
    counts = (
        frame.dropna(subset=["recency_score", "frequency_score"])
        .astype({"recency_score": int, "frequency_score": int})
        .groupby(["frequency_score", "recency_score"])["customers"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=scores, columns=scores, fill_value=0)
    )
    fig = go.Figure(
        go.Heatmap(
            z=counts.values,
            x=[str(s) for s in scores],
            y=[str(s) for s in scores],
            colorscale="Blues",
            text=counts.values,
            texttemplate="%{text}",
            colorbar=dict(title="Customers"),
            hovertemplate="R %{x} · F %{y}: %{z} customers<extra></extra>",
        )
    )
    fig.update_xaxes(title=f"R score ({scores[-1]} = most recent)", type="category")
    fig.update_yaxes(title=f"F score ({scores[-1]} = most frequent)", type="category")
    chart(fig, key, title=title, height=height)


INCOMPLETE_HISTORY_NOTE = "History incomplete: windows reach before the first month of data"


def shade_incomplete_history(fig: go.Figure) -> go.Figure:
    """Grey band over the report months whose windows reach before the data (is_history_complete).

    There every first buyer counts as New and nobody can be Lost yet: the band keeps readers from
    taking the start-up spike for a business event (docs/powerbi.md explains it).
    """
    months = data.incomplete_history()
    if months is not None:
        first, last = months
        fig.add_vrect(
            x0=pd.Timestamp(first) - pd.Timedelta(days=15),
            x1=pd.Timestamp(last) + pd.Timedelta(days=15),
            fillcolor="#BDC3C7",
            opacity=0.25,
            line_width=0,
            layer="below",
            annotation_text=INCOMPLETE_HISTORY_NOTE,
            annotation_position="top left",
            annotation_font_size=10,
            annotation_font_color="#566573",
        )
    return fig


def mark_month(fig: go.Figure, month: dt.date) -> go.Figure:
    """A dotted vertical line at the selected report month, over the incomplete-history band."""
    x = pd.Timestamp(month).to_pydatetime()
    fig.add_shape(
        type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper", line=dict(color="#7F8C8D", dash="dot", width=1)
    )
    return shade_incomplete_history(fig)


def empty_note(frame: pd.DataFrame, message: str) -> bool:
    """Show an info message and return True when the frame is empty."""
    if frame.empty:
        st.info(message)
        return True
    return False
