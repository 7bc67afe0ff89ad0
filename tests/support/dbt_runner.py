"""Run dbt in the project against a raw folder and a throw-away DuckDB file (run_dbt), fast."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from .private_api import release_dbt_duckdb_instance

ROOT = Path(__file__).resolve().parents[2]
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
        release_dbt_duckdb_instance()  # release the file, as the end of a process would
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


def sql(path: Path, query: str, params=None):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(query, params or []).fetchall()
