"""Shared helpers: build the warehouse on a generated raw folder into a throw-away DuckDB file."""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import generate_data
from crm_warehouse.publish import default_paths

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# dbt build without its tests (the main `dbt build` of `make test` runs them): seeds and models.
MODELS_ONLY = ("build", "--resource-type", "seed", "--resource-type", "model", "--full-refresh")


def dbt_env(raw_dir: Path, db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        CRM_RAW_DIR=str(raw_dir),
        CRM_DUCKDB_PATH=str(db_path),
        CRM_DUCKDB_TEMP_DIR=str(db_path.parent / "tmp"),
        DBT_TARGET_PATH=str(db_path.parent / "target"),
        DBT_LOG_PATH=str(db_path.parent / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # one dbt thread per command: the pytest-xdist workers already keep both cores busy, and two
    # threads there cost about 6% more time in all (make test's own dbt build runs two)
    env.setdefault("CRM_DUCKDB_THREADS", "1")
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


# Speed: dbt parses the whole project (about 60 models, 260 data tests, 30 unit tests) before each
# command unless its partial-parse file (target/partial_parse.msgpack) still applies; it does not
# when the profile's rendered values (the DuckDB path, the spill folder) changed. Every test builds
# its own warehouse folder, so run_dbt reaches it through a symbolic link of a fixed name in a
# folder of this process (one per pytest-xdist worker), repointed before each command, with one
# target folder: the second and later commands of a run reuse the parse (about a third of a small
# build's time). A changed raw folder (CRM_RAW_DIR) costs nearly a whole parse too, but it is passed
# as it is unless asked (raw_link): the staging views read it by path when queried, and a link
# repointed by a later command would make them read another folder.
# The output names the real folder again (test assertions match file paths in it), and
# run_results.json and manifest.json are moved to the warehouse's folder, where dbt_env puts the target folder.
STABLE_DIR = Path(tempfile.gettempdir()) / f"crm-pytest-dbt-{os.getpid()}"
ARTIFACTS = ("run_results.json", "manifest.json")  # moved to <warehouse folder>/target, as dbt_env has them


def _point(link: Path, target: Path) -> None:
    """Make link a symbolic link to target (replaced atomically)."""
    fresh = link.with_name(link.name + ".new")
    if fresh.is_symlink() or fresh.exists():
        fresh.unlink()
    fresh.symlink_to(target, target_is_directory=True)
    os.replace(fresh, link)


def stable_env(raw_dir: Path, db_path: Path, raw_link: bool = False) -> tuple[dict[str, str], dict[str, str]]:
    """dbt_env with the warehouse folder (and, with raw_link, the raw folder) behind STABLE_DIR's
    links (POSIX), and {link path: real path} to name the real folders in dbt's output."""
    env = dbt_env(raw_dir, db_path)
    if os.name == "nt":  # symbolic links need a privilege there: parse every time
        return env, {}
    if not STABLE_DIR.exists():
        STABLE_DIR.mkdir(parents=True)
        atexit.register(shutil.rmtree, STABLE_DIR, True)
    links = {STABLE_DIR / "db": db_path.parent}
    if raw_link:
        links[STABLE_DIR / "raw"] = raw_dir
        env["CRM_RAW_DIR"] = str(STABLE_DIR / "raw")
    for link, real in links.items():
        _point(link, Path(os.path.abspath(real)))
    env.update(
        CRM_DUCKDB_PATH=str(STABLE_DIR / "db" / db_path.name),
        CRM_DUCKDB_TEMP_DIR=str(STABLE_DIR / "db" / "tmp"),
        DBT_TARGET_PATH=str(STABLE_DIR / "target"),
    )
    return env, {str(link): str(real) for link, real in links.items()}


# Speed: run_dbt calls dbt in this process through dbt's documented programmatic entry point
# (dbtRunner), not as a new process: a small build then takes about 5.5 s instead of 9.5 s (no Python
# start-up, no import of dbt and its adapter, whose serialisation classes are built on import).
# Everything a separate process would see is the same: the environment and the working folder are
# those of the command for its duration, the output is what the command line prints, the exit code
# follows dbt's (0 success, 1 a failed node or test, 2 an error), and dbt-duckdb's DuckDB instance,
# which it keeps open in the process after a command, is closed so that the test can read or copy
# the file. CRM_TEST_DBT_SUBPROCESS=1 runs every command as a process instead.
IN_PROCESS = os.environ.get("CRM_TEST_DBT_SUBPROCESS", "") in ("", "0")


def invoke_dbt(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """One dbt command in this process (see IN_PROCESS), as subprocess.run would report it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            outcome = dbtRunner().invoke(args)
    finally:
        with DuckDBConnectionManager._LOCK:  # release the file, as the end of a process would
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    code = 0 if outcome.success else 2 if outcome.exception is not None else 1
    if outcome.exception is not None and not isinstance(outcome.exception, Exception):
        raise outcome.exception  # KeyboardInterrupt and the like: stop the test run
    return subprocess.CompletedProcess(["dbt", *args], code, out.getvalue(), err.getvalue())


def run_dbt(
    raw_dir: Path,
    db_path: Path,
    *args: str,
    check: bool = True,
    raw_link: bool = False,
    artifacts: bool = False,
) -> subprocess.CompletedProcess:
    """Run dbt in the project against raw_dir / db_path; returns the completed process.

    raw_link=True also passes the raw folder through a link of a fixed name, so that a series of
    commands on different raw folders reuses one parse; the views of that warehouse then read
    whatever folder the link points to at query time, so use it only where the tests read tables
    (tests/test_incremental.py). artifacts=True writes dbt's run_results.json and manifest.json to
    <warehouse folder>/target; without it dbt writes neither, nor its debug log file (about 12% of
    a small build's time), as a test that asserts on them asks for them."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    env, links = stable_env(raw_dir, db_path, raw_link)
    if not artifacts:
        env.update(DBT_WRITE_JSON="false", DBT_LOG_LEVEL_FILE="none")
    if IN_PROCESS:
        result = invoke_dbt(list(args), env)
    else:
        result = subprocess.run([str(BIN / "dbt"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    for link, real in links.items():
        result.stdout = result.stdout.replace(link, real)
        result.stderr = result.stderr.replace(link, real)
    for name in ARTIFACTS if links else ():
        if (STABLE_DIR / "target" / name).exists():  # where dbt_env puts it: beside the warehouse
            (db_path.parent / "target").mkdir(exist_ok=True)
            shutil.move(STABLE_DIR / "target" / name, db_path.parent / "target" / name)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def query(db_path: Path, sql: str):
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return connection.execute(sql).df()


def shared_path(tmp_path_factory, name: str) -> Path:
    """A path shared by every pytest-xdist worker of this run (plain pytest: the session's temp dir).

    Under xdist each worker has its own base temp dir (<run>/popen-gwN); their parent is the run's."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


@contextlib.contextmanager
def exclusive(path: Path):
    """Hold an exclusive lock on path + '.lock' (POSIX; one process under Windows anyway)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as handle:
        if os.name != "nt":
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """make(folder) runs once per test run, even with several xdist workers; returns the folder.

    A session fixture with an expensive result (a generated raw folder, a built warehouse) uses this
    so that `pytest -n 2` does not build it once per worker. Tests never write to the result: a test
    that changes a warehouse copies the file first."""
    folder = shared_path(tmp_path_factory, name)
    done = folder / ".done"
    with exclusive(folder):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.write_text("ok\n")
    return folder


@pytest.fixture(scope="session")
def clean_raw(tmp_path_factory) -> Path:
    """A clean generated raw folder (no bad rows), rich enough to hold every tier and event."""

    def make(out: Path) -> None:
        generate_data.generate(out / "raw", customers=1200, start_year=2023, years=3, seed=7, clean=True)

    return build_once(tmp_path_factory, "raw_clean", make) / "raw"


@pytest.fixture(scope="session")
def clean_warehouse(clean_raw, tmp_path_factory) -> Path:
    """The warehouse built (models only; tests run in the main dbt build) on clean_raw, once per run.
    Read it, or copy it before changing it."""

    def make(folder: Path) -> None:
        run_dbt(clean_raw, folder / "crm.duckdb", *MODELS_ONLY)

    return build_once(tmp_path_factory, "wh_clean", make) / "crm.duckdb"


@pytest.fixture(scope="session")
def demo_manifest(tmp_path_factory) -> dict:
    """dbt's manifest.json of the project (`dbt parse` on the demo data), parsed once per run."""

    def make(folder: Path) -> None:
        run_dbt(ROOT / "data" / "demo", folder / "crm.duckdb", "parse", artifacts=True)

    return json.loads((build_once(tmp_path_factory, "demo_parse", make) / "target" / "manifest.json").read_text())


@pytest.fixture(scope="session")
def build_db() -> Path:
    """The build warehouse of `make build` (CI builds it before pytest). Read it, or copy it before changing it."""
    path = default_paths()[0]
    if not path.exists():
        pytest.skip(f"build warehouse {path} is missing: run `make build` first (CI builds it before pytest)")
    return path


@pytest.fixture(scope="session")
def serving_db() -> Path:
    """The serving file published by `make build` (CI builds and publishes before pytest)."""
    path = default_paths()[1]
    if not path.exists():
        pytest.skip(
            f"serving warehouse {path} is missing: run `make build` first (CI builds and publishes it before pytest)"
        )
    return path


@pytest.fixture(autouse=True)
def pii_export_log(tmp_path, monkeypatch) -> Path:
    """Every test writes the export log of personal data (CRM_PII_EXPORT_LOG) to its own folder, never
    to the repository's warehouse/logs/pii_exports.log; a test reads it through this fixture."""
    path = tmp_path / "logs" / "pii_exports.log"
    monkeypatch.setenv("CRM_PII_EXPORT_LOG", str(path))
    return path


def sql(path: Path, query: str, params=None):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(query, params or []).fetchall()


# pytest-xdist (`make test` runs CRM_TEST_WORKERS workers, default 2, with --dist loadgroup
# --no-loadscope-reorder, scripts/tasks.py), with the groups of xdist_group_of below (xdist 3.8's
# own xdist_group marks have no effect under pytest 9, which ignores the node id xdist rewrites):
# a test file is one group, kept in one worker so that its module fixtures are built once; the
# tests of SPREAD_FILES (which use only session fixtures, built once per run under a lock, see
# build_once, and their own tmp_path) and of OWN_GROUP (a module fixture of their own) are groups
# of their own and go to whichever worker is free. Groups are handed out in SLOW_FIRST's order,
# the longest first, so that the workers finish together; the first groups need no session
# warehouse, so one worker starts on them while the other builds it; files not listed come after,
# in their usual order. Without xdist the order is the same.
SPREAD_FILES = {"test_incremental.py"}
OWN_GROUP = {"test_calendar_eras.py::test_thirty_years_give_372_report_months_in_every_monthly_mart"}
SLOW_FIRST = (  # worker seconds of each file in a make test run (2 workers), longest first
    "test_calendar_eras.py",  # 55 s (two module builds of other eras, with every data test)
    "test_incremental.py",  # 175 s: 15 tests of 5-18 s, one by one
    "test_bi_handoff.py",  # 50 s (real builds and publishes)
    "test_refresh.py",  # 48 s
    "test_benchmark.py",  # 42 s (scripts/benchmark.py at 4k lines)
    "test_odbc.py",  # 40 s (a plain dbt build while ODBC readers read)
    "test_staging_quality.py",  # 37 s
    "test_app_browser.py",  # 34 s (Streamlit + chromium)
    "test_pii.py",  # 35 s (two small dbt builds on copies, one on a copy of the project)
    "test_rfm_schemes.py",  # 23 s
    "test_campaigns.py",  # 19 s (a 9,000-customer build with campaigns)
    "test_customer_value_cdnow.py",  # 15 s
    "test_snapshot_reference.py",  # 11 s
    "test_app_streamlit.py",  # 11 s
    "test_customer_value_recovery.py",  # 9 s
    "test_export_safety.py",  # 7 s
)


def xdist_group_of(nodeid: str) -> str:
    """The group of a test: its file, or the test itself (SPREAD_FILES, OWN_GROUP)."""
    path = nodeid.split("::", 1)[0]
    name = Path(path).name
    if name in SPREAD_FILES or name + nodeid[len(path) :] in OWN_GROUP:
        return nodeid
    return path


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist still runs
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup with the groups of xdist_group_of (other --dist modes: xdist's own)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid)

    return FileGroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's order is kept
