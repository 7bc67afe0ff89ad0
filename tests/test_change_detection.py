"""Change detection is derived from the project (macro crm_rule_settings, read by int_source_digests):
a seed or a crm_ var added to the project is digested without any list to update, and a change of
either changes the settings digest, so an incremental build recomputes every month.

A test project (a copy of this one) gets a new seed and a new model reading a new var; the digest
int_source_digests compiles to changes at each step. The tasks.py side (a changed project file forces
a full refresh) is tests/test_tasks.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_dbt

DIGEST = re.compile(r"'([0-9a-f]{32})' as digest")


@pytest.fixture()
def project(tmp_path) -> Path:
    copy = tmp_path / "project"
    for folder in ("models", "macros", "seeds", "data_tests"):
        shutil.copytree(ROOT / folder, copy / folder)
    shutil.copy(ROOT / "dbt_project.yml", copy / "dbt_project.yml")
    return copy


def settings_digest(project: Path, tmp_path: Path, *extra: str) -> str:
    """The settings digest that int_source_digests compiles to in the test project."""
    result = run_dbt(
        ROOT / "data" / "demo",
        tmp_path / "wh" / "crm.duckdb",
        "compile",
        "--project-dir",
        str(project),
        "--select",
        "int_source_digests",
        *extra,
    )
    found = DIGEST.findall(result.stdout)
    assert len(found) == 1, result.stdout[-3000:]
    return found[0]


def test_a_new_seed_and_a_new_var_are_digested_without_a_list_to_update(project, tmp_path):
    baseline = settings_digest(project, tmp_path)

    (project / "seeds" / "extra_rule.csv").write_text("rule_name,rule_value\nlimit,10\n")
    with_seed = settings_digest(project, tmp_path)
    assert with_seed != baseline, "a new seed is not digested"

    (project / "seeds" / "extra_rule.csv").write_text("rule_name,rule_value\nlimit,11\n")
    seed_changed = settings_digest(project, tmp_path)
    assert seed_changed != with_seed, "a changed seed is not noticed"

    (project / "models" / "intermediate" / "int_extra_rule.sql").write_text(
        "select rule_value * {{ var('crm_extra_rule_factor', 1) }} as rule_value from {{ ref('extra_rule') }}\n"
    )
    with_var = settings_digest(project, tmp_path)
    assert with_var != seed_changed, "a new var is not digested"
    var_changed = settings_digest(project, tmp_path, "--vars", "{crm_extra_rule_factor: 2}")
    assert var_changed != with_var, "a var changed with --vars is not noticed"

    # a var read only inside a macro, changed for a run, is noticed too
    assert settings_digest(project, tmp_path, "--vars", "{crm_score_bins: 4}") != with_var
