"""The Streamlit app in a real headless Chromium: every page renders, without an error.

Starts `streamlit run app/streamlit_app.py` on a free localhost port (reading the published serving
file), waits for /_stcore/health, then opens each page URL in one headless Chromium (the flags of
`chromium --headless --no-sandbox --disable-gpu ... --window-size=1400,1000`) driven over the
DevTools pipe: it waits until the page has rendered, saves a PNG screenshot and the DOM (the
--screenshot / --dump-dom outputs) in test-artifacts/screenshots/. A page fails when its DOM holds
a Streamlit exception block (stException), a traceback, an error alert or the "Page not found"
dialog, or when it never finished rendering.

Skipped when no Chromium binary is installed (Debian: apt-get install -y chromium).
"""
from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from crm_warehouse.publish import default_paths

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app" / "streamlit_app.py"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (install it: apt-get install -y chromium; CI installs it in .ci/run)",
)

# (screenshot name, URL path and query, page title, has charts)
PAGES = [
    ("kpi_board", "", "KPI board", True),
    ("segments", "segments", "Segment analysis", True),
    ("rfm_customers", "rfm", "RFM score by customer", True),
    ("sales_trend", "sales-trend", "Sales trend", True),
    ("categories", "categories", "Sales by category and brand", True),
    ("lifecycle", "lifecycle", "Lifecycle and tiers", True),
    ("cohorts", "cohorts", "Cohort retention", True),
    ("campaigns", "campaigns", "Campaign lists", False),
    ("campaign_results", "campaign-results", "Campaign results", True),
    ("data_quality", "data-quality", "Data quality", True),
]
ERROR_MARKERS = ('data-testid="stException"', "Traceback (most recent call last)", "stAlertContentError",
                 "Page not found")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def serving_db() -> Path:
    path = default_paths()[1]
    if not path.exists():
        pytest.skip(f"serving warehouse {path} is missing: run `make build` first "
                    "(CI builds and publishes it before pytest)")
    return path


@pytest.fixture(scope="module")
def app_url(serving_db, tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = dict(os.environ, CRM_SERVING_PATH=str(serving_db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server_log = log_path.read_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "streamlit.log").write_text(server_log)


def rendered(dom: str, title: str, has_charts: bool) -> bool:
    """The script run finished, the page title is shown and every Plotly chart is drawn."""
    done = 'data-test-script-state="notRunning"' in dom and 'data-test-connection-state="CONNECTED"' in dom
    heading = re.search(r"<h1[^>]*>(?:<[^>]+>)*" + re.escape(title) + "<", dom) is not None
    charts = dom.count('data-testid="stPlotlyChart"')
    drawn = dom.count('class="main-svg"')
    return done and heading and (drawn >= charts > 0 if has_charts else True)


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

    Why not `chromium --screenshot --dump-dom --virtual-time-budget=15000 URL`: virtual time only
    waits for pending HTTP loads, not for the Streamlit websocket, so the shot is taken as soon as
    the page shell is loaded: a script run that takes more than about a second in real time is
    captured as the loading skeleton (measured with a page sleeping 1 s). Here the test waits until
    the page has really rendered, then takes the screenshot and the DOM.
    """

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1400,1000", "--hide-scrollbars", "--remote-debugging-pipe"]

    def __init__(self, profile: Path):
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire_fds():  # the DevTools pipe is fd 3 (commands in) and fd 4 (messages out)
            commands, messages = os.dup(to_child), os.dup(from_child)
            os.dup2(commands, 3)
            os.dup2(messages, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *self.FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, close_fds=False,  # fds 3 and 4 must survive; Python's own fds are not inheritable
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=1000,
                  deviceScaleFactor=1, mobile=False)

    def send(self, method: str, session: bool = False, timeout: float = 60, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._read], [], [], remaining)[0]:
                raise TimeoutError(f"no DevTools reply to {method}")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk

    def dom(self) -> str:
        result = self.send("Runtime.evaluate", session=True, expression="document.documentElement.outerHTML",
                           returnByValue=True)
        return result["result"].get("value", "")

    def capture(self, url: str, png: Path, title: str, has_charts: bool, timeout: float = 60) -> str:
        """Open url, wait until it rendered (or shows an error), save the screenshot; returns the DOM."""
        self.send("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        dom = ""
        while time.monotonic() < deadline:
            time.sleep(0.25)
            dom = self.dom()
            if rendered(dom, title, has_charts) or any(marker in dom for marker in ERROR_MARKERS):
                break
        time.sleep(0.5)  # let Plotly finish its transitions
        dom = self.dom()
        # Streamlit scrolls inside its main block: grow the viewport to show the whole page.
        height = self.send("Runtime.evaluate", session=True, returnByValue=True, expression=(
            "Math.max(1000, ...Array.from(document.querySelectorAll('[data-testid=\"stMain\"], "
            "[data-testid=\"stMainBlockContainer\"]'), e => e.scrollHeight + 120))"))["result"].get("value", 1000)
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=min(int(height), 6000),
                  deviceScaleFactor=1, mobile=False)
        time.sleep(0.5)
        shot = self.send("Page.captureScreenshot", session=True, format="png")
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=1000,
                  deviceScaleFactor=1, mobile=False)
        png.write_bytes(base64.b64decode(shot["data"]))
        return dom

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def screenshot(browser: Chromium, url: str, name: str, title: str, has_charts: bool) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dom = browser.capture(url, ARTIFACTS / f"{name}.png", title, has_charts)
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
    for name, path, title, has_charts in PAGES:
        dom = screenshot(browser, f"{app_url}/{path}", name, title, has_charts)
        try:
            check(dom, name, title, has_charts)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


def test_filtered_pages_render_in_chromium(app_url, serving_db, browser):
    """Month and segment come from the URL (?month=YYYY-MM&segment=...), as a shared link would."""
    import duckdb

    with duckdb.connect(str(serving_db), read_only=True) as connection:
        months = [row[0] for row in connection.execute(
            "select distinct report_month from fct_customer_monthly_snapshot order by 1 desc").fetchall()]
    month = months[min(6, len(months) - 1)]
    query = f"?month={month:%Y-%m}&segment=Champions"
    for name, path, title in (("kpi_board_champions", "", "KPI board"),
                              ("sales_trend_champions", "sales-trend", "Sales trend")):
        dom = screenshot(browser, f"{app_url}/{path}{query}", name, title, True)
        check(dom, name, title, True)
        text = re.sub(r"<[^>]+>", "", dom)
        assert f"Report month {month:%Y-%m} · segment Champions" in text, f"{name}: filters not applied"
