"""CRM self-service app (Streamlit): KPI board, segments, RFM, sales, lifecycle, cohorts, campaigns.

    .venv/bin/streamlit run app/streamlit_app.py

Reads only the serving DuckDB file (CRM_SERVING_PATH, default warehouse/crm_serving.duckdb beside
CRM_DUCKDB_PATH), read-only, one short connection per query. See docs/app.md.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

import crm_data as data
import crm_ui as ui

APP_DIR = Path(__file__).resolve().parent

st.set_page_config(page_title="CRM warehouse", page_icon=":bar_chart:", layout="wide")

PAGES = [
    st.Page(
        APP_DIR / "views" / "kpi_board.py", title="KPI board", icon=":material/dashboard:", default=True
    ),  # the default page lives at the app's root URL
    st.Page(
        APP_DIR / "views" / "segments.py", title="Segment analysis", icon=":material/donut_large:", url_path="segments"
    ),
    st.Page(
        APP_DIR / "views" / "rfm_customers.py", title="RFM by customer", icon=":material/person_search:", url_path="rfm"
    ),
    st.Page(
        APP_DIR / "views" / "sales_trend.py", title="Sales trend", icon=":material/trending_up:", url_path="sales-trend"
    ),
    st.Page(
        APP_DIR / "views" / "categories.py",
        title="Sales by category and brand",
        icon=":material/category:",
        url_path="categories",
    ),
    st.Page(
        APP_DIR / "views" / "lifecycle.py",
        title="Lifecycle and tiers",
        icon=":material/timeline:",
        url_path="lifecycle",
    ),
    st.Page(APP_DIR / "views" / "cohorts.py", title="Cohort retention", icon=":material/grid_on:", url_path="cohorts"),
    st.Page(
        APP_DIR / "views" / "customer_value.py",
        title="Customer value",
        icon=":material/savings:",
        url_path="customer-value",
    ),
    st.Page(
        APP_DIR / "views" / "campaigns.py", title="Campaign lists", icon=":material/campaign:", url_path="campaigns"
    ),
    st.Page(
        APP_DIR / "views" / "campaign_results.py",
        title="Campaign results",
        icon=":material/insights:",
        url_path="campaign-results",
    ),
    st.Page(
        APP_DIR / "views" / "data_quality.py",
        title="Data quality",
        icon=":material/fact_check:",
        url_path="data-quality",
    ),
]


def missing_file(error: Exception) -> None:
    st.title("CRM warehouse")
    st.error(
        f"The serving warehouse file is not available: {error}\n\n"
        "Build and publish it first with **`make build`** (or `python3 scripts/tasks.py build`), "
        "then reload this page. Set `CRM_SERVING_PATH` to read another serving file."
    )


def main() -> None:
    try:
        data.serving_file_state()
        page = st.navigation(PAGES)
        ui.sidebar_filters()
        with st.sidebar:
            path, _ = data.serving_file_state()
            st.caption(f"Data: `{Path(path).name}` (read-only)")
        page.run()
    except data.ServingFileMissing as error:
        missing_file(error)
    except duckdb.Error as error:
        st.title("CRM warehouse")
        st.error(
            "The serving warehouse file could not be read (is it a complete, published build?):\n\n"
            f"`{type(error).__name__}: {str(error).splitlines()[0]}`\n\nRun **`make build`** to rebuild it."
        )


main()
