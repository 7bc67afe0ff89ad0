"""The UI that `scripts/tasks.py orchestrate` (make orchestrate) starts: the webserver answers on
the port given, its GraphQL API lists the asset graph with the marts and the run queue's limit of
one, the daemon runs; Ctrl-C (SIGINT) stops it and leaves no process behind."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

QUERY = """
{
  assetNodes { assetKey { path } groupName dependencyKeys { path } }
  instance {
    runQueueConfig { maxConcurrentRuns }
    daemonHealth { allDaemonStatuses { daemonType healthy required } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def processes_with(home: Path) -> list[int]:
    """Processes whose environment holds this DAGSTER_HOME (dagster dev and all it started)."""
    found = []
    needle = f"DAGSTER_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to prove nothing is left running")
def test_orchestrate_serves_the_asset_graph_and_stops_cleanly(tmp_path):
    port = free_port()
    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "CRM_DAGSTER_PORT": str(port),
        "DAGSTER_HOME": str(home),
        "CRM_DUCKDB_PATH": str(tmp_path / "wh" / "crm.duckdb"),
        # the sensor sees the demo folder for the first time: it waits an hour before a build
        "CRM_DAGSTER_STABLE_SECONDS": "3600",
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "tasks.py"), "orchestrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        answer = None
        deadline = time.monotonic() + 180  # a bound on start-up, not a measurement
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = graphql(port)
                daemons = answer["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
                if all(status["healthy"] for status in daemons if status["required"]):
                    break
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(1)
        assert answer is not None, "the webserver never answered"
        data = answer["data"]
        nodes = {tuple(node["assetKey"]["path"]): node for node in data["assetNodes"]}
        marts = {path[-1] for path, node in nodes.items() if node["groupName"] == "marts"}
        assert {"fct_customer_monthly_snapshot", "kpi_monthly_board", "dim_customers", "fct_sales"} <= marts
        publish = nodes[("serving", "publish_serving")]
        assert {tuple(key["path"]) for key in publish["dependencyKeys"]} >= {("marts", name) for name in marts}
        assert data["instance"]["runQueueConfig"]["maxConcurrentRuns"] == 1
        daemons = {
            status["daemonType"]: status["healthy"] for status in data["instance"]["daemonHealth"]["allDaemonStatuses"]
        }
        assert daemons.get("SENSOR") and daemons.get("SCHEDULER") and daemons.get("QUEUED_RUN_COORDINATOR"), daemons
        assert (home / "dagster.yaml").exists()
        assert processes_with(home)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            output.append(process.communicate(timeout=120)[0])
        except subprocess.TimeoutExpired:
            process.kill()
            output.append(process.communicate()[0])
    text = "".join(output)
    assert f"Dagster UI: http://127.0.0.1:{port}" in text, text[-3000:]
    assert "Dagster stopped" in text, text[-3000:]
    assert process.returncode == 0, text[-3000:]
    assert processes_with(home) == [], "processes left running after Ctrl-C"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


RUNS = """
{
  runsOrError {
    ... on Runs { results { runId status } }
  }
}
"""


def runs(port: int) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": RUNS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]["runsOrError"]["results"]  # a fresh DAGSTER_HOME: crm_refresh only


@pytest.mark.skipif(sys.platform != "linux", reason="stops the process group as make orchestrate does")
def test_a_file_dropped_in_the_landing_folder_is_built_and_published(tmp_path):
    """Done means: with `make orchestrate` running, a new file in the landing folder brings the
    serving file up to date without anyone running a command (sensor -> queued run -> dbt build
    -> publish)."""
    import shutil

    import duckdb

    sys.path.insert(0, str(ROOT / "src"))
    from crm_warehouse import landing

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "demo", raw)
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    # the folder as it is counts as built: only the new file below makes the sensor ask for a build
    landing.built_marker(warehouse / "crm.duckdb").write_text(landing.fingerprint(landing.folder_state(raw)) + "\n")
    port = free_port()
    env = {
        **os.environ,
        "CRM_DAGSTER_PORT": str(port),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CRM_RAW_DIR": str(raw),
        "CRM_DUCKDB_PATH": str(warehouse / "crm.duckdb"),
        "CRM_DAGSTER_STABLE_SECONDS": "0",
        "CRM_DAGSTER_SENSOR_INTERVAL": "5",
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "tasks.py"), "orchestrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180  # bounds, not measurements
        while time.monotonic() < deadline and process.poll() is None:
            try:
                assert runs(port) == []  # up, and nothing requested for the unchanged folder
                break
            except (OSError, ValueError, KeyError, TypeError):
                time.sleep(1)
        (raw / "sales_transactions_2026.csv").write_text(
            "invoice_id,customer_id,invoice_date,product_id,quantity,revenue,store_id\n"
            "INV9000001,C0000001,2026-01-05,P0001,1,10.00,S001\n"
        )
        fingerprint = landing.fingerprint(landing.folder_state(raw))
        finished = None
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and process.poll() is None and finished is None:
            time.sleep(5)
            try:
                done = [run for run in runs(port) if run["status"] in {"SUCCESS", "FAILURE", "CANCELED"}]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            finished = done[0] if done else None
        assert finished is not None, "no build finished"
        assert finished["status"] == "SUCCESS", finished
        assert fingerprint  # the run key the sensor gave (orchestration/tests/test_sensor.py checks it)
        assert len(runs(port)) == 1  # one build for the one new state
        with duckdb.connect(str(warehouse / "crm_serving.duckdb"), read_only=True) as con:
            assert str(con.execute("select max(invoice_date) from fct_sales").fetchone()[0]) == "2026-01-05"
            assert con.execute(
                "select is_month_complete, data_as_of_date from kpi_monthly_board order by report_month desc limit 1"
            ).fetchone() == (False, __import__("datetime").date(2026, 1, 5))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
