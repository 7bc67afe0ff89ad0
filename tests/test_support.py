"""The test suite's own support (tests/support/): each private-API use still works with the installed
libraries, and a test that lacks something on this machine fails under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, run_dbt
from support import private_api


def test_release_dbt_duckdb_instance_frees_the_file_dbt_wrote(tmp_path):
    """dbt-duckdb keeps its DuckDB instance after an in-process command; the release closes it, so a
    second connection with another configuration (read-only) opens the file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    db = tmp_path / "wh" / "crm.duckdb"
    run_dbt(ROOT / "data" / "demo", db, "seed", "--select", "reject_reasons")  # releases it on its way out
    assert DuckDBConnectionManager._ENV is None
    with duckdb.connect(str(db), read_only=True) as connection:
        tables = connection.execute("select table_name from information_schema.tables").fetchall()
    assert ("reject_reasons",) in tables


def test_the_xdist_scheduler_override_still_has_its_hook():
    from xdist.scheduler import LoadScopeScheduling

    assert callable(getattr(LoadScopeScheduling, "_split_scope", None)), (
        "pytest-xdist no longer has LoadScopeScheduling._split_scope: update tests/support/private_api.group_scheduler"
    )


def test_a_vanished_private_attribute_fails_with_the_library_and_the_fix():
    class Library:
        pass

    with pytest.raises(private_api.PrivateApiChanged, match=r"somelib: .*Library\._gone is gone.*private_api\.py"):
        private_api._require(Library, "_gone", "somelib", "do something")


@pytest.mark.parametrize(
    ("ci", "outcome", "said"), [("true", "failed", "CI: no browser here"), ("", "skipped", "no browser here")]
)
def test_lacking_skips_here_and_fails_in_ci(tmp_path, ci, outcome, said):
    test_file = tmp_path / "test_lacks.py"
    test_file.write_text(
        textwrap.dedent(
            """
            from support.machine import lacking
            
            def test_needs_a_browser():
                lacking("no browser here")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **os.environ,
            "CI": ci,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert f"1 {outcome}" in result.stdout and said in result.stdout, result.stdout


def test_a_warehouse_of_another_project_version_or_raw_folder_is_not_reused(tmp_path):
    """demo_build reuses warehouse/ only when the markers of scripts/tasks.py say: the demo, built by
    this version of the project; anything else is built afresh (never a stale warehouse, never a skip)."""
    import tasks
    from conftest import current_demo_build

    build, serving = tmp_path / "crm.duckdb", tmp_path / "crm_serving.duckdb"
    build.write_text("")
    serving.write_text("")
    assert not current_demo_build(build, serving)  # no markers: unknown origin
    Path(f"{build}.raw_dir").write_text(str(ROOT / "data" / "demo") + "\n")
    Path(f"{build}.project").write_text(tasks.project_fingerprint() + "\n")
    assert current_demo_build(build, serving)
    Path(f"{build}.project").write_text("an older version of the project\n")
    assert not current_demo_build(build, serving)
    Path(f"{build}.project").write_text(tasks.project_fingerprint() + "\n")
    Path(f"{build}.raw_dir").write_text(str(tmp_path / "other_raw") + "\n")
    assert not current_demo_build(build, serving)


def test_files_go_longest_first_by_the_last_full_runs_measure_else_the_committed_order():
    from support.scheduling import SLOW_FIRST, file_order

    names = ["test_tasks.py", "test_layout.py", SLOW_FIRST[1], SLOW_FIRST[0]]
    # unlisted files keep their collection order (every xdist worker must collect the same order)
    assert file_order(names, None) == [SLOW_FIRST[0], SLOW_FIRST[1], "test_tasks.py", "test_layout.py"]
    measured = {"test_tasks.py": 90.0, "test_layout.py": 1.0, SLOW_FIRST[0]: 10.0, SLOW_FIRST[1]: 50.0}
    assert file_order(names, measured) == ["test_tasks.py", SLOW_FIRST[1], SLOW_FIRST[0], "test_layout.py"]
    # a file the last run did not measure (new): the committed order, not a guess
    assert file_order([*names, "test_new.py"], measured)[:2] == [SLOW_FIRST[0], SLOW_FIRST[1]]


def test_every_xdist_worker_collects_the_same_order():
    """Workers are separate processes with their own string hash seed: the order must not depend on it."""
    orders = set()
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.returncode == 0, result.stdout[-2000:]
        orders.add(tuple(line for line in result.stdout.splitlines() if "::" in line))
    assert len(orders) == 1
