"""Shared fixtures of the test suite; the helpers live in tests/support/ (re-exported here, as the
test files import them from conftest)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import generate_data
from crm_warehouse.publish import default_paths
from support.dbt_runner import (  # noqa: F401  (re-exported for the test files)
    BIN,
    MODELS_ONLY,
    ROOT,
    dbt_env,
    invoke_dbt,
    query,
    run_dbt,
    sql,
    stable_env,
)
from support.machine import IN_CI, lacking  # noqa: F401
from support.private_api import group_scheduler
from support.scheduling import FILE_SECONDS_KEY, record_file_seconds, slowest_first, xdist_group_of
from support.shared import build_once, exclusive, shared_path  # noqa: F401


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


def current_demo_build(build_path: Path, serving_path: Path) -> bool:
    """Whether build_path and serving_path hold the demo built by this version of the project: the
    markers scripts/tasks.py writes after a build (make build, make test) name the demo raw folder and
    the project fingerprint of today's files."""
    import tasks  # scripts/tasks.py (pytest's pythonpath has scripts/)

    raw_marker = Path(f"{build_path}.raw_dir")
    project_marker = Path(f"{build_path}.project")
    if not (build_path.exists() and serving_path.exists() and raw_marker.exists() and project_marker.exists()):
        return False
    built_from = Path(raw_marker.read_text().strip())
    return (
        built_from.resolve() == (ROOT / "data" / "demo").resolve()
        and project_marker.read_text().strip() == tasks.project_fingerprint()
    )


# The production build of the demo data (`make build`): models, data tests and the publish node.
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test", "--full-refresh")


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> tuple[Path, Path]:
    """(build warehouse, serving file) of the demo data as `make build` makes them.

    `make test` (and CI) builds and publishes the project's own warehouse/ before pytest: it is used
    as it is when it is current (current_demo_build). Otherwise (a bare `pytest` on a fresh clone, a
    warehouse of other data or of an older version of the project) the demo is built and published
    here, once per run, into the run's temporary folder: a test that needs a warehouse builds it or
    fails, it never skips nor reads a stale one. CRM_TEST_OWN_BUILD=1 always builds it here."""
    build_path, serving_path, _ = default_paths()
    if current_demo_build(build_path, serving_path) and os.environ.get("CRM_TEST_OWN_BUILD", "") in ("", "0"):
        return build_path, serving_path

    def make(folder: Path) -> None:
        serving = folder / "crm_serving.duckdb"
        saved = {name: os.environ.get(name) for name in ("CRM_SERVING_PATH", "CRM_PARQUET_DIR")}
        os.environ.update(CRM_SERVING_PATH=str(serving), CRM_PARQUET_DIR=str(folder / "parquet"))
        try:
            run_dbt(ROOT / "data" / "demo", folder / "crm.duckdb", *PRODUCTION_BUILD)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if not serving.exists():
            raise AssertionError(f"the demo build published no serving file {serving}")

    folder = build_once(tmp_path_factory, "demo_build", make)
    return folder / "crm.duckdb", folder / "crm_serving.duckdb"


@pytest.fixture(autouse=True)
def pii_export_log(tmp_path, monkeypatch) -> Path:
    """Every test writes the export log of personal data (CRM_PII_EXPORT_LOG) to its own folder, never
    to the repository's warehouse/logs/pii_exports.log; a test reads it through this fixture."""
    path = tmp_path / "logs" / "pii_exports.log"
    monkeypatch.setenv("CRM_PII_EXPORT_LOG", str(path))
    return path


@pytest.fixture(scope="session")
def build_db(demo_build) -> Path:
    """The build warehouse of the demo (demo_build). Read it, or copy it before changing it."""
    return demo_build[0]


@pytest.fixture(scope="session")
def serving_db(demo_build) -> Path:
    """The serving file published from the demo build (demo_build). Read only."""
    return demo_build[1]


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist still runs
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup with the groups of xdist_group_of (other --dist modes: xdist's own)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return group_scheduler(config, log, xdist_group_of)


def pytest_collection_modifyitems(config, items):
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    slowest_first(items, cache.get(FILE_SECONDS_KEY, None) if cache else None)


FILE_SECONDS: dict[str, float] = {}


def whole_suite(config) -> bool:
    """A run of every test (no -k / -m, only folders named): its file seconds are worth keeping."""
    return not config.option.keyword and not config.option.markexpr and all(Path(arg).is_dir() for arg in config.args)


def pytest_runtest_logreport(report):
    record_file_seconds(FILE_SECONDS, report)  # under xdist the controller sees every worker's reports


def pytest_sessionfinish(session, exitstatus):
    """After a whole, passing run (the xdist controller, or plain pytest), keep each file's seconds:
    the next run starts the longest files first (tests/support/scheduling.py)."""
    config = session.config
    cache = getattr(config, "cache", None)
    if cache is None or hasattr(config, "workerinput") or exitstatus != 0 or not whole_suite(config):
        return
    cache.set(FILE_SECONDS_KEY, {name: round(seconds, 1) for name, seconds in FILE_SECONDS.items()})
