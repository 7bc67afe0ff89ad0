"""The committed dbt profile survives DuckDB spilling to its temp directory.

dbt-duckdb opens one database per run and a new cursor per node, replaying the profile's
`settings` on each cursor. DuckDB refuses `SET temp_directory` once it has spilled there
("Cannot switch temporary directory after the current one has been used"), so a temp_directory
under `settings` made every node after the first spill fail: a 100M-line build died that way.
These tests open the profile exactly as dbt-duckdb does, force a spill, then open more cursors.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments.local import LocalEnvironment

ROOT = Path(__file__).resolve().parent.parent

SPILLING_QUERY = "create or replace table spilled as select range as id, random() as r from range(6000000) order by r"


def profile_output(env: dict) -> dict:
    """The `dev` output of profiles.yml, rendered with env_var() reading `env` (as dbt does)."""

    def env_var(name, default=None):
        return env.get(name, default)

    raw = yaml.safe_load((ROOT / "profiles.yml").read_text())["crm"]["outputs"]["dev"]

    def render(value):
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        if isinstance(value, str):
            jinja_env = jinja2.Environment()
            jinja_env.filters["as_number"] = lambda v: int(v) if str(v).isdigit() else float(v)
            return jinja_env.from_string(value).render(env_var=env_var)
        return value

    return render(raw)


def open_environment(output: dict) -> LocalEnvironment:
    creds = DuckDBCredentials(
        path=output["path"],
        config_options=output.get("config_options"),
        settings=output.get("settings"),
    )
    return LocalEnvironment(creds)


def spill_then_open_cursors(output: dict, temp_dir: Path) -> None:
    environment = open_environment(output)
    try:
        first = environment.handle()
        first.cursor().execute(SPILLING_QUERY)
        spilled = first.cursor().execute("select count(*) from duckdb_temporary_files()").fetchone()[0]
        used = temp_dir.exists() and any(temp_dir.iterdir())
        assert spilled > 0 or used, "the query did not spill: raise its size or lower the memory limit"
        for _ in range(3):  # the next nodes of a build: new cursors, settings replayed
            wrapper = environment.handle()
            assert wrapper.cursor().execute("select count(*) from spilled").fetchone()[0] == 6_000_000
            wrapper.close()
        first.close()
    finally:
        environment.close()


@pytest.fixture
def spill_env(tmp_path: Path) -> tuple[dict, Path]:
    temp_dir = tmp_path / "spill"
    env = {
        "CRM_DUCKDB_PATH": str(tmp_path / "crm.duckdb"),
        "CRM_DUCKDB_THREADS": "1",
        "CRM_DUCKDB_MEMORY": "120MB",
        "CRM_DUCKDB_TEMP_DIR": str(temp_dir),
    }
    return profile_output(env), temp_dir


def test_temp_directory_is_set_once_at_open(spill_env):
    output, temp_dir = spill_env
    assert "temp_directory" not in (output.get("settings") or {})
    assert output["config_options"]["temp_directory"] == str(temp_dir)


def test_build_continues_after_a_spill(spill_env):
    output, temp_dir = spill_env
    spill_then_open_cursors(output, temp_dir)


def test_the_old_profile_layout_fails_after_a_spill(spill_env):
    """Proves the test above can fail: temp_directory under `settings` breaks the next cursor."""
    output, temp_dir = spill_env
    old = dict(output)
    old["settings"] = {**(output.get("settings") or {}), "temp_directory": str(temp_dir)}
    old.pop("config_options", None)
    with pytest.raises(Exception, match="temporary directory"):
        spill_then_open_cursors(old, temp_dir)
