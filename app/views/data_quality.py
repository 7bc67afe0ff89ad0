"""Data quality of a build: clean, flagged and rejected raw rows by source and reason."""

import plotly.express as px
import streamlit as st

import crm_data as data
import crm_ui as ui

st.title("Data quality")
builds = data.builds()
if ui.empty_note(builds, "fct_data_quality is empty."):
    st.stop()
labels = {
    row.build_id: f"{row.built_at:%Y-%m-%d %H:%M:%S} · {row.build_id[:8]} · {int(row.rows):,} rows"
    for row in builds.itertuples()
}
build_id = st.selectbox(
    "Build",
    list(labels),
    format_func=labels.get,
    key="dq_build",
    help="The latest build by default; the table keeps earlier builds.",
)
quality = data.data_quality(build_id)

totals = quality.groupby("disposition")["row_count"].sum()
c1, c2, c3 = st.columns(3)
c1.metric("Clean rows", ui.fmt_count(totals.get("clean", 0)), border=True)
c2.metric("Flagged rows (kept)", ui.fmt_count(totals.get("flagged", 0)), border=True)
c3.metric("Rejected rows", ui.fmt_count(totals.get("rejected", 0)), border=True)

issues = quality[quality["disposition"] != "clean"]
if issues.empty:
    st.success("No flagged or rejected rows in this build.")
else:
    by_reason = issues.groupby(["raw_source", "disposition", "reason"], as_index=False)["row_count"].sum()
    fig = px.bar(
        by_reason.sort_values("row_count"),
        x="row_count",
        y="reason",
        color="disposition",
        facet_col="raw_source",
        orientation="h",
        color_discrete_map={"flagged": "#F39C12", "rejected": "#CB4335"},
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    ui.chart(fig, "dq_reasons", title="Flagged and rejected rows by reason", height=420)
st.dataframe(quality.drop(columns=["build_id"]), hide_index=True)
st.caption("Flagged rows are kept with a flag; rejected rows are left out of the marts.")
