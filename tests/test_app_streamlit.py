"""The Streamlit app driven by streamlit.testing.v1.AppTest on the published serving file.

Every page renders without an exception; the sidebar month selector navigates history; the sidebar
segment filter restricts every page (figures change and match the marts); the RFM search box and
the sales trend period switch work; a missing serving file gives a message, not a traceback. With a
segment the app reads the by-segment marts (it computes no KPI of its own).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from crm_warehouse import app_pages

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app" / "streamlit_app.py"


# {view file: the heading its page shows}, from the app's one page list
PAGES = {f"views/{page.view}.py": page.heading for page in app_pages.PAGES}
WITHOUT_CHARTS = {f"views/{page.view}.py" for page in app_pages.PAGES if not page.has_charts}
TIMEOUT = 60


@pytest.fixture(autouse=True)
def serving_env(monkeypatch, serving_db, build_db):
    """The app under test reads the same serving file as the test's own queries (conftest's serving_db),
    and the contact details of the Campaign lists page from the build warehouse it was published from
    (build_db: the demo built for this run when warehouse/ is not current)."""
    monkeypatch.setenv("CRM_SERVING_PATH", str(serving_db))
    monkeypatch.setenv("CRM_DUCKDB_PATH", str(build_db))


def sql(path: Path, query: str, params=None):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(query, params or []).fetchall()


@pytest.fixture(scope="session")
def latest(serving_db) -> dt.date:
    return sql(serving_db, "select max(report_month) from fct_customer_monthly_snapshot")[0][0]


@pytest.fixture(scope="session")
def big_segment(serving_db, latest) -> str:
    """The RFM segment with the most customers in the latest month."""
    return sql(
        serving_db,
        "select rfm_segment from kpi_segment_summary where report_month = ? and rfm_segment <> 'Not Active' "
        "order by customers desc, rfm_segment limit 1",
        [latest],
    )[0][0]


def new_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    return at


def decode(values) -> list:
    """Plotly JSON arrays: plain lists, or typed arrays {'dtype': 'f8', 'bdata': base64}."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values or [])


