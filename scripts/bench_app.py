#!/usr/bin/env python3
"""Benchmark of the Streamlit app: the first visit of every page in a real headless Chromium.

    python scripts/bench_app.py [--serving PATH] [--months latest,first,middle] [--segments all,...]
    make bench-app SERVING=/path/to/crm_serving.duckdb        (or CRM_SERVING_PATH=... make bench-app)

Starts `streamlit run app/streamlit_app.py` on the serving file (--serving, default CRM_SERVING_PATH or
crm_serving.duckdb beside CRM_DUCKDB_PATH) and opens every page in Debian's chromium driven by
Playwright for Python (executable_path, as tests/test_app_browser.py: never `playwright install`), for
every chosen report month and segment (the sidebar filters, given in the URL), then the page's own
choices a user can click (sales trend periods, category windows, ...). Each visit is timed from the
navigation to the page fully rendered (Streamlit's script run finished, the page title shown, every
Plotly chart drawn), in a new browser page.

Every visit is a first visit: the app caches its query results per serving file version (path and
modification time, app/crm_data.py), so before each visit the serving file's modification time is
moved by a few nanoseconds (restored at the end): nothing the app cached serves the next visit. The
first line times the app's very first page load (Python imports of the pages' libraries), which only
the first user after a start pays.

Prints one line per visit (wall seconds; CPU seconds of the app server process during the visit, which
the machine's other load does not inflate; page, month, segment, choice) and one summary line per page
(the slowest visit); exit code 0 in any case (a benchmark, not a test: the target is 2 s per page).
"""

from __future__ import annotations

import argparse
import os
import time
import urllib.parse
from pathlib import Path

import duckdb

# the package installed editable into .venv (src/crm_warehouse)
from crm_warehouse import serving_file
from crm_warehouse.app_pages import CHROMIUM_ARGS, PAGES, VIEWPORT, AppNotStarted, chromium_path, streamlit_server
from crm_warehouse.constants import NOT_ACTIVE

ROOT = Path(__file__).resolve().parent.parent

TARGET_SECONDS = 2.0

STATE_JS = """
(title) => {
    const errors = document.querySelector('[data-testid="stException"], .stAlertContentError');
    if (errors) return 'error';
    const idle = document.querySelector('[data-test-script-state="notRunning"]');
    const connected = document.querySelector('[data-test-connection-state="CONNECTED"]');
    const heading = Array.from(document.querySelectorAll('h1')).some(h => h.textContent.trim().startsWith(title));
    const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
    const drawn = document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length;
    const stale = document.querySelector('[data-stale="true"]');
    return idle && connected && heading && drawn >= charts && !stale ? 'done' : '';
}
"""


class FreshCache:
    """Moves the serving file's modification time forward by 1 µs per call (restored on exit), so that
    the app's caches, keyed by it, miss on the next visit."""

    def __init__(self, path: Path):
        self.path = path
        self.stat = path.stat()
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns + self.calls * 1000))

    def restore(self) -> None:
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere): the app server's own work, which
    other load on the machine does not inflate as it does the wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_rendered(page, title: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS, title)
        if state:
            return state
        page.wait_for_timeout(20)
    return "timeout"


def visit(browser, url: str, title: str, timeout: float) -> tuple[float, str, object]:
    page = browser.new_page(viewport=VIEWPORT)
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    state = wait_rendered(page, title, timeout)
    return time.perf_counter() - started, state, page


def click_choice(page, title: str, text: str, timeout: float) -> tuple[float, str]:
    """Click the button or radio option showing `text` and time the rerun until the page is rendered."""
    main = page.locator('[data-testid="stMain"]')  # not the sidebar (its "Report month" filter, say)
    target = main.get_by_role("button", name=text, exact=True).or_(main.get_by_text(text, exact=True))
    try:
        target.first.wait_for(state="visible", timeout=15000)
    except Exception:  # noqa: BLE001  (Playwright's TimeoutError: the page has no such choice)
        return 0.0, "no such choice"
    started = time.perf_counter()
    target.first.click()
    # the rerun starts within a few ms; wait until the script runs, then until the page is rendered again
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and page.evaluate(
        "() => !!document.querySelector('[data-test-script-state=\"notRunning\"]')"
    ):
        page.wait_for_timeout(5)
    state = wait_rendered(page, title, timeout)
    return time.perf_counter() - started, state


