"""BI hand-off (SPEC section 7): the serving DuckDB file and the Parquet files that Power BI reads.

Runs the real `python scripts/tasks.py build` (dbt build + publish) on a small generated raw folder,
with every output (build warehouse, serving file, Parquet folder, dbt target and logs) in tmp dirs:

* a build killed while dbt writes, or a publish killed just before the swap, leaves the previous
  serving file byte-identical and readable, and the next build / publish succeeds; a reader
  process holding the serving file open during that next build never makes it fail, keeps reading
  the old data, and a new connection sees the new data;
* a publish that raises half-way leaves the previous serving file and Parquet files intact;
* DuckDB 1.0.0 (a venv cached under .cache/duckdb-compat/) reads every table of the serving file,
  with the same rows as the pinned DuckDB (and cannot read the build file: the check has teeth);
* every column of the serving file and of the Parquet files has a BI-safe type; one Parquet file per
  mart with the same rows;
* docs/crm_serving.pbids and the dbt exposures are well-formed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

import generate_data  # scripts/ is on the import path: pyproject.toml [tool.pytest.ini_options]
from conftest import ROOT, dbt_env
from crm_warehouse import publish

TASKS = ROOT / "scripts" / "tasks.py"
PUBLISH = ROOT / "scripts" / "publish.py"
MARTS = sorted(path.stem for path in (ROOT / "models" / "marts").glob("*.sql"))
FIRST_CUT = "2025-10-31"  # the first build sees data up to here; the full raw folder adds two months
BUILD_TIMEOUT = 300

COMPAT_DUCKDB = "1.0.0"
COMPAT_VENV = (
    ROOT / ".cache" / "duckdb-compat" / f"duckdb-{COMPAT_DUCKDB}-py{sys.version_info.major}.{sys.version_info.minor}"
)

posix_only = pytest.mark.skipif(
    os.name == "nt",
    reason="POSIX rename / kill semantics (on Windows a held serving file is left as *.pending.duckdb)",
)

# Shared by this process and the reader subprocesses, so both compute the state the same way.
STATE_FUNCTION = '''
def serving_state(con):
    """Row count of every table of the opened serving file, and the latest sales date."""
    tables = [row[0] for row in con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema = 'main' order by table_name"
    ).fetchall()]
    state = {table: con.execute('select count(*) from "' + table + '"').fetchone()[0] for table in tables}
    state["max(fct_sales.invoice_date)"] = str(con.execute("select max(invoice_date) from fct_sales").fetchone()[0])
    return state
'''
exec(STATE_FUNCTION)  # defines serving_state(con) here

# A second process that opens the serving file read-only and keeps the connection: prints "ready"
# once connected (having read the catalog only), then answers every "query" line with its state.
HELD_READER = (
    "import duckdb, json, sys\n"
    + STATE_FUNCTION
    + """
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("select count(*) from information_schema.tables").fetchone()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "query":
        print(json.dumps(serving_state(con)), flush=True)
    elif line.strip() == "quit":
        break
con.close()
"""
)

# Reads every table of a DuckDB file read-only: columns, row count, 5 sample rows, and a digest of
# all rows in a fixed order (the Python values of both DuckDB versions compare equal). Runs under the
# pinned DuckDB and under DuckDB 1.0.0 (a venv with duckdb only: no pandas, no numpy).
READ_ALL = """
import duckdb, hashlib, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [row[0] for row in con.execute(
    "select table_name from information_schema.tables "
    "where table_catalog = current_database() and table_schema = 'main' order by table_name"
).fetchall()]
out = {"duckdb": duckdb.__version__, "tables": {}}
for table in tables:
    quoted = '"' + table + '"'
    cursor = con.execute("select * from " + quoted + " limit 5")
    sample = cursor.fetchall()
    columns = [d[0] for d in cursor.description]
    rows = con.execute("select count(*) from " + quoted).fetchone()[0]
    digest = hashlib.sha256()
    for row in con.execute("select * from " + quoted + " order by all").fetchall():
        digest.update(repr(row).encode())
    out["tables"][table] = {"columns": columns, "rows": rows, "sample_rows": len(sample),
                            "digest": digest.hexdigest()}
