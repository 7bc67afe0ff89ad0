"""The UI that `scripts/tasks.py orchestrate` (make orchestrate) starts: the webserver answers on
the port given, its GraphQL API lists the asset graph with the marts and the run queue's limit of
one, the daemon runs; Ctrl-C (SIGINT) stops it and leaves no process behind."""

import contextlib
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
        # Ctrl-C as in a terminal: a test run started in the background by a non-interactive shell
        # (nohup ... &) ignores SIGINT, and the orchestrator would inherit that and never stop
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
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
            # a failure, asserted below (returncode, processes left); kill everything first so that
            # no process left holding the output pipe makes communicate() wait for ever
            process.kill()
            for pid in processes_with(home):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            output.append(process.communicate(timeout=60)[0])
    text = "".join(output)
    assert f"Dagster UI: http://127.0.0.1:{port}" in text, text[-3000:]
    assert "Dagster stopped" in text, text[-3000:]
    assert process.returncode == 0, text[-3000:]
    assert processes_with(home) == [], "processes left running after Ctrl-C"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
