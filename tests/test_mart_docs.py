"""The marts' YAML descriptions are in the build warehouse as DuckDB comments (persist_docs on the
marts, dbt_project.yml): a DuckDB user of the build file sees what each mart and column means."""

from __future__ import annotations

import duckdb


def test_every_mart_and_mart_column_carries_its_yaml_description(build_db, demo_manifest):
    marts = {
        node["alias"]: node
        for node in demo_manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["schema"] == "marts" and node["config"]["enabled"]
    }
    assert len(marts) > 20
    with duckdb.connect(str(build_db), read_only=True) as connection:
        tables = dict(
            connection.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        columns = {
            (table, column): comment
            for table, column, comment in connection.execute(
                "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        }
    problems = []
    for name, node in sorted(marts.items()):
        if tables.get(name) != node["description"]:
            problems.append(f"{name}: table comment {tables.get(name)!r}")
        for column, spec in node["columns"].items():
            if columns.get((name, column)) != spec["description"]:
                problems.append(f"{name}.{column}: comment {columns.get((name, column))!r}")
    assert not problems, "\n".join(problems[:20])
    assert all(description for description in tables.values())
