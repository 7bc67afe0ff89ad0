"""Scheduled refresh: `python scripts/tasks.py refresh` (make refresh) and the scheduler examples in deploy/.

The real command on generated raw folders, everything in tmp dirs: fresh data is built and published
(exit 0, one line naming the published file); stale data stops before the build (exit 2); a failing
data-quality gate publishes nothing (exit 1); a locked warehouse (exit 3). Every run leaves its own log
file under <warehouse folder>/logs/. The cron line, the systemd units and the Windows Task Scheduler
files are checked for syntax and for invoking exactly that command.
"""

from __future__ import annotations

import configparser
import datetime
import hashlib
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

import generate_data  # scripts/ is on the import path: pyproject.toml [tool.pytest.ini_options]
from conftest import ROOT, dbt_env

TASKS = ROOT / "scripts" / "tasks.py"
DEPLOY = ROOT / "deploy"
TODAY = datetime.date.today()


def raw_folder(root: Path, days_old: int) -> Path:
    """A clean generated landing folder whose latest invoice is `days_old` days old."""
    generate_data.generate(
        root,
        customers=150,
        start_year=TODAY.year - 2,
        years=3,
        end_date=TODAY - datetime.timedelta(days=days_old),
        seed=5,
        clean=True,
        verbose=False,
    )
    return root