con.close()
print(json.dumps(out))
"""

# DuckDB types the DuckDB ODBC driver and Power BI handle well (SPEC section 7).
SAFE_TYPES = {"VARCHAR", "BOOLEAN", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP"}
DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def is_bi_safe(data_type: str) -> bool:
    data_type = data_type.strip().upper()
    if data_type in SAFE_TYPES:
        return True
    decimal = DECIMAL.fullmatch(data_type)
    return bool(decimal) and int(decimal.group(1)) <= 18  # wider decimals are stored as HUGEINT


def unsafe_columns(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> list[tuple[str, str, str]]:
    """(relation, column, type) of every column whose type is not BI-safe; relations: name -> SQL."""
    found = []
    for name, relation in relations.items():
        for column, data_type, *_ in con.execute(f"describe select * from {relation}").fetchall():
            if not is_bi_safe(data_type):
                found.append((name, column, data_type))
    return found


# ---------------------------------------------------------------------------------------------
# workspaces: a build warehouse, its serving file and Parquet folder, all under one tmp dir
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Workspace:
    root: Path

    @property
    def build_db(self) -> Path:
        return self.root / "crm.duckdb"

    @property
    def serving_db(self) -> Path:
        return self.root / "crm_serving.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.root / "parquet"

    def env(self, raw_dir: Path) -> dict[str, str]:
        env = dbt_env(raw_dir, self.build_db)  # CRM_RAW_DIR, CRM_DUCKDB_PATH, DBT_TARGET_PATH, DBT_LOG_PATH...
        env.update(
            CRM_SERVING_PATH=str(self.serving_db),
            CRM_PARQUET_DIR=str(self.parquet_dir),
            PYTHONUNBUFFERED="1",
            DBT_USE_COLORS="false",
        )
        return env

    def copy_to(self, root: Path) -> Workspace:
        """A copy of the build warehouse, serving file and Parquet folder (not dbt's target/logs)."""
        root.mkdir(parents=True)
        for path in self.root.iterdir():
            if path.name.startswith(("crm.duckdb", "crm_serving.duckdb")):
                shutil.copy2(path, root / path.name)
        shutil.copytree(self.parquet_dir, root / "parquet")
        return Workspace(root)


def run_build(workspace: Workspace, raw_dir: Path) -> subprocess.CompletedProcess:
    """The real `python scripts/tasks.py build` (dbt build with its tests, then publish)."""
    result = subprocess.run(
        [sys.executable, str(TASKS), "build"],
        cwd=ROOT,
        env=workspace.env(raw_dir),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"tasks.py build failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    return result


def state_of(serving_db: Path) -> dict:
    with duckdb.connect(str(serving_db), read_only=True) as con:
        return serving_state(con)  # noqa: F821  (defined by exec(STATE_FUNCTION) above)


def parquet_state(parquet_dir: Path) -> dict[str, int]:
    with duckdb.connect() as con:
        return {
            path.stem: con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]
            for path in sorted(parquet_dir.glob("*.parquet"))
        }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot_of(workspace: Workspace) -> dict:
    """Everything a BI user could see: serving bytes, serving rows, Parquet files and rows."""
    return {
        "serving_sha256": sha256(workspace.serving_db),
        "serving": state_of(workspace.serving_db),
        "parquet_files": sorted(path.name for path in workspace.parquet_dir.iterdir()),
        "parquet": parquet_state(workspace.parquet_dir),
    }


def add_probe_mart(build_db: Path) -> None:
    """Make the build warehouse differ from what is published: one more mart table."""
    with duckdb.connect(str(build_db)) as con:
        con.execute("create table marts.zz_publish_probe as select 42::bigint as answer")


def leftovers(workspace: Workspace) -> list[str]:
    return sorted(path.name for path in workspace.root.iterdir() if ".tmp-" in path.name or ".old-" in path.name)


class LineReader:
    """Lines of a subprocess's stdout, read by a thread, so waiting for one can time out."""

    def __init__(self, stream):
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, timeout: float) -> str | None:
        """The next line, or None at end of output; raises queue.Empty after timeout seconds."""
        line = self.lines.get(timeout=timeout)
        if line is not None:
            self.seen.append(line)
        return line

    def wait_for(self, pattern: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.next_line(max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                return None
            if re.search(pattern, line):
                return line
            if time.monotonic() > deadline:
                return None


def kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """(early, full): 300 generated customers 2024-2025; early stops at FIRST_CUT."""
    full = tmp_path_factory.mktemp("bi_raw_full")
    generate_data.generate(
        full, customers=300, start_year=2024, years=2, seed=11, clean=True, verbose=False, campaigns=True
    )  # every mart has rows, campaign marts included
    early = tmp_path_factory.mktemp("bi_raw_early")
    for path in full.iterdir():
        if path.is_dir():  # campaigns/
            shutil.copytree(path, early / path.name)
        elif path.name.startswith("sales_transactions_"):
            lines = pd.read_csv(path, dtype=str, keep_default_na=False)
            lines[lines["invoice_date"] <= FIRST_CUT].to_csv(early / path.name, index=False)
        else:
            shutil.copy(path, early / path.name)
    return early, full


@pytest.fixture(scope="module")
def published(raw_dirs, tmp_path_factory) -> Workspace:
    """One real build + publish on the early raw folder. Tests that change files work on a copy."""
    workspace = Workspace(tmp_path_factory.mktemp("bi_base"))
    run_build(workspace, raw_dirs[0])
    return workspace


@pytest.fixture
def workspace(published, tmp_path) -> Workspace:
    return published.copy_to(tmp_path / "ws")


def compat_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def compat_venv_ready(venv: Path) -> bool:
    """The cached venv exists, was completed, and its python still imports the wanted duckdb."""
    python = compat_python(venv)
    if not (venv / ".ready").exists() or not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True, timeout=60
    )
    return probe.returncode == 0 and probe.stdout.strip().lstrip("v") == COMPAT_DUCKDB


@contextlib.contextmanager
def compat_lock(venv: Path):
    """One creator at a time (pytest-xdist workers or two checkouts' runs sharing nothing else)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as handle:
        if os.name != "nt":
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def duckdb1_python() -> Path:
    """python of a venv with duckdb==1.0.0 from PyPI, cached under .cache/duckdb-compat/.

    The folder is keyed on the DuckDB version and the Python minor version (a venv belongs to its
    interpreter): the first run of a fresh clone creates it (pip, about 10 s with a warm pip cache),
    later runs reuse it after a probe that its python still imports that DuckDB (about 0.2 s)."""
    if compat_venv_ready(COMPAT_VENV):
        return compat_python(COMPAT_VENV)
    with compat_lock(COMPAT_VENV):
        if compat_venv_ready(COMPAT_VENV):  # another worker created it while this one waited
            return compat_python(COMPAT_VENV)
        shutil.rmtree(COMPAT_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(COMPAT_VENV)], check=True, capture_output=True)
        install = subprocess.run(
            [
                str(compat_python(COMPAT_VENV)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                f"duckdb=={COMPAT_DUCKDB}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if install.returncode != 0:
            shutil.rmtree(COMPAT_VENV, ignore_errors=True)
            pytest.fail(f"pip install duckdb=={COMPAT_DUCKDB} failed (needs PyPI once):\n{install.stderr[-3000:]}")
        (COMPAT_VENV / ".ready").write_text(COMPAT_DUCKDB + "\n")  # last: a killed install is redone
    return compat_python(COMPAT_VENV)


# ---------------------------------------------------------------------------------------------
# a. a build killed while dbt writes leaves the previous serving file intact, and b. the next build
# publishes while a reader holds the serving file open (one flow: the next build after the kill is
# the build under the held reader, so the two need one real build after the kill, not two)
# ---------------------------------------------------------------------------------------------
@posix_only
def test_killed_build_leaves_serving_intact_and_the_next_build_publishes_under_a_held_reader(workspace, raw_dirs):
    before = snapshot_of(workspace)
    build = subprocess.Popen(
        [sys.executable, str(TASKS), "build"],
        cwd=ROOT,
        env=workspace.env(raw_dirs[1]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = LineReader(build.stdout)
        # Kill once dbt is (re)creating the marts in the build warehouse.
        started = output.wait_for(r"START sql \w+ model marts\.", timeout=240)
        assert started, "dbt never started a mart model:\n" + "".join(output.seen[-40:])
        time.sleep(0.5)
        assert build.poll() is None, "the build ended before it could be killed:\n" + "".join(output.seen[-40:])
    finally:
        kill_group(build)
    assert build.returncode == -signal.SIGKILL
    assert not any("publish_serving" in line or "[crm] published" in line for line in output.seen), (
        "the kill came too late (publish had started)"
    )

    # The serving file and the Parquet files are exactly the previous ones, and readable.
    assert snapshot_of(workspace) == before

    # A reader process opens the serving file and keeps its connection during the next build.
    reader = subprocess.Popen(
        [sys.executable, "-c", HELD_READER, str(workspace.serving_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = LineReader(reader.stdout)
        assert lines.next_line(timeout=60) == "ready\n", reader.stderr.read() if reader.poll() is not None else ""

        # The next build (on the same, changed raw data: two more months of sales) succeeds and publishes.
        result = run_build(workspace, raw_dirs[1])
        assert f"published {len(MARTS)} marts" in result.stdout, result.stdout[-2000:]
        assert reader.poll() is None, "the reader process died during the build"

        # The held connection still answers, with the data it opened (its first real read is now).
        for _ in range(2):
            reader.stdin.write("query\n")
            reader.stdin.flush()
            held = json.loads(lines.next_line(timeout=60))
            assert held == before["serving"]

        # A new connection sees the new build.
        after = state_of(workspace.serving_db)
        assert after.keys() == before["serving"].keys()
        assert after["fct_sales"] > before["serving"]["fct_sales"]
        assert after["kpi_monthly_board"] == before["serving"]["kpi_monthly_board"] + 2
        assert before["serving"]["max(fct_sales.invoice_date)"] <= FIRST_CUT < after["max(fct_sales.invoice_date)"]
        assert parquet_state(workspace.parquet_dir) == {t: n for t, n in after.items() if t in MARTS}
        assert not workspace.serving_db.with_name("crm_serving.pending.duckdb").exists()
        assert leftovers(workspace) == []
    finally:
        if reader.poll() is None:
            reader.stdin.write("quit\n")
            reader.stdin.flush()
            try:
                reader.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(reader)


# A publish killed (SIGKILL) at its first rename, i.e. once the new serving file and Parquet files are
# fully written, right before the swap: the worst moment, when a temporary copy of every mart exists.
KILLED_PUBLISH = """
import os, signal, sys
from crm_warehouse import publish
def die(source, target, **kwargs):
    print("KILLED AT RENAME", source, os.path.getsize(source) if os.path.isfile(source) else "dir", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = die
publish.main([])
"""


def run_killed_publish(workspace: Workspace, raw_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISH],
        cwd=ROOT,
        env=workspace.env(raw_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_publish(workspace: Workspace, raw_dir: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(PUBLISH)],
        cwd=ROOT,
        env=workspace.env(raw_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@posix_only
def test_killed_publish_leaves_serving_intact_and_next_publish_succeeds(workspace, raw_dirs):
    add_probe_mart(workspace.build_db)
    before = snapshot_of(workspace)
    killed = run_killed_publish(workspace, raw_dirs[0])
    # The serving file and the Parquet files are exactly the previous ones ...
    assert snapshot_of(workspace) == before
    assert "zz_publish_probe" not in before["serving"]
    # ... although the publish was killed with a complete new serving file written (else this test
    # would prove little).
    assert killed.returncode == -signal.SIGKILL, "publish never renamed anything:\n" + killed.stdout + killed.stderr
    killed_at = killed.stdout.split()
    assert killed_at[:3] == ["KILLED", "AT", "RENAME"] and int(killed_at[4]) > 0, killed.stdout

    run_publish(workspace, raw_dirs[0])
    after = snapshot_of(workspace)
    assert after["serving"]["zz_publish_probe"] == 1
    assert after["parquet"]["zz_publish_probe"] == 1
    # The dead publish's temporaries (another pid) are harmless: never read, not in the Parquet folder.
    assert not any(".tmp-" in name for name in after["parquet_files"])


@posix_only
def test_next_publish_removes_temporaries_of_a_killed_publish(workspace, raw_dirs):
    assert run_killed_publish(workspace, raw_dirs[0]).returncode == -signal.SIGKILL
    run_publish(workspace, raw_dirs[0])
    assert leftovers(workspace) == []


# ---------------------------------------------------------------------------------------------
# c. a publish that fails half-way leaves the previous serving file intact
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("failure", ["while_copying_marts", "at_the_swap"])
def test_failed_publish_leaves_previous_serving_intact(workspace, monkeypatch, failure):
    add_probe_mart(workspace.build_db)
    before = snapshot_of(workspace)
    fired = []

    if failure == "while_copying_marts":
        real_quote = publish.quote

        def quote(identifier):
            if identifier == "kpi_monthly_board":  # about half of the marts are copied by now
                fired.append(identifier)
                raise RuntimeError("simulated failure while copying the marts")
            return real_quote(identifier)

        monkeypatch.setattr(publish, "quote", quote)
    else:

        def replace(source, target, **kwargs):  # the first rename: the new files are complete
            fired.append((source, os.path.getsize(source) if os.path.isfile(source) else "dir"))
            raise OSError("simulated failure at the swap")

        monkeypatch.setattr(publish.os, "replace", replace)

    try:
        publish.publish(workspace.build_db, workspace.serving_db, workspace.parquet_dir, log=lambda message: None)
    except (RuntimeError, OSError) as error:
        assert "simulated" in str(error)
    assert snapshot_of(workspace) == before
    assert fired, "the simulated failure never fired: publish() no longer copies / renames as this test expects"
    if failure == "at_the_swap":
        assert fired[0][1] == "dir" or fired[0][1] > 0

    # Once the fault is gone, the next publish swaps the new marts in.
    monkeypatch.undo()
    result = publish.publish(workspace.build_db, workspace.serving_db, workspace.parquet_dir, log=lambda message: None)
    assert result["swapped"] and result["tables"]["zz_publish_probe"] == 1
    after = snapshot_of(workspace)
    assert after["serving"]["zz_publish_probe"] == 1 and after["parquet"]["zz_publish_probe"] == 1
    assert {k: v for k, v in after["serving"].items() if k != "zz_publish_probe"} == before["serving"]
    assert leftovers(workspace) == []  # same pid: the retry removed the failed attempt's temporaries


# ---------------------------------------------------------------------------------------------
# d. DuckDB 1.x clients (ODBC drivers in the field) read the serving file
# ---------------------------------------------------------------------------------------------
def read_all(python: Path | str, database: Path) -> dict:
    result = subprocess.run([str(python), "-c", READ_ALL, str(database)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{python} could not read {database}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def test_serving_file_is_readable_by_duckdb_1_0(published, duckdb1_python):
    old = read_all(duckdb1_python, published.serving_db)
    pinned = read_all(sys.executable, published.serving_db)
    assert old["duckdb"].lstrip("v") == COMPAT_DUCKDB
    assert pinned["duckdb"] == duckdb.__version__
    assert sorted(old["tables"]) == sorted(pinned["tables"]) == MARTS
    for table, seen in pinned["tables"].items():
        assert seen["rows"] > 0, f"{table} is empty: the comparison would prove little"
        assert seen["sample_rows"] == min(5, seen["rows"])
        assert old["tables"][table] == seen, f"DuckDB {COMPAT_DUCKDB} reads {table} differently"
    with duckdb.connect() as con:
        con.execute(f"attach '{published.serving_db}' as serving (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'serving'").fetchone()[0]
    assert tags.get("storage_version", "").startswith("v1.0.0"), tags


def test_duckdb_1_0_cannot_read_the_build_warehouse(published, duckdb1_python):
    """Negative control: the file dbt writes (default storage of the pinned DuckDB) is refused by 1.0,
    so the test above really depends on publish.py's storage_version, and BI must use the serving file."""
    result = subprocess.run(
        [str(duckdb1_python), "-c", READ_ALL, str(published.build_db)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "version" in result.stderr.lower() or "storage" in result.stderr.lower(), result.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# e. BI-safe column types, in the serving file and in the Parquet files
# ---------------------------------------------------------------------------------------------
def test_type_check_rejects_types_bi_tools_mishandle():
    unsafe = {
        "huge": "HUGEINT",
        "wide_decimal": "DECIMAL(38, 2)",
        "decimal_19": "DECIMAL(19, 4)",
        "list": "INTEGER[]",
        "array": "INTEGER[3]",
        "struct": "STRUCT(a INTEGER)",
        "map": "MAP(VARCHAR, INTEGER)",
        "union": "UNION(a INTEGER, b VARCHAR)",
        "interval": "INTERVAL",
        "uuid": "UUID",
        "timestamptz": "TIMESTAMP WITH TIME ZONE",
        "timetz": "TIME WITH TIME ZONE",
        "utinyint": "UTINYINT",
        "usmallint": "USMALLINT",
        "uinteger": "UINTEGER",
        "ubigint": "UBIGINT",
        "uhugeint": "UHUGEINT",
        "float": "FLOAT",
        "blob": "BLOB",
        "enum": "ENUM('a', 'b')",
        "timestamp_ns": "TIMESTAMP_NS",
    }
    safe = {
        "v": "VARCHAR",
        "b": "BOOLEAN",
        "s": "SMALLINT",
        "i": "INTEGER",
        "g": "BIGINT",
        "d": "DOUBLE",
        "dt": "DATE",
        "ts": "TIMESTAMP",
        "dec": "DECIMAL(18, 4)",
        "dec_small": "DECIMAL(9, 2)",
    }
    columns = ", ".join(f'"{name}" {data_type}' for name, data_type in {**unsafe, **safe}.items())
    with duckdb.connect() as con:
        con.execute(f"create table t ({columns})")
        found = {column for _, column, _ in unsafe_columns(con, {"t": "t"})}
    assert found == set(unsafe)


def test_serving_and_parquet_types_are_bi_safe(published):
    with duckdb.connect(str(published.serving_db), read_only=True) as con:
        tables = [row[0] for row in con.execute("show tables").fetchall()]
        assert sorted(tables) == MARTS
        assert unsafe_columns(con, {table: f'"{table}"' for table in tables}) == []
        serving_counts = {table: con.execute(f'select count(*) from "{table}"').fetchone()[0] for table in tables}
        serving_types = {table: con.execute(f'describe "{table}"').fetchall() for table in tables}

    files = sorted(published.parquet_dir.iterdir())
    assert [path.name for path in files] == [f"{table}.parquet" for table in MARTS]  # one file per mart, nothing else
    assert parquet_state(published.parquet_dir) == serving_counts
    with duckdb.connect() as con:
        relations = {path.stem: f"read_parquet('{path}')" for path in files}
        assert unsafe_columns(con, relations) == []
        for table, relation in relations.items():
            parquet_columns = [(row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()]
            assert parquet_columns == [(row[0], row[1]) for row in serving_types[table]], table


# The relationships docs/powerbi.md tells Power BI users to create: (many side, one side).
RELATIONSHIPS = [
    ("fct_sales", "customer_id", "dim_customers", "customer_id"),
    ("fct_sales", "product_id", "dim_products", "product_id"),
    ("fct_sales", "invoice_date", "dim_dates", "date_day"),
    ("fct_customer_monthly_snapshot", "customer_id", "dim_customers", "customer_id"),
    ("fct_customer_monthly_snapshot", "report_month", "dim_dates", "date_day"),
    ("dim_customers", "segment_label", "dim_rfm_segments", "segment_label"),
    ("kpi_sales_by_period", "segment_label", "dim_rfm_segments", "segment_label"),
    ("kpi_sales_by_category", "segment_label", "dim_rfm_segments", "segment_label"),
    ("kpi_customer_rfm", "segment_label", "dim_rfm_segments", "segment_label"),
    ("kpi_segment_summary", "rfm_segment", "dim_rfm_segments", "segment_label"),
    ("kpi_monthly_board", "report_month", "dim_dates", "date_day"),
    ("kpi_cohort_retention", "report_month", "dim_dates", "date_day"),
    ("fct_campaign_members", "customer_id", "dim_customers", "customer_id"),
    ("fct_campaign_members", "campaign_id", "kpi_campaign_response", "campaign_id"),
]


def test_power_bi_relationships_are_many_to_one_without_orphans(published):
    """Every documented relationship has a unique one side and no orphan key on the many side, and a
    segment selection gives the same sales through fct_sales, the trend and the category marts."""
    with duckdb.connect(str(published.serving_db), read_only=True) as con:
        for many, many_key, one, one_key in RELATIONSHIPS:
            rows, keys = con.execute(f"select count(*), count(distinct {one_key}) from {one}").fetchone()
            assert rows == keys, f"{one}.{one_key} is not unique"
            orphans = con.execute(
                f"select count(*) from {many} where {many_key} is not null "
                f"and {many_key} not in (select {one_key} from {one})"
            ).fetchone()[0]
            assert orphans == 0, f"{many}.{many_key} has {orphans} rows without {one}.{one_key}"
        by_segment = con.execute("""
            with through_customers as (
                select customers.segment_label, sum(sales.revenue) as sales
                from fct_sales as sales inner join dim_customers as customers using (customer_id)
                group by 1),
            trend as (
                select segment_label, sum(sales) as sales from kpi_sales_by_period
                where period_type = 'month' group by 1),
            categories as (select segment_label, sum(sales) as sales from kpi_sales_by_category group by 1)
            select segment_label, through_customers.sales, trend.sales, categories.sales
            from through_customers full join trend using (segment_label) full join categories using (segment_label)
        """).fetchall()
    assert len(by_segment) > 3
    for segment, *sales in by_segment:
        assert len(set(sales)) == 1, (segment, sales)


# ---------------------------------------------------------------------------------------------
# hand-off files: the Power BI data source file and the dbt exposures
# ---------------------------------------------------------------------------------------------
def test_pbids_file_connects_read_only_over_odbc():
    pbids = json.loads((ROOT / "docs" / "crm_serving.pbids").read_text(encoding="utf-8"))
    assert pbids["version"] == "0.1"
    assert len(pbids["connections"]) == 1  # Power BI accepts exactly one data source per file
    connection = pbids["connections"][0]
    assert connection["mode"] == "Import"
    assert connection["details"]["protocol"] == "odbc"
    connection_string = connection["details"]["address"]["connectionString"]
    settings = dict(part.split("=", 1) for part in connection_string.strip(";").split(";"))
    assert settings["Driver"] == "{DuckDB Driver}"
    assert settings["Database"].lower().endswith("\\warehouse\\crm_serving.duckdb")
    assert settings["access_mode"].lower() == "read_only"


def test_exposures_cover_the_five_pages_and_the_app():
    exposures = yaml.safe_load((ROOT / "models" / "marts" / "_marts__exposures.yml").read_text())["exposures"]
    by_type = {}
    for exposure in exposures:
        by_type.setdefault(exposure["type"], []).append(exposure["name"])
        assert exposure["description"].strip()
        refs = [re.fullmatch(r"ref\('(\w+)'\)", dependency).group(1) for dependency in exposure["depends_on"]]
        assert refs and set(refs) <= set(MARTS), exposure["name"]
    assert len(by_type["dashboard"]) == 5 and len(by_type["application"]) == 1


def test_publish_uses_the_build_memory_limit_threads_and_spill_folder(monkeypatch, tmp_path):
    """Publishing opens DuckDB with the build's limits, not DuckDB's default of 80% of the RAM."""
    monkeypatch.setenv("CRM_DUCKDB_MEMORY", "1GB")
    monkeypatch.setenv("CRM_DUCKDB_THREADS", "1")
    monkeypatch.setenv("CRM_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    with duckdb.connect(config=publish.connection_config()) as connection:
        memory, threads, temp = connection.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchone()
    with duckdb.connect() as default, duckdb.connect(config={"memory_limit": "1GB"}) as limited:
        expected, default_memory = (
            con.execute("select current_setting('memory_limit')").fetchone()[0] for con in (limited, default)
        )
    assert memory == expected != default_memory, (memory, expected, default_memory)
    assert int(threads) == 1
    assert temp == str(tmp_path / "spill")


def test_publish_stores_the_month_tables_in_month_order(tmp_path):
    """The tables the app reads one report month at a time (publish.SERVING_ORDER) are written sorted,
    in the serving file and in Parquet, so that DuckDB skips the other months' row groups by their
    min/max. The build here writes them scrambled (every month in every row group) over several row
    groups: without the sort, the row groups' month ranges overlap."""
    build_db = tmp_path / "build.duckdb"
    months, customers = 24, 8_000  # 192,000 rows: two row groups of 122,880 and more
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema marts")
        con.execute("create schema serving")
        con.execute(
            "create table serving.pii_columns (column_name varchar, resource_name varchar, serving_include_pii boolean)"
        )
        for table, order in publish.SERVING_ORDER.items():
            assert order[0] == "report_month", table
            keys = "".join(f", (customer * {index + 3}) % 7 as {column}" for index, column in enumerate(order[1:]))
            con.execute(
                f'create table marts."{table}" as '
                "select cast(date '2022-01-01' + to_months(month) as date) as report_month, "
                f"printf('C%06d', customer) as customer_id, month * customer as measure{keys} "
                f"from range({months}) as m(month), range({customers}) as c(customer) "
                "order by hash(month, customer)"
            )
        con.execute("create table marts.kpi_small as select 1 as report_month")  # a table without an order
    serving, parquet = tmp_path / "serving.duckdb", tmp_path / "parquet"
    result = publish.publish(build_db, serving, parquet, log=lambda message: None)
    assert result["tables"] == {**dict.fromkeys(publish.SERVING_ORDER, months * customers), "kpi_small": 1}

    with duckdb.connect(str(serving), read_only=True) as con, duckdb.connect(str(build_db), read_only=True) as build:
        for table, order in publish.SERVING_ORDER.items():
            keys = ", ".join(order)
            # stored order = rowid order; each row group's month range is disjoint from the next one's
            groups = con.execute(
                f'select rowid // 122880 as row_group, min(report_month), max(report_month) from "{table}" '
                "group by 1 order by 1"
            ).fetchall()
            assert len(groups) >= 2, table
            assert all(left[2] <= right[1] for left, right in zip(groups, groups[1:])), (table, groups)
            stored = f'select {keys} from "{table}" order by rowid'
            assert (
                con.execute(stored).fetchall()
                == con.execute(f'select {keys} from "{table}" order by {keys}').fetchall()
            )
            parquet_rows = con.execute(
                f"select {keys} from read_parquet('{parquet / (table + '.parquet')}')"
            ).fetchall()
            assert parquet_rows == con.execute(stored).fetchall(), table
            # the same rows as the build's scrambled table (and the build's was really scrambled)
            assert sorted(build.execute(f'select * from marts."{table}"').fetchall()) == sorted(
                con.execute(f'select * from "{table}"').fetchall()
            )
            build_groups = build.execute(
                f'select count(distinct report_month) from marts."{table}" where rowid < 122880'
            ).fetchall()[0][0]
            assert build_groups == months, "the build's table must be out of month order for this test to mean anything"