def figures(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def trace(at: AppTest, name: str, figure: int = 0) -> dict:
    for item in figures(at)[figure]["data"]:
        if item.get("name") == name:
            return item
    raise AssertionError(f"no trace {name!r} in figure {figure}")


def metric(at: AppTest, label: str) -> str:
    for element in at.metric:
        if element.label == label:
            return element.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


RFM_PAGE_SIZE = 500  # app/crm_data.py RFM_PAGE_SIZE: rows per page of the RFM table


def rfm_found(at: AppTest) -> int:
    """The RFM page's "**N customers**" line: every customer of the filters, over all pages."""
    for element in at.markdown:
        if element.value.startswith("**") and " customers**" in element.value:
            return int(element.value[2:].split(" customers**")[0].replace(",", ""))
    raise AssertionError("no customer count on the RFM page")


def money(value: float) -> str:
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def test_every_page_renders_with_latest_month_by_default(latest):
    at = new_app()
    assert at.session_state["month"] == f"{latest:%Y-%m}"
    assert at.session_state["segment"] == "All customers"
    for page, title in PAGES.items():
        goto(at, page)
        assert [t.value for t in at.title] == [title]
        if page not in WITHOUT_CHARTS:
            assert at.get("plotly_chart"), f"{page} shows no chart"


def test_kpi_board_matches_the_mart_and_the_month_selector_navigates_history(serving_db, latest):
    at = goto(new_app(), "views/kpi_board.py")
    months = [
        row[0]
        for row in sql(serving_db, "select distinct report_month from fct_customer_monthly_snapshot order by 1 desc")
    ]
    earlier = months[min(6, len(months) - 1)]
    for month in (latest, earlier):
        at.selectbox(key="month").set_value(f"{month:%Y-%m}").run()
        assert not at.exception
        sales, orders, active = sql(
            serving_db, "select sales, orders, active_customers from kpi_monthly_board where report_month = ?", [month]
        )[0]
        assert metric(at, "Sales") == money(float(sales))
        assert metric(at, "Orders") == f"{orders:,}"
        assert metric(at, "Active customers") == f"{active:,}"
        assert f"**{month:%Y-%m}**" in at.caption[0].value
    # the month stays selected on the other pages, whose figures follow it
    goto(at, "views/rfm_customers.py")
    scored = sql(
        serving_db,
        "select count(*) from fct_customer_monthly_snapshot where report_month = ? and activity_status = 'Active'",
        [earlier],
    )[0][0]
    assert rfm_found(at) == scored
    assert len(at.dataframe[0].value) == min(scored, RFM_PAGE_SIZE)
    goto(at, "views/campaigns.py")
    in_base = sql(serving_db, "select count(*) from fct_customer_monthly_snapshot where report_month = ?", [earlier])[
        0
    ][0]
    assert metric(at, "Customers in the list") == f"{in_base:,}"


def test_segment_filter_applies_to_every_page(serving_db, latest, big_segment):
    at = new_app()
    pages = [
        "views/kpi_board.py",
        "views/sales_trend.py",
        "views/categories.py",
        "views/lifecycle.py",
        "views/rfm_customers.py",
        "views/segments.py",
    ]
    before = {page: figures(goto(at, page)) for page in pages}
    before_list = metric(goto(at, "views/campaigns.py"), "Customers in the list")

    at.selectbox(key="segment").set_value(big_segment).run()
    assert not at.exception
    members = sql(serving_db, "select count(*) from dim_customers where segment_label = ?", [big_segment])[0][0]
    for page in pages:
        goto(at, page)
        assert at.session_state["segment"] == big_segment, "the segment must survive page switches"
        assert figures(at) != before[page], f"{page}: the segment filter changed nothing"
        assert f"segment **{big_segment}** ({members:,} customers" in at.caption[0].value

    # Sales trend = kpi_sales_by_period of the segment (latest month: membership = dim_customers.segment_label)
    goto(at, "views/sales_trend.py")
    expected = sql(
        serving_db,
        "select sum(sales) from kpi_sales_by_period where period_type = 'month' and segment_label = ?",
        [big_segment],
    )[0][0]
    assert sum(decode(trace(at, "Sales")["y"])) == pytest.approx(float(expected), abs=0.01)

    # KPI board: the month's sales of the segment
    goto(at, "views/kpi_board.py")
    expected = sql(
        serving_db,
        "select sales from kpi_sales_by_period where period_type = 'month' and period_start = ? and segment_label = ?",
        [latest, big_segment],
    )[0][0]
    assert metric(at, "Sales") == money(float(expected))
    active = sql(
        serving_db,
        "select active_customers from kpi_monthly_board_by_segment where report_month = ? and segment_label = ?",
        [latest, big_segment],
    )[0][0]
    assert metric(at, "Active customers") == f"{active:,}"

    # Categories (last 12 months) = kpi_sales_by_category of the segment
    goto(at, "views/categories.py")
    index = latest.year * 12 + latest.month - 1 - 11
    first = dt.date(index // 12, index % 12 + 1, 1)
    expected = sql(
        serving_db,
        "select sum(sales) from kpi_sales_by_category where segment_label = ? and invoice_month between ? and ?",
        [big_segment, first, latest],
    )[0][0]
    bars = figures(at)[0]["data"]  # one trace per category
    assert sum(sum(decode(item["y"])) for item in bars) == pytest.approx(float(expected), abs=0.01)

    # RFM table: only the segment's customers, all of them (counted), the first page shown
    goto(at, "views/rfm_customers.py")
    table = at.dataframe[0].value
    assert rfm_found(at) == members and len(table) == min(members, RFM_PAGE_SIZE)
    assert set(table["rfm_segment"]) == {big_segment}

    # Lifecycle: the latest month's status bar counts the segment's customers
    goto(at, "views/lifecycle.py")
    status = figures(at)[0]["data"]
    counted = sum(
        y for item in status for x, y in zip(item["x"], decode(item["y"])) if str(x).startswith(latest.isoformat())
    )
    assert counted == members

    # Campaign list: the sidebar segment is the default segment filter
    goto(at, "views/campaigns.py")
    assert metric(at, "Customers in the list") == f"{members:,}" != before_list

    # "Show all customers" on the segment page clears the filter everywhere
    goto(at, "views/segments.py")
    at.button(key="seg_clear").click().run()
    assert not at.exception and at.session_state["segment"] == "All customers"
    goto(at, "views/sales_trend.py")
    assert figures(at) == before["views/sales_trend.py"]


def test_rfm_search_box_finds_by_id_never_by_name(serving_db, build_db, latest):
    """Names are personal data (SPEC section 12): the page shows customer ids only, and a name finds
    nobody."""
    (customer_id,) = sql(
        serving_db,
        "select customer_id from fct_customer_monthly_snapshot where report_month = ? and activity_status = 'Active' "
        "order by customer_id limit 1",
        [latest],
    )[0]
    (name,) = sql(
        build_db, "select customer_name from restricted.dim_customer_contacts where customer_id = ?", [customer_id]
    )[0]
    at = goto(new_app(), "views/rfm_customers.py")
    at.text_input(key="rfm_search").set_value(customer_id.lower()).run()
    assert not at.exception
    assert at.dataframe[0].value["customer_id"].tolist() == [customer_id]
    assert not {"customer_name", "email", "mobile_number"} & set(at.dataframe[0].value.columns)

    at.text_input(key="rfm_search").set_value(name).run()
    assert not at.exception and at.dataframe[0].value.empty

    at.text_input(key="rfm_search").set_value("no such customer zzz").run()
    assert not at.exception and at.dataframe[0].value.empty

    at.text_input(key="rfm_search").set_value("").run()
    assert at.multiselect(key="rfm_r").options == ["5", "4", "3", "2", "1"]  # the demo's quintiles
    at.multiselect(key="rfm_r").set_value([5]).run()
    table = at.dataframe[0].value
    assert not table.empty and set(table["recency_score"]) == {5}


def test_score_options_follow_the_builds_bins(tmp_path, monkeypatch):
    """With the bank's quartiles (crm_score_bins = 4) the RFM page offers 4 to 1, never a 5 that finds nobody."""
    import crm_data

    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table kpi_rfm_score_bands as select range + 1 as score from range(4)")
    monkeypatch.setenv("CRM_SERVING_PATH", str(path))
    assert crm_data.score_options() == [4, 3, 2, 1]


def test_sales_trend_period_switch(serving_db, latest):
    at = goto(new_app(), "views/sales_trend.py")
    points = {}
    for period in ("day", "month", "quarter", "year"):
        at.segmented_control(key="trend_period").set_value(period).run()
        assert not at.exception
        sales = trace(at, "Sales")
        points[period] = len(decode(sales["x"]) if isinstance(sales["x"], dict) else sales["x"])
        total = sum(decode(sales["y"]))
        if period != "day":
            expected = sql(serving_db, "select sum(sales) from kpi_sales_by_period where period_type = ?", [period])[0][
                0
            ]
            assert total == pytest.approx(float(expected), abs=0.01)
    years = sql(serving_db, "select count(distinct year(invoice_date)) from fct_sales")[0][0]
    assert points["year"] == years
    assert points["year"] < points["quarter"] < points["month"] < points["day"] <= 92


def test_missing_serving_file_shows_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_SERVING_PATH", str(tmp_path / "nowhere" / "crm_serving.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.error and "make build" in at.error[0].value


def test_data_quality_page_shows_the_latest_build(serving_db):
    at = goto(new_app(), "views/data_quality.py")
    build_id, clean = sql(
        serving_db,
        "select build_id, sum(row_count) filter (where disposition = 'clean') from fct_data_quality "
        "where build_id = (select build_id from fct_data_quality order by built_at desc limit 1) group by 1",
    )[0]
    assert at.selectbox(key="dq_build").value == build_id
    assert metric(at, "Clean rows") == f"{clean:,}"


def test_campaign_page_channel_filter_and_downloads(serving_db, latest):
    at = goto(new_app(), "views/campaigns.py")
    assert {b.proto.label for b in at.get("download_button")} == {"Download CSV", "Download Excel"}
    assert "customer_name" not in at.dataframe[0].value.columns
    at.selectbox(key="camp_channel").set_value("email").run()
    assert not at.exception
    consented = sql(
        serving_db,
        "select count(*) from fct_customer_monthly_snapshot s join dim_customers c "
        "using (customer_id) where s.report_month = ? and c.opt_email = 1",
        [latest],
    )[0][0]
    assert metric(at, "Customers in the list") == f"{consented:,}"
    at.checkbox(key="camp_pii").check().run()
    columns = set(at.dataframe[0].value.columns)
    assert {"customer_name", "email"} <= columns and "mobile_number" not in columns


def test_customer_value_page_matches_the_marts(serving_db, latest):
    at = goto(new_app(), "views/customer_value.py")
    clv, customers = sql(
        serving_db,
        "select sum(clv_12m), sum(customers) from kpi_customer_value_by_segment where report_month = ?",
        [latest],
    )[0]
    assert metric(at, "CLV next 12 months") == money(float(clv))
    assert metric(at, "Customers with a purchase") == f"{customers:,}"
    # the P(alive) bands hold every customer with a value row
    bands = figures(at)[2]["data"][0]
    assert sum(decode(bands["y"])) == customers
    # lowering the P(alive) threshold never lengthens the leaving list
    at.slider(key="value_max_p_alive").set_value(0.9).run()
    wide = len(at.dataframe[0].value)
    at.slider(key="value_max_p_alive").set_value(0.1).run()
    assert not at.exception and len(at.dataframe[0].value) <= wide


def test_time_charts_shade_the_months_whose_history_is_incomplete(serving_db):
    """The first 24 months of data (is_history_complete false) are shaded on the CRM time charts."""
    first, last = sql(
        serving_db, "select min(report_month), max(report_month) from kpi_monthly_board where not is_history_complete"
    )[0]
    assert first is not None, "the demo data starts within the served history: its first months are incomplete"
    for page, chart_count in (("views/kpi_board.py", 2), ("views/lifecycle.py", 3), ("views/segments.py", 1)):
        at = goto(new_app(), page)
        shaded = []
        for figure in figures(at):
            for shape in figure["layout"].get("shapes", []):
                if shape.get("type") == "rect" and shape.get("xref") == "x":
                    shaded.append((str(shape["x0"])[:7], str(shape["x1"])[:7]))
        # the band starts half a month before the first incomplete month and ends half a month after the last
        expected = ((first - dt.timedelta(days=15)).strftime("%Y-%m"), (last + dt.timedelta(days=15)).strftime("%Y-%m"))
        assert shaded.count(expected) == chart_count, (page, shaded)
        notes = [a.get("text") for f in figures(at) for a in f["layout"].get("annotations", [])]
        assert notes.count("History incomplete: windows reach before the first month of data") == chart_count


def test_a_partial_month_is_flagged_month_to_date_on_every_page(serving_db, latest, tmp_path, monkeypatch):
    """SPEC section 13: a partial report month says "month to date, data up to YYYY-MM-DD" on every
    page (a copy of the serving file whose latest month is partial); a complete month says nothing."""
    at = new_app()
    assert not [w.value for w in at.warning if "month to date" in w.value]
    from test_excel_report import partial_copy

    as_of = f"{latest:%Y-%m}-07"
    monkeypatch.setenv("CRM_SERVING_PATH", str(partial_copy(serving_db, tmp_path / "partial.duckdb", latest, as_of)))
    at = new_app()
    for page in PAGES:
        if page in ("views/campaign_results.py", "views/data_quality.py"):
            continue  # no report month on these pages (campaigns by send date, builds)
        goto(at, page)
        warnings = [w.value for w in at.warning if "month to date" in w.value]
        assert warnings and f"month to date, data up to {as_of}" in warnings[0], (page, [w.value for w in at.warning])
