"""Fixtures of the orchestration tests (make test-orchestration, in .venv-orchestration).

The code location reads its settings from the environment (CRM_RAW_DIR, CRM_DUCKDB_PATH, ...), as
`make orchestrate` gives them: each test sets its own folders with monkeypatch, before the
definitions are used."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _quiet_dagster(monkeypatch):
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "true")
    for name in ("CRM_SERVING_PATH", "CRM_PARQUET_DIR", "CRM_CAMPAIGN_DIR", "DBT_TARGET_PATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A landing folder with the demo data, the test's own to change."""
    raw = tmp_path / "raw"
    shutil.copytree(DEMO, raw)
    return raw


def point_at(monkeypatch, raw: Path, warehouse: Path) -> None:
    monkeypatch.setenv("CRM_RAW_DIR", str(raw))
    monkeypatch.setenv("CRM_DUCKDB_PATH", str(warehouse / "crm.duckdb"))
    monkeypatch.setenv("CRM_DUCKDB_TEMP_DIR", str(warehouse / "tmp"))
    os.environ.pop("CRM_SERVING_PATH", None)
