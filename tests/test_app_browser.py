"""The Streamlit app in a real headless Chromium: every page renders, without an error.

Starts `streamlit run app/streamlit_app.py` on a free localhost port (reading the published serving
file), waits for /_stcore/health, then opens each page URL in one headless Chromium driven by
Playwright for Python (pinned in requirements.txt). Playwright launches Debian's own chromium through
`executable_path`, so no browser is downloaded: never run `playwright install`. The test waits until
the page has rendered (the Streamlit websocket is idle, the title is shown, every Plotly chart is
drawn), then saves a PNG screenshot and the DOM in test-artifacts/screenshots/. A page fails when its
DOM holds a Streamlit exception block (stException), a traceback, an error alert or the "Page not
found" dialog, or when it never finished rendering.

Skipped when no Chromium binary is installed (Debian: apt-get install -y chromium; .ci/run does), a
failure under CI=true.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from conftest import lacking
from crm_warehouse.app_pages import CHROMIUM_ARGS, PAGES, VIEWPORT, AppNotStarted, chromium_path, streamlit_server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


CHROMIUM = chromium_path()


@pytest.fixture(autouse=True, scope="module")
def chromium_installed() -> None:
    if CHROMIUM is None:
        lacking("no chromium binary on PATH (install it: apt-get install -y chromium; CI installs it in .ci/run)")


ERROR_MARKERS = (
    'data-testid="stException"',
    "Traceback (most recent call last)",
    "stAlertContentError",
    "Page not found",
)


@pytest.fixture(scope="module")
def app_url(serving_db, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    try:
        with streamlit_server(serving_db, log_path, checkout=ROOT) as (url, _):
            yield url
    except AppNotStarted as error:
        pytest.fail(str(error))
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "streamlit.log").write_text(log_path.read_text() if log_path.exists() else "")


def rendered(dom: str, title: str, has_charts: bool) -> bool:
    """The script run finished, the page title is shown and every Plotly chart is drawn."""
    done = 'data-test-script-state="notRunning"' in dom and 'data-test-connection-state="CONNECTED"' in dom
    heading = re.search(r"<h1[^>]*>(?:<[^>]+>)*" + re.escape(title) + "<", dom) is not None
    charts = dom.count('data-testid="stPlotlyChart"')
    drawn = dom.count('class="main-svg"')
    return done and heading and (drawn >= charts > 0 if has_charts else True)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium page driven by Playwright (Debian's chromium: no browser download)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport=VIEWPORT)
            yield page
        finally:
            chromium.close()


def capture(page: Page, url: str, png: Path, title: str, has_charts: bool, timeout: float = 60) -> str:
    """Open url, wait until it rendered (or shows an error), save a full-page screenshot; returns the DOM."""
    page.goto(url, wait_until="domcontentloaded")
    deadline = time.monotonic() + timeout
    dom = ""
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        dom = page.content()
        if rendered(dom, title, has_charts) or any(marker in dom for marker in ERROR_MARKERS):
            break
    page.wait_for_timeout(250)  # let Plotly finish its transitions
    dom = page.content()
    # Streamlit scrolls inside its main block, not the document: grow the viewport to show the whole page.
    height = page.evaluate(
        'Math.max(1000, ...Array.from(document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stMainBlockContainer"]\'), e => e.scrollHeight + 120))'
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), 6000)})
    page.wait_for_timeout(250)
    page.screenshot(path=str(png))
    page.set_viewport_size(VIEWPORT)
    return dom


def screenshot(page: Page, url: str, name: str, title: str, has_charts: bool) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dom = capture(page, url, ARTIFACTS / f"{name}.png", title, has_charts)
    (ARTIFACTS / f"{name}.html").write_text(dom)
    return dom


def check(dom: str, name: str, title: str, has_charts: bool) -> None:
    for marker in ERROR_MARKERS:
        assert marker not in dom, f"{name}: the page shows an error ({marker}); see {ARTIFACTS / (name + '.html')}"
    assert rendered(dom, title, has_charts), f"{name}: the page did not finish rendering; see {name}.png"
    png = ARTIFACTS / f"{name}.png"
    assert png.exists() and png.stat().st_size > 20_000, f"{name}: missing or blank screenshot"


def test_every_page_renders_in_chromium(app_url, browser):
    failures = []
    for page in PAGES:
        dom = screenshot(browser, f"{app_url}/{page.url_path}", page.view, page.heading, page.has_charts)
        try:
            check(dom, page.view, page.heading, page.has_charts)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


def test_filtered_pages_render_in_chromium(app_url, serving_db, browser):
    """Month and segment come from the URL (?month=YYYY-MM&segment=...), as a shared link would."""
    import duckdb

    with duckdb.connect(str(serving_db), read_only=True) as connection:
        months = [
            row[0]
            for row in connection.execute(
                "select distinct report_month from fct_customer_monthly_snapshot order by 1 desc"
            ).fetchall()
        ]
    month = months[min(6, len(months) - 1)]
    query = f"?month={month:%Y-%m}&segment=Champions"
    for name, path, title in (
        ("kpi_board_champions", "", "KPI board"),
        ("sales_trend_champions", "sales-trend", "Sales trend"),
        # the pages that read the app's page-shaped marts (issue 25) with a month and a segment
        ("rfm_champions", "rfm", "RFM score by customer"),
        ("lifecycle_champions", "lifecycle", "Lifecycle and tiers"),
        ("customer_value_champions", "customer-value", "Customer value"),
        ("categories_champions", "categories", "Sales by category and brand"),
    ):
        dom = screenshot(browser, f"{app_url}/{path}{query}", name, title, True)
        check(dom, name, title, True)
        text = re.sub(r"<[^>]+>", "", dom)
        assert f"Report month {month:%Y-%m} · segment Champions" in text, f"{name}: filters not applied"
