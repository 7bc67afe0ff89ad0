"""Data tests narrowed to what an incremental run rebuilt say so in their own YAML.

A row-local data test on a month-recomputed model (`meta.crm_recompute`) carries
`config: {where: "__crm_rebuilt_months__"}`, one on a line-level model (`meta.crm_line_level`)
`__crm_parsed_lines__`; macros/utils/get_where_subquery.sql expands them (docs/incremental.md,
"Data tests"). A test without the placeholder checks every row: safe, but a one-month incremental
build then reads the whole history, so a new test on these models must not forget it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, run_dbt

# Tests that read only the tested model's own rows, one at a time or grouped by a key present in
# every month: they can be narrowed to the rebuilt months / parsed lines. Tests comparing two models
# (equal_aggregate, ...) and singular tests stay unscoped.
ROW_LOCAL = {
    "not_null",
    "unique",
    "accepted_values",
    "relationships",
    "accepted_range",
    "expression_is_true",
    "unique_combination_of_columns",
    "null_iff",
}
PLACEHOLDERS = {"crm_recompute": "__crm_rebuilt_months__", "crm_line_level": "__crm_parsed_lines__"}


def scope_problems(manifest: dict) -> list[str]:
    """Row-local tests on a month-recomputed or line-level model without its placeholder, and
    placeholders on a model without the meta they need."""
    nodes = manifest["nodes"]
    problems = []
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = nodes.get(node.get("attached_node") or "")
        meta = ((model or {}).get("config") or {}).get("meta") or {}
        where = node["config"].get("where") or ""
        for key, placeholder in PLACEHOLDERS.items():
            if meta.get(key) and node["test_metadata"]["name"] in ROW_LOCAL and placeholder not in where:
                problems.append(
                    f'{node["name"]}: add config: {{where: "{placeholder}"}} ({model["name"]} has meta {key})'
                )
            if placeholder in where and not meta.get(key):
                problems.append(f"{node['name']}: {placeholder} on a model without meta {key}")
    return sorted(problems)


@pytest.fixture(scope="module")
def parsed(demo_manifest, tmp_path_factory) -> tuple[Path, dict]:
    """(a DuckDB path for this file's dbt commands, the project's manifest)."""
    return tmp_path_factory.mktemp("test_scope") / "crm.duckdb", demo_manifest


def dbt(database: Path, *args: str) -> subprocess.CompletedProcess:
    return run_dbt(ROOT / "data" / "demo", database, *args, check=False)


def test_every_row_local_test_on_an_incremental_model_declares_its_scope(parsed):
    _, manifest = parsed
    assert scope_problems(manifest) == []
    scoped = [node for node in manifest["nodes"].values() if "__crm_" in (node["config"].get("where") or "")]
    assert len(scoped) > 90  # the check above looked at the real tests


def test_a_missing_or_misplaced_placeholder_is_reported():
    def model(name, meta):
        return {"resource_type": "model", "name": name, "config": {"meta": meta}}

    def test(name, kind, on, where=None):
        config = {"where": where} if where else {}
        return {
            "resource_type": "test",
            "name": name,
            "test_metadata": {"name": kind},
            "attached_node": on,
            "config": config,
        }

    manifest = {
        "nodes": {
            "m.months": model("months", {"crm_recompute": {"date_column": "report_month"}}),
            "m.lines": model("lines", {"crm_line_level": True}),
            "m.table": model("table", {}),
            "t.1": test("scoped", "not_null", "m.months", "__crm_rebuilt_months__"),
            "t.2": test("compares", "equal_aggregate", "m.months"),
            "t.3": test("lines_scoped", "unique", "m.lines", "x > 0 and __crm_parsed_lines__"),
            "t.4": test("plain", "unique", "m.table"),
        }
    }
    assert scope_problems(manifest) == []
    manifest["nodes"]["t.5"] = test("forgot", "accepted_values", "m.months")
    manifest["nodes"]["t.6"] = test("wrong_one", "not_null", "m.lines", "__crm_rebuilt_months__")
    manifest["nodes"]["t.7"] = test("not_incremental", "not_null", "m.table", "__crm_parsed_lines__")
    assert scope_problems(manifest) == [
        'forgot: add config: {where: "__crm_rebuilt_months__"} (months has meta crm_recompute)',
        "not_incremental: __crm_parsed_lines__ on a model without meta crm_line_level",
        "wrong_one: __crm_rebuilt_months__ on a model without meta crm_recompute",
        'wrong_one: add config: {where: "__crm_parsed_lines__"} (lines has meta crm_line_level)',
    ]


def expand(database: Path, where: str, model: str, *args: str) -> subprocess.CompletedProcess:
    """Compile get_where_subquery's expansion of `where` for a test on `model`."""
    sql = f"select {{{{ crm_expand_test_scope(\"{where}\", 'model.crm_warehouse.{model}', 'probe_test') }}}}"
    return dbt(database, "compile", "--no-populate-cache", "--inline", sql, *args)


@pytest.mark.parametrize(
    ("where", "model", "message"),
    [
        (
            "__crm_rebuilt_month__",
            "fct_sales",
            "Data test probe_test: unknown placeholder __crm_rebuilt_month__ in its `where` config; "
            "the known ones are __crm_parsed_lines__, __crm_rebuilt_months__",
        ),
        (
            "__CRM_REBUILT_MONTHS__",
            "fct_sales",
            "Data test probe_test: unknown placeholder __CRM_REBUILT_MONTHS__ in its `where` config; ",
        ),
        (
            "__crm_rebuilt_months__",
            "dim_customers",
            "Data test probe_test: __crm_rebuilt_months__ in its `where` config needs a model with "
            "`meta.crm_recompute` (dbt_project.yml), and dim_customers has none.",
        ),
        (
            "status = 1 and __crm_parsed_lines__",
            "fct_sales",
            "Data test probe_test: __crm_parsed_lines__ in its `where` config needs a model with "
            "`meta.crm_line_level` (dbt_project.yml), and fct_sales has none.",
        ),
    ],
)
def test_a_misplaced_or_unknown_placeholder_is_a_compilation_error(parsed, where, model, message):
    database, _ = parsed
    result = expand(database, where, model)
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split()), result.stdout[-3000:]


def test_outside_an_incremental_dbt_build_a_placeholder_expands_to_true(parsed):
    """`dbt compile` (as `dbt test`) checks every line; the predicates of an incremental `dbt build`
    are exercised by its own data tests."""
    database, _ = parsed
    result = expand(database, "x > 0 and __crm_parsed_lines__", "base_crm__sales_transaction_lines")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "select x > 0 and (true)" in result.stdout
