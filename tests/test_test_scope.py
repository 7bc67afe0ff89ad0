"""Data tests narrowed to what an incremental run rebuilt say so in their own YAML.

A row-local data test on a month-recomputed model (config recompute_column, incremental strategy
crm_month_range) carries a `where` comparing that column with the changes model, e.g.
`where: "report_month >= (select rebuild_from_month from intermediate.int_build_changes) or
{{ var('crm_test_every_row') }}"`; one on a line-level model (meta crm_line_level) keeps the lines
of the latest parse (`loaded_at` of staging.base_crm__sales_transaction_lines). docs/incremental.md,
"Data tests". A test without its range checks every row: safe, but a one-month incremental build
then reads the whole history, so a new test on these models must not forget it; and a range that
names another relation or column than these would check the wrong rows."""

from __future__ import annotations

import re

CHANGES = "intermediate.int_build_changes"
LINES = "staging.base_crm__sales_transaction_lines"
LATEST_PARSE = f"loaded_at = (select max(loaded_at) from {LINES})"

# Tests that read only the tested model's own rows, one at a time or grouped by a key present in
# every month: they can be narrowed to the rebuilt months / parsed lines. Tests comparing two models
# (equal_aggregate, which narrows both sides itself with its month_column argument, ...) and
# singular tests stay unscoped.
ROW_LOCAL = {
    "not_null",
    "unique",
    "accepted_values",
    "relationships",
    "accepted_range",
    "expression_is_true",
    "expressions_are_true",
    "unique_combination_of_columns",
    "null_iff",
}
RELATION = re.compile(r"\bfrom\s+([\w.]+)", re.IGNORECASE)
MONTH_RANGE = re.compile(
    r"(\w+)\s*>=\s*\(select\s+(date_trunc\('year',\s*rebuild_from_month\)|rebuild_from_month_index|rebuild_from_month)"
    r"\s+from\s+" + re.escape(CHANGES) + r"\)",
    re.IGNORECASE,
)


def expected_month_range(config: dict) -> str:
    """The range a row-local test on a month-recomputed model states, from the model's config."""
    column = config["recompute_column"]
    kind = config.get("recompute_column_type") or ("month_index" if column.endswith("month_index") else "date")
    if config.get("from_year_start"):
        bound = "date_trunc('year', rebuild_from_month)"
    else:
        bound = "rebuild_from_month_index" if kind == "month_index" else "rebuild_from_month"
    return f"{column} >= (select {bound} from {CHANGES})"


def scope_problems(manifest: dict) -> list[str]:
    """Row-local tests on a month-recomputed or line-level model without their range, ranges naming
    another relation or column, and ranges on models that are neither."""
    nodes = manifest["nodes"]
    problems = []
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = nodes.get(node.get("attached_node") or "") or {}
        config = model.get("config") or {}
        months = bool(config.get("recompute_column"))
        lines = bool((config.get("meta") or {}).get("crm_line_level"))
        where = node["config"].get("where") or ""
        name, row_local = node["name"], node["test_metadata"]["name"] in ROW_LOCAL
        relations = set(RELATION.findall(where))
        if months and row_local:
            wanted = expected_month_range(config)
            if wanted not in where:
                problems.append(f'{name}: add config: {{where: "{wanted}"}} ({model["name"]} is month-recomputed)')
        if lines and row_local and LATEST_PARSE not in where and f"where {LATEST_PARSE}" not in where:
            problems.append(
                f"{name}: add a `where` keeping the lines of the latest parse ({model['name']} is line-level)"
            )
        allowed = ({CHANGES} if months else set()) | ({LINES} if lines else set())
        for relation in sorted(relations - allowed):
            problems.append(f"{name}: its `where` reads {relation}, not {' or '.join(sorted(allowed)) or 'a range'}")
        if MONTH_RANGE.search(where) and not months:
            problems.append(f"{name}: a range of rebuilt months on {model.get('name')}, which is not month-recomputed")
    return sorted(problems)


def test_every_row_local_test_on_an_incremental_model_states_its_range(demo_manifest):
    assert scope_problems(demo_manifest) == []
    scoped = [
        node
        for node in demo_manifest["nodes"].values()
        if CHANGES in (node["config"].get("where") or "") or LINES in (node["config"].get("where") or "")
    ]
    assert len(scoped) > 80  # the check above looked at the real tests


