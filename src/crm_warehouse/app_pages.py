"""The pages of the Streamlit app and how a program drives them: one list read by the app's navigation
(app/streamlit_app.py), its browser test (tests/test_app_browser.py) and its benchmark
(scripts/bench_app.py), and the one way both start the app and a headless Chromium.

Chromium is Debian's own (`apt-get install -y chromium`), launched by Playwright through
executable_path: never `playwright install`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crm_warehouse.paths import ROOT


@dataclass(frozen=True)
class AppPage:
    """One page: its view (app/views/<view>.py), URL path ("" = the app's root, the default page),
    title in the navigation, heading (the page's st.title), icon, whether it draws Plotly charts, and
    the choices a user can click after the first render ((label, button or option text): the
    benchmark times them)."""

    view: str
    url_path: str
    nav_title: str
    heading: str
    icon: str
    has_charts: bool = True
    choices: tuple[tuple[str, str], ...] = ()


PAGES = (
    AppPage("kpi_board", "", "KPI board", "KPI board", ":material/dashboard:"),
    AppPage("segments", "segments", "Segment analysis", "Segment analysis", ":material/donut_large:"),
    AppPage("rfm_customers", "rfm", "RFM by customer", "RFM score by customer", ":material/person_search:"),
    AppPage(
        "sales_trend",
        "sales-trend",
        "Sales trend",
        "Sales trend",
        ":material/trending_up:",
        choices=(("period day", "Day"), ("period quarter", "Quarter"), ("period year", "Year")),
    ),
    AppPage(
        "categories",
        "categories",
        "Sales by category and brand",
        "Sales by category and brand",
        ":material/category:",
        choices=(("window month", "Report month"), ("window all", "All history")),
    ),
    AppPage("lifecycle", "lifecycle", "Lifecycle and tiers", "Lifecycle and tiers", ":material/timeline:"),
    AppPage(
        "cohorts",
        "cohorts",
        "Cohort retention",
        "Cohort retention",
        ":material/grid_on:",
        choices=(("cumulative revenue", "Cumulative revenue per customer"),),
    ),
    AppPage("customer_value", "customer-value", "Customer value", "Customer value", ":material/savings:"),
    AppPage("campaigns", "campaigns", "Campaign lists", "Campaign lists", ":material/campaign:", has_charts=False),
    AppPage("campaign_results", "campaign-results", "Campaign results", "Campaign results", ":material/insights:"),
    AppPage("data_quality", "data-quality", "Data quality", "Data quality", ":material/fact_check:"),
)

# Playwright's own headless flags plus those a container needs (no sandbox without user namespaces,
# no GPU, /dev/shm too small for Chromium's shared memory).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--hide-scrollbars"]
VIEWPORT = {"width": 1400, "height": 1000}


class AppNotStarted(RuntimeError):
    """streamlit exited or did not answer its health check; the message ends with its log."""


def chromium_path() -> str | None:
    """Debian's chromium on PATH, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(serving: Path, log_path: Path, checkout: Path = ROOT) -> Iterator[tuple[str, int]]:
    """`streamlit run app/streamlit_app.py` of checkout on the serving file, on a free localhost port;
    yields (its URL once /_stcore/health answers, its process id) and stops it on exit. Its output goes
    to log_path. Raises AppNotStarted when it exits or is not healthy within 60 s."""
    port = free_port()
    env = dict(os.environ, CRM_SERVING_PATH=str(serving), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    # checkout's crm_warehouse package, also when .venv holds another checkout's (editable) install
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout / "src"), env.get("PYTHONPATH")]))
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(checkout / "app" / "streamlit_app.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AppNotStarted(f"streamlit exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise AppNotStarted(f"streamlit not healthy after 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
