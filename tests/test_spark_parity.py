"""The comparison logic of scripts/spark_parity.py (issue 16): no Spark needed. Parquet folders stand in
for Spark's warehouse in the end-to-end cases."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import duckdb
import pytest

import spark_parity
from spark_parity import MARTS_DIR, compare_columns, compare_rows, mart_models, values_equal


def test_exact_kinds_must_match_exactly():
    assert values_equal(Decimal("1.2300"), Decimal("1.23"))
    assert not values_equal(Decimal("1.2300"), Decimal("1.2301"))
    # exact, not through floats (which cannot tell these apart)
    assert not values_equal(Decimal("12345678901234.0001"), Decimal("12345678901234.0002"))
    assert values_equal(3, Decimal("3.0000"))
    assert not values_equal(3, 4)
    assert values_equal("Can't Lose Them", "Can't Lose Them")
    assert not values_equal("Champions", "champions")
    assert not values_equal("1", 1)
    assert values_equal(datetime.date(2025, 1, 1), datetime.date(2025, 1, 1))
    assert not values_equal(datetime.date(2025, 1, 1), datetime.datetime(2025, 1, 1))
    assert not values_equal(True, 1)
    assert values_equal(None, None)
    assert not values_equal(None, 0)
    assert not values_equal("", None)


def test_doubles_within_one_billionth_relative():
    assert values_equal(0.1 + 0.2, 0.3)
    assert values_equal(1e6, 1e6 * (1 + 5e-10))
    assert not values_equal(1e6, 1e6 * (1 + 2e-9))
    assert not values_equal(0.0, 1e-300)  # relative, so no tolerance around zero
    assert values_equal(float("nan"), float("nan"))
    assert values_equal(2.5, Decimal("2.5"))
    assert not values_equal(2.5, Decimal("2.6"))


def test_rows_compare_as_a_multiset_in_any_order():
    columns = ["segment", "customers", "share"]
    duckdb_rows = [("Champions", 10, 0.25), ("Lost", 30, 0.75), ("Lost", 30, 0.75)]
    spark_rows = [("Lost", 30, 0.75 * (1 + 1e-12)), ("Champions", 10, 0.25), ("Lost", 30, 0.75)]
    assert compare_rows(columns, duckdb_rows, spark_rows) == []


def test_a_missing_row_or_a_changed_value_is_reported():
    columns = ["segment", "customers"]
    assert compare_rows(columns, [("A", 1), ("B", 2)], [("A", 1)])[0] == "row count differs: DuckDB 2, Spark 1"
    problems = compare_rows(columns, [("A", 1), ("B", 2)], [("A", 1), ("B", 3)])
    assert problems and problems[0].startswith("customers: DuckDB 2 vs Spark 3")
    # a duplicate on one side and a missing row on the other: same count, still a difference
    assert compare_rows(columns, [("A", 1), ("A", 1)], [("A", 1), ("B", 2)])


def test_columns_left_out_and_missing():
    columns, problems = compare_columns("dim_customers", ["customer_id", "latest_p_alive"], ["customer_id"])
    assert columns == ["customer_id"] and problems == []
    columns, problems = compare_columns("fct_sales", ["a", "b"], ["a", "c"])
    assert columns == ["a"]
    assert problems == ["columns missing on Spark: b", "columns only on Spark: c"]


def marts_folder(tmp_path, *models):
    """A models/marts-like folder with a model file per name (`name.sql` or `name.py`)."""
    folder = tmp_path / "models" / "marts"
    folder.mkdir(parents=True, exist_ok=True)
    for model in models:
        (folder / model).write_text("select 1")
    return folder


def test_the_marts_are_the_models_of_the_marts_folder(tmp_path):
    folder = marts_folder(tmp_path, "kpi_a.sql", "fct_b.py", "kpi_a.yml")
    (folder / "sub").mkdir()
    (folder / "sub" / "kpi_c.sql").write_text("select 1")
    assert mart_models(folder) == ["fct_b", "kpi_a", "kpi_c"]
    # the project's own marts, the ones merged after the Spark target included
    project_marts = mart_models(MARTS_DIR)
    assert {"kpi_monthly_board_by_segment", "kpi_tier_migration_by_segment", "fct_sales"} <= set(project_marts)
    assert len(project_marts) == len(list(MARTS_DIR.glob("*.sql")) + list(MARTS_DIR.glob("*.py")))


@pytest.fixture()
def warehouses(tmp_path):
    """A DuckDB warehouse with two marts, a Spark-like parquet warehouse, a manifest and the marts'
    models folder."""
    db_path = tmp_path / "crm.duckdb"
    spark_dir = tmp_path / "spark"
    marts_folder(tmp_path, "kpi_a.sql", "fct_customer_value.py")
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_a as select * from (values (1, 'x', 1.5::double, 2.25::decimal(18,4), "
            "date '2025-01-01'), (2, 'y', null, 3.5::decimal(18,4), date '2025-02-01')) t(id, name, ratio, amount, month)"
        )
        con.execute("create table marts.fct_customer_value as select 1 as id")
        (spark_dir / "marts.db").mkdir(parents=True)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {"disabled": {"model.x.fct_customer_value": [{"name": "fct_customer_value", "resource_type": "model"}]}}
        )
    )
    return db_path, spark_dir, manifest


def write_spark_mart(spark_dir, sql):
    (spark_dir / "marts.db" / "kpi_a").mkdir()
    with duckdb.connect() as con:
        con.execute(f"copy ({sql}) to '{spark_dir / 'marts.db' / 'kpi_a' / 'part-0.parquet'}' (format parquet)")


def run(warehouses):
    db_path, spark_dir, manifest = warehouses
    return spark_parity.main(
        [
            "--duckdb",
            str(db_path),
            "--spark-warehouse",
            str(spark_dir),
            "--spark-manifest",
            str(manifest),
            "--marts-dir",
            str(db_path.parent / "models" / "marts"),
        ]
    )


SAME_KPI_A = (
    "select * from (values (2, 'y', null::double, 3.5::decimal(18,4), date '2025-02-01'), "
    "(1, 'x', 1.5::double, 2.25::decimal(18,4), date '2025-01-01')) t(id, name, ratio, amount, month)"
)


def test_same_marts_pass_and_disabled_ones_are_skipped(warehouses, capsys):
    write_spark_mart(
        warehouses[1],
        "select * from (values (2, 'y', null::double, 3.5::decimal(18,4), date '2025-02-01'), "
        "(1, 'x', 1.5000000000001::double, 2.25::decimal(18,4), date '2025-01-01')) t(id, name, ratio, amount, month)",
    )
    assert run(warehouses) == 0
    out = capsys.readouterr().out
    assert "kpi_a" in out and "same" in out
    assert "skipped (disabled on Spark: DuckDB only)" in out


def test_a_different_decimal_fails(warehouses, capsys):
    write_spark_mart(
        warehouses[1],
        "select * from (values (2, 'y', null::double, 3.5001::decimal(18,4), date '2025-02-01'), "
        "(1, 'x', 1.5::double, 2.25::decimal(18,4), date '2025-01-01')) t(id, name, ratio, amount, month)",
    )
    assert run(warehouses) == 1
    assert "amount: DuckDB Decimal('3.5000') vs Spark Decimal('3.5001')" in capsys.readouterr().out


def test_a_mart_not_built_on_spark_fails(warehouses, capsys):
    assert run(warehouses) == 1
    assert "DIFFERENT: not built on Spark" in capsys.readouterr().out


def test_a_mart_model_missing_from_the_duckdb_build_fails(warehouses, capsys):
    """A new mart of models/marts that neither build has must not pass unnoticed."""
    write_spark_mart(warehouses[1], SAME_KPI_A)
    assert run(warehouses) == 0
    marts_folder(warehouses[0].parent, "kpi_new_mart.sql")
    capsys.readouterr()
    assert run(warehouses) == 1
    out = capsys.readouterr().out
    assert "kpi_new_mart" in out and "DIFFERENT: not in the DuckDB build" in out
    assert "1 of 2 marts the same" in out


def test_a_duckdb_table_that_is_no_model_is_listed_not_compared(warehouses, capsys):
    write_spark_mart(warehouses[1], SAME_KPI_A)
    with duckdb.connect(str(warehouses[0])) as con:
        con.execute("create table marts.kpi_renamed_long_ago as select 1 as id")
    assert run(warehouses) == 0
    assert "kpi_renamed_long_ago" in capsys.readouterr().out


def test_an_empty_marts_folder_is_an_error(warehouses, tmp_path):
    db_path, spark_dir, _ = warehouses
    with pytest.raises(SystemExit, match="no models"):
        spark_parity.main(
            ["--duckdb", str(db_path), "--spark-warehouse", str(spark_dir), "--marts-dir", str(tmp_path / "empty")]
        )


def test_only_the_latest_duckdb_build_of_the_data_quality_history_compares(tmp_path, capsys):
    db_path, spark_dir = tmp_path / "crm.duckdb", tmp_path / "spark"
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_data_quality as select * from (values ('b1', timestamp '2026-01-01', 'x', 5), "
            "('b2', timestamp '2026-02-01', 'x', 7)) t(build_id, built_at, raw_source, row_count)"
        )
    (spark_dir / "marts.db" / "fct_data_quality").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "copy (select 's1' as build_id, timestamp '2026-03-01' as built_at, 'x' as raw_source, 7 as row_count) "
            f"to '{spark_dir / 'marts.db' / 'fct_data_quality' / 'part-0.parquet'}' (format parquet)"
        )
    marts = ["--marts-dir", str(marts_folder(tmp_path, "fct_data_quality.sql"))]
    assert spark_parity.main(["--duckdb", str(db_path), "--spark-warehouse", str(spark_dir), *marts]) == 0
    # the latest DuckDB build says 7: a Spark build that says 5 differs
    with duckdb.connect() as con:
        con.execute(
            "copy (select 's1' as build_id, timestamp '2026-03-01' as built_at, 'x' as raw_source, 5 as row_count) "
            f"to '{spark_dir / 'marts.db' / 'fct_data_quality' / 'part-0.parquet'}' (format parquet)"
        )
    assert spark_parity.main(["--duckdb", str(db_path), "--spark-warehouse", str(spark_dir), *marts]) == 1
    assert "row_count: DuckDB 7 vs Spark 5" in capsys.readouterr().out
