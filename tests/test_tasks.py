"""scripts/tasks.py decisions that protect a warehouse: a build after a change of the project's SQL
(an upgrade, a new column) is a full refresh, so rows of the old rules never stay beside new ones."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def tasks_on_a_copy(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("crm_tasks", ROOT / "scripts" / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for folder in ("models", "macros", "seeds", "src"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "dbt_project.yml", tmp_path / "dbt_project.yml")
    monkeypatch.setattr(module, "ROOT", tmp_path)
    return module, tmp_path


@pytest.mark.parametrize(
    "changed",
    [
        "models/marts/fct_customer_monthly_snapshot.sql",
        "macros/crm_migration.sql",
        "seeds/value_tier_calibration.csv",
        "src/crm_warehouse/customer_value.py",
        "dbt_project.yml",
    ],
)
def test_the_fingerprint_changes_with_any_rule_file(tasks_on_a_copy, changed):
    tasks, copy = tasks_on_a_copy
    before = tasks.project_fingerprint()
    path = copy / changed
    path.write_text(path.read_text() + "\n-- changed\n" if path.suffix == ".sql" else path.read_text() + "\n")
    assert tasks.project_fingerprint() != before


def test_the_fingerprint_ignores_python_bytecode(tasks_on_a_copy):
    tasks, copy = tasks_on_a_copy
    before = tasks.project_fingerprint()
    (copy / "src" / "crm_warehouse" / "__pycache__").mkdir(exist_ok=True)
    (copy / "src" / "crm_warehouse" / "__pycache__" / "customer_value.cpython-311.pyc").write_bytes(b"bytecode")
    assert tasks.project_fingerprint() == before


def test_the_fingerprint_ignores_line_endings_and_is_stable(tasks_on_a_copy):
    tasks, copy = tasks_on_a_copy
    before = tasks.project_fingerprint()
    assert tasks.project_fingerprint() == before
    path = copy / "models" / "marts" / "dim_dates.sql"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a Windows checkout
    assert tasks.project_fingerprint() == before


def test_gate_lines_are_grouped_per_test_with_failures_first():
    """tasks.gate_groups: one home of how `make build` and the orchestrator repeat the quality gates."""
    spec = importlib.util.spec_from_file_location("crm_tasks", ROOT / "scripts" / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    lines = ["WARN share of rejected customers", "  3 rows", "FAIL reject share of sales", "  12 rows", "  examples"]
    assert tasks.gate_groups(lines) == [
        ["FAIL reject share of sales", "  12 rows", "  examples"],
        ["WARN share of rejected customers", "  3 rows"],
    ]
    assert tasks.gate_groups(["  a detail before any header"]) == [["  a detail before any header"]]