def refresh(raw_dir: Path, warehouse: Path) -> subprocess.CompletedProcess:
    env = dbt_env(raw_dir, warehouse / "crm.duckdb")
    for name in ("CRM_SERVING_PATH", "CRM_PARQUET_DIR"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, str(TASKS), "refresh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


def last_line(result: subprocess.CompletedProcess) -> str:
    stream = result.stdout if result.returncode == 0 else result.stderr
    lines = [line for line in stream.splitlines() if line.strip()]
    assert lines, f"no output:\n{result.stdout}\n{result.stderr}"
    return lines[-1]


def run_logs(warehouse: Path) -> list[Path]:
    return sorted((warehouse / "logs").glob("refresh-*.log"))


def new_logs_text(warehouse: Path, before: list[Path]) -> str:
    return "".join(log.read_text() for log in run_logs(warehouse) if log not in before)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fresh_raw(tmp_path_factory) -> Path:
    return raw_folder(tmp_path_factory.mktemp("raw_fresh"), days_old=3)


@pytest.fixture(scope="module")
def refreshed(fresh_raw, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    warehouse = tmp_path_factory.mktemp("refresh_wh")
    return warehouse, refresh(fresh_raw, warehouse)


def test_fresh_data_is_built_and_published(refreshed):
    warehouse, result = refreshed
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = last_line(result)
    serving = warehouse / "crm_serving.duckdb"
    assert re.fullmatch(
        rf"\[crm\] refresh OK \(\d+ s\): \d+ marts published to {re.escape(str(serving))}, "
        rf"sales up to {TODAY - datetime.timedelta(days=3)} \[log: .+\]",
        line,
    ), line
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select max(invoice_date) from fct_sales").fetchone()[0] == TODAY - datetime.timedelta(
            days=3
        )
    logs = run_logs(warehouse)
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text()
    assert "dbt source freshness" in text and "Completed successfully" in text and "[crm] published" in text
    assert text.rstrip().endswith("exit code 0")


def test_failed_gate_publishes_nothing_and_exits_1(refreshed, fresh_raw, tmp_path):
    """A customers file with 20% invalid ids fails the reject-share gate: exit 1, serving unchanged."""
    warehouse, first = refreshed
    assert first.returncode == 0
    serving = warehouse / "crm_serving.duckdb"
    before = sha(serving)
    raw = tmp_path / "raw"
    shutil.copytree(fresh_raw, raw)
    customers = raw / "customers_master.csv"
    header, *rows = customers.read_text(encoding="utf-8").splitlines()
    customers.write_text(
        "\n".join([header, *("!" + row if i % 5 == 0 else row for i, row in enumerate(rows))]) + "\n", encoding="utf-8"
    )
    logs_before = run_logs(warehouse)

    result = refresh(raw, warehouse)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    line = last_line(result)
    assert "refresh FAILED" in line and "dbt build failed (test customers_reject_share" in line, line
    assert "nothing published" in line
    assert sha(serving) == before
    # the dbt build itself skipped its publish node (the failed test is not one of its ancestors'
    # own tests: it tests the reject model, which publish_serving refs for exactly this reason)
    results = json.loads((warehouse / "target" / "run_results.json").read_text())["results"]
    status = {result["unique_id"].split(".")[-1]: result["status"] for result in results}
    assert status["publish_serving"] == "skipped"
    assert "[crm] published" not in new_logs_text(warehouse, logs_before)
    new_logs = [log for log in run_logs(warehouse) if log not in logs_before]
    assert len(new_logs) == 1 and new_logs[0].read_text().rstrip().endswith("exit code 1")


def test_stale_data_stops_before_the_build_and_exits_2(tmp_path):
    raw = raw_folder(tmp_path / "raw", days_old=120)
    warehouse = tmp_path / "wh"
    result = refresh(raw, warehouse)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    line = last_line(result)
    stale_since = TODAY - datetime.timedelta(days=120)
    # the run may cross midnight: the refresh counts the age on its own clock
    ages = "|".join(str(age) for age in range(120, (datetime.date.today() - stale_since).days + 1))
    assert re.fullmatch(
        rf"\[crm\] refresh FAILED \(\d+ s\): raw data is stale, nothing built: sales_transactions: "
        rf"latest {stale_since} \(({ages}) days old, limit 75 days\) \[log: .+\]",
        line,
    ), line
    assert not (warehouse / "crm_serving.duckdb").exists()
    assert "dbt build" not in "".join(log.read_text() for log in run_logs(warehouse)).replace("2/2 dbt build", "")
    assert len(run_logs(warehouse)) == 1


def test_locked_warehouse_exits_3(fresh_raw, tmp_path):
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(warehouse / "crm.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = refresh(fresh_raw, warehouse)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    assert "is open in another program" in last_line(result)


# ---------------------------------------------------------------------------------------------
# scheduler examples
# ---------------------------------------------------------------------------------------------
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if not all(bound.isdigit() and low <= int(bound) <= high for bound in bounds) or len(bounds) > 2:
            return False
    return True


def cron_entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_cron_example_runs_the_refresh_monthly():
    entries = cron_entries((DEPLOY / "cron" / "crm-refresh.cron").read_text())
    assert len(entries) == 1
    fields = entries[0].split(None, 5)
    assert all(cron_field_ok(field, *bounds) for field, bounds in zip(fields[:5], CRON_RANGES)), fields
    minute, hour, day, month, weekday, command = fields
    assert month == "*" and weekday == "*" and day.isdigit() and 1 <= int(day) <= 28  # every month
    assert re.search(r"(^|\s)cd /\S+ && ", command) and "python3 scripts/tasks.py refresh" in command
    assert "2>" not in command  # stderr (the one-line failure reason) reaches cron's mail
    # the checker has teeth
    assert not cron_field_ok("61", *CRON_RANGES[0]) and not cron_field_ok("*/x", *CRON_RANGES[0])


def test_systemd_units_run_the_refresh_monthly(tmp_path):
    service, timer = (configparser.ConfigParser(strict=False, interpolation=None) for _ in range(2))
    service.optionxform = timer.optionxform = str
    service.read(DEPLOY / "systemd" / "crm-refresh.service")
    timer.read(DEPLOY / "systemd" / "crm-refresh.timer")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].endswith("scripts/tasks.py refresh")
    assert service["Service"]["ExecStart"].startswith(
        service["Service"]["WorkingDirectory"].rstrip("/") + "/"
    ) or service["Service"]["ExecStart"].split()[1].startswith(service["Service"]["WorkingDirectory"])
    assert timer["Timer"]["Unit"] == "crm-refresh.service" and timer["Install"]["WantedBy"] == "timers.target"
    on_calendar = timer["Timer"]["OnCalendar"]
    assert re.fullmatch(r"\*-\*-0?([1-9]|1\d|2[0-8]) \d\d:\d\d:\d\d", on_calendar), on_calendar
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the parse above is all we can do here
    calendar = subprocess.run([analyze, "calendar", on_calendar], capture_output=True, text=True)
    assert calendar.returncode == 0, calendar.stderr
    for unit in ("crm-refresh.service", "crm-refresh.timer"):
        shutil.copy(DEPLOY / "systemd" / unit, tmp_path / unit)
    verify = subprocess.run(
        [analyze, "verify", str(tmp_path / "crm-refresh.timer"), str(tmp_path / "crm-refresh.service")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    # the verification has teeth: a broken timer is refused
    (tmp_path / "crm-refresh.timer").write_text(
        (tmp_path / "crm-refresh.timer").read_text().replace(on_calendar, "*-*-33 25:00")
    )
    assert subprocess.run([analyze, "verify", str(tmp_path / "crm-refresh.timer")], capture_output=True).returncode != 0


def test_windows_task_scheduler_files_run_the_refresh_monthly():
    raw = (DEPLOY / "windows" / "crm-refresh.xml").read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16 LE with BOM, as Task Scheduler exports tasks
    root = ET.fromstring(raw.decode("utf-16"))
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    days = [day.text for day in root.findall(".//t:CalendarTrigger/t:ScheduleByMonth/t:DaysOfMonth/t:Day", ns)]
    months = root.find(".//t:CalendarTrigger/t:ScheduleByMonth/t:Months", ns)
    assert len(days) == 1 and 1 <= int(days[0]) <= 28 and len(list(months)) == 12
    start = root.find(".//t:CalendarTrigger/t:StartBoundary", ns).text
    datetime.datetime.fromisoformat(start)
    assert root.find(".//t:Settings/t:StartWhenAvailable", ns).text == "true"
    assert root.find(".//t:Settings/t:MultipleInstancesPolicy", ns).text == "IgnoreNew"
    command = root.find(".//t:Actions/t:Exec/t:Command", ns).text
    workdir = root.find(".//t:Actions/t:Exec/t:WorkingDirectory", ns).text
    assert command == workdir + r"\deploy\windows\crm-refresh.cmd"

    script = (DEPLOY / "windows" / "crm-refresh.cmd").read_bytes()
    assert b"\r\n" in script and b"\n" not in script.replace(b"\r\n", b"")  # CRLF throughout
    lines = script.decode("ascii").splitlines()
    assert 'cd /d "%~dp0..\\.."' in lines  # the checkout, two folders up from deploy\windows
    assert "py -3.11 scripts\\tasks.py refresh" in lines
    assert lines[-1] == "exit /b %ERRORLEVEL%"  # the exit code reaches Task Scheduler's Last Run Result
