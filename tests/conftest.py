"""Shared helpers: build the warehouse on a generated raw folder into a throw-away DuckDB file."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
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
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def run_dbt(raw_dir: Path, db_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run dbt in the project against raw_dir / db_path; returns the completed process."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(BIN / "dbt"), *args],
        cwd=ROOT,
        env=dbt_env(raw_dir, db_path),
        capture_output=True,
        text=True,
    )
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
def serving_db() -> Path:
    """The serving file published by `make build` (CI builds and publishes before pytest)."""
    path = default_paths()[1]
    if not path.exists():
        pytest.skip(
            f"serving warehouse {path} is missing: run `make build` first (CI builds and publishes it before pytest)"
        )
    return path


def sql(path: Path, query: str, params=None):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(query, params or []).fetchall()