def months_and_segments(serving: Path, months: str, segments: str) -> tuple[list[str], list[str]]:
    with duckdb.connect(str(serving), read_only=True) as connection:
        all_months = [
            row[0].strftime("%Y-%m")
            for row in connection.execute(
                "select distinct report_month from kpi_segment_summary order by report_month desc"
            ).fetchall()
        ]
        by_size = [
            row[0]
            for row in connection.execute(
                "select rfm_segment from kpi_segment_summary where report_month = ? and rfm_segment <> ? "
                "order by customers desc",
                [all_months[0] + "-01", NOT_ACTIVE],
            ).fetchall()
        ]
    chosen_months = []
    for name in months.split(","):
        name = name.strip()
        value = {"latest": all_months[0], "first": all_months[-1], "middle": all_months[len(all_months) // 2]}.get(
            name, name
        )
        if value not in all_months:
            raise SystemExit(f"{value} is not a report month of {serving}")
        if value not in chosen_months:
            chosen_months.append(value)
    chosen_segments = []
    for name in segments.split(","):
        name = name.strip()
        value = {"all": "All customers", "largest": by_size[0] if by_size else "All customers"}.get(name, name)
        if value not in chosen_segments:
            chosen_segments.append(value)
    return chosen_months, chosen_segments


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serving", type=Path, default=None, help="serving file (default CRM_SERVING_PATH)")
    parser.add_argument(
        "--months",
        default="latest,middle,first",
        help="report months: latest, middle, first or YYYY-MM, comma-separated",
    )
    parser.add_argument(
        "--segments",
        default="all,largest,Not Active,Anonymous",
        help="segments: all, largest (of the latest month) or a segment label, comma-separated",
    )
    parser.add_argument("--pages", default="", help="only these URL paths (comma-separated; kpi for the KPI board)")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument(
        "--checkout",
        type=Path,
        default=ROOT,
        help="the project folder whose app/ and src/ run (default this one; e.g. an exported older version, "
        "`git archive <commit> app src dbt_project.yml | tar -x -C DIR`, for a before / after comparison)",
    )
    args = parser.parse_args(argv)

    serving = (args.serving or serving_file.serving_path()).resolve()
    if not serving.exists():
        raise SystemExit(f"serving file {serving} does not exist")
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("no chromium on PATH (Debian: apt-get install -y chromium); never `playwright install`")
    from playwright.sync_api import sync_playwright

    months, segments = months_and_segments(serving, args.months, args.segments)
    wanted = {("" if name == "kpi" else name) for name in args.pages.split(",")} if args.pages else None
    pages = [page for page in PAGES if wanted is None or page.url_path in wanted]
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"[bench-app] serving file {serving} ({serving.stat().st_size / 1e9:.2f} GB)")
    print(f"[bench-app] months {', '.join(months)}; segments {', '.join(segments)}; load {load[0]:.2f}")
    print(f"{'seconds':>8} {'app cpu':>8}  {'page':<28} {'month':<8} {'segment':<22} choice")
    slowest: dict[str, float] = {}
    fresh = FreshCache(serving)
    log_path = ROOT / "test-artifacts" / "bench_app_streamlit.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            streamlit_server(serving, log_path, args.checkout.resolve()) as (url, pid),
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                fresh()
                cpu = cpu_seconds(pid)
                seconds, state, page = visit(browser, f"{url}/data-quality", "Data quality", args.timeout)
                page.close()
                cpu = cpu_seconds(pid) - cpu
                print(f"{seconds:8.2f} {cpu:8.2f}  {'(app start: first page load)':<28} {'':<8} {'':<22} {state}")
                for app_page in pages:
                    path, title, choices = app_page.url_path, app_page.heading, app_page.choices
                    for month in months:
                        for segment in segments:
                            query = urllib.parse.urlencode(
                                {"month": month, "segment": segment}, quote_via=urllib.parse.quote
                            )
                            fresh()
                            cpu = cpu_seconds(pid)
                            seconds, state, page = visit(browser, f"{url}/{path}?{query}", title, args.timeout)
                            report(slowest, title, month, segment, "", seconds, cpu_seconds(pid) - cpu, state)
                            for label, text in choices:
                                if state != "done":
                                    break
                                fresh()
                                cpu = cpu_seconds(pid)
                                seconds, state = click_choice(page, title, text, args.timeout)
                                report(slowest, title, month, segment, label, seconds, cpu_seconds(pid) - cpu, state)
                            page.close()
            finally:
                browser.close()
    except AppNotStarted as error:
        raise SystemExit(str(error)) from error
    finally:
        fresh.restore()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(
        f"[bench-app] slowest first visit per page (target 2 s; wall seconds, app server CPU seconds; load {load[0]:.2f}):"
    )
    for title, (seconds, cpu) in slowest.items():
        print(f"{seconds:8.2f} {cpu:8.2f}  {title}{'' if seconds <= TARGET_SECONDS else '  ABOVE TARGET'}")


def report(slowest: dict, title: str, month: str, segment: str, choice: str, seconds: float, cpu: float, state: str):
    note = "" if state == "done" else f"  [{state}]"
    print(f"{seconds:8.2f} {cpu:8.2f}  {title:<28} {month:<8} {segment:<22} {choice}{note}", flush=True)
    if state == "no such choice":  # e.g. a page that shows a note instead of its charts for this selection
        return
    worst_seconds, worst_cpu = slowest.get(title, (0.0, 0.0))
    slowest[title] = (max(worst_seconds, seconds if state == "done" else float("inf")), max(worst_cpu, cpu))


if __name__ == "__main__":
    main()