def test_every_month_recomputed_model_reads_the_changes_and_is_read_by_the_completed_build(demo_manifest):
    """Each month-recomputed model refs int_build_changes in its own SQL, and int_build_completed (the
    last model, which records a completed build) reads every one of them, so that it is skipped when
    one of them fails (docs/incremental.md)."""
    nodes = demo_manifest["nodes"]
    models = {node["unique_id"]: node for node in nodes.values() if node["resource_type"] == "model"}
    month_range = {uid for uid, node in models.items() if node["config"].get("recompute_column")}
    assert len(month_range) >= 20
    changes = "model.crm_warehouse.int_build_changes"
    assert [
        models[uid]["name"] for uid in sorted(month_range) if changes not in models[uid]["depends_on"]["nodes"]
    ] == []
    completed = models["model.crm_warehouse.int_build_completed"]["depends_on"]["nodes"]
    assert sorted(models[uid]["name"] for uid in month_range - set(completed)) == []
    for uid in month_range:
        config = models[uid]["config"]
        strategy = "append" if models[uid]["language"] == "python" else "crm_month_range"
        assert (config["materialized"], config["incremental_strategy"]) == ("incremental", strategy), uid


def test_a_missing_or_misplaced_range_is_reported():
    def model(name, config):
        return {"resource_type": "model", "name": name, "config": config}

    def test(name, kind, on, where=None):
        config = {"where": where} if where else {}
        return {
            "resource_type": "test",
            "name": name,
            "test_metadata": {"name": kind},
            "attached_node": on,
            "config": config,
        }

    months = f"report_month >= (select rebuild_from_month from {CHANGES})"
    latest = (
        f"(source_file, source_row_number) in (select source_file, source_row_number from {LINES} where {LATEST_PARSE})"
    )
    manifest = {
        "nodes": {
            "m.months": model("months", {"recompute_column": "report_month"}),
            "m.index": model("index", {"recompute_column": "report_month_index"}),
            "m.periods": model("periods", {"recompute_column": "period_start", "from_year_start": True}),
            "m.lines": model("lines", {"meta": {"crm_line_level": True}}),
            "m.table": model("table", {}),
            "t.1": test("scoped", "not_null", "m.months", months + " or False"),
            "t.2": test("compares", "equal_aggregate", "m.months"),
            "t.3": test("lines_scoped", "unique", "m.lines", f"x > 0 and ({latest})"),
            "t.4": test("plain", "unique", "m.table"),
            "t.5": test(
                "index_scoped",
                "not_null",
                "m.index",
                f"report_month_index >= (select rebuild_from_month_index from {CHANGES})",
            ),
            "t.6": test(
                "periods_scoped",
                "not_null",
                "m.periods",
                f"period_start >= (select date_trunc('year', rebuild_from_month) from {CHANGES})",
            ),
        }
    }
    assert scope_problems(manifest) == []
    nodes = manifest["nodes"]
    nodes["t.7"] = test("forgot", "accepted_values", "m.months")
    nodes["t.8"] = test("wrong_column", "not_null", "m.months", months.replace("report_month", "invoice_date"))
    nodes["t.9"] = test("wrong_relation", "not_null", "m.months", months + " and x in (select x from marts.other)")
    nodes["t.10"] = test("not_incremental", "not_null", "m.table", months)
    nodes["t.11"] = test("lines_unscoped", "not_null", "m.lines")
    nodes["t.12"] = test(
        "index_as_date", "not_null", "m.index", f"report_month_index >= (select rebuild_from_month from {CHANGES})"
    )
    assert scope_problems(manifest) == [
        'forgot: add config: {where: "report_month >= (select rebuild_from_month from intermediate.int_build_changes)"}'
        " (months is month-recomputed)",
        'index_as_date: add config: {where: "report_month_index >= (select rebuild_from_month_index from '
        'intermediate.int_build_changes)"} (index is month-recomputed)',
        "lines_unscoped: add a `where` keeping the lines of the latest parse (lines is line-level)",
        "not_incremental: a range of rebuilt months on table, which is not month-recomputed",
        "not_incremental: its `where` reads intermediate.int_build_changes, not a range",
        'wrong_column: add config: {where: "report_month >= (select rebuild_from_month from '
        'intermediate.int_build_changes)"} (months is month-recomputed)',
        "wrong_relation: its `where` reads marts.other, not intermediate.int_build_changes",
    ]
