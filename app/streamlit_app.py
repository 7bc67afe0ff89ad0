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
from crm_warehouse import app_pages

APP_DIR = Path(__file__).resolve().parent

st.set_page_config(page_title="CRM warehouse", page_icon=":bar_chart:", layout="wide")

# the pages (view file, URL path, title, icon) from their one list, read by the browser test and the
# benchmark too; the default page lives at the app's root URL
PAGES = [
    st.Page(
        APP_DIR / "views" / f"{page.view}.py",
        title=page.nav_title,
        icon=page.icon,
        url_path=page.url_path or None,
        default=not page.url_path,
    )
    for page in app_pages.PAGES
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
