#!/usr/bin/env python3
"""Compare every mart of the Spark build with the DuckDB build (issue 16, docs/spark.md).

    python scripts/spark_parity.py --duckdb warehouse/crm.duckdb --spark-warehouse warehouse/spark
        [--spark-manifest target-spark/manifest.json] [--marts-dir models/marts]

The DuckDB marts are read from the warehouse file (schema `marts`); the Spark marts from the parquet
folders of Spark's warehouse (`<spark warehouse>/marts.db/<mart>/`), so no Spark is needed here.
Same rows (as a multiset) and same values: exact for integers, strings, dates, booleans and decimals;
doubles within 1e-9 relative. Prints one line per mart and exits 1 on any difference or missing mart.

The marts to compare are the models of models/marts/ (every .sql and .py file): a mart that the DuckDB
build lacks, or that Spark did not build, fails the check, so a new mart cannot slip past it. A table
of the DuckDB marts schema that is no model there any more (left by an older build) is listed, not
compared.

Marts that the Spark manifest lists as disabled (customer value: dbt Python models, DuckDB only) are
reported as skipped; columns that exist only on DuckDB (DUCKDB_ONLY_COLUMNS) or that record the run
(RUN_COLUMNS) are left out of the comparison.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import math
import sys
from pathlib import Path

REL_TOLERANCE = 1e-9
# the customer value columns of dim_customers (and kpi_customer_rfm, which reads them from it) come from
# fct_customer_value (dbt Python models, DuckDB only): null on Spark
DUCKDB_ONLY_COLUMNS = {
    "dim_customers": {
        "latest_p_alive",
        "latest_expected_occasions_3m",
        "latest_expected_occasions_12m",
        "latest_clv_12m",
    },
    "kpi_customer_rfm": {"p_alive", "expected_occasions_3m", "expected_occasions_12m", "clv_12m"},
}
# when the build ran: differs between any two builds
RUN_COLUMNS = {"fct_data_quality": {"built_at", "build_id"}}
# marts that keep a history of builds (appended at every DuckDB build): only the latest build compares
LATEST_BUILD_ONLY = {"fct_data_quality": "built_at"}
MAX_EXAMPLES = 3
MARTS_DIR = Path(__file__).resolve().parents[1] / "models" / "marts"


def mart_models(marts_dir: Path) -> list[str]:
    """The names of the models of the marts folder (SQL and Python models, subfolders included)."""
    return sorted({path.stem for pattern in ("*.sql", "*.py") for path in marts_dir.rglob(pattern)})


def values_equal(left: object, right: object) -> bool:
    """Exact for everything but floating-point numbers, which may differ by 1e-9 relative."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        if isinstance(left, bool) or isinstance(right, bool):
            return False
        try:
            left_number, right_number = float(left), float(right)
        except (TypeError, ValueError):
            return False
        if math.isnan(left_number) or math.isnan(right_number):
            return math.isnan(left_number) and math.isnan(right_number)
        return math.isclose(left_number, right_number, rel_tol=REL_TOLERANCE, abs_tol=0.0)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, decimal.Decimal)) and isinstance(right, (int, decimal.Decimal)):
        return decimal.Decimal(left) == decimal.Decimal(right)
    if isinstance(left, datetime.datetime) != isinstance(right, datetime.datetime):
        return False  # a timestamp is not a date
    return type(left) is type(right) and left == right


def sort_key(row: tuple) -> tuple:
    """Orders rows the same way on both sides: floats rounded (they may differ in the last digits),
    nulls first, every value compared within its own kind."""
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, bool):
            key.append((1, int(value)))
        elif isinstance(value, float):
            key.append((2, float(f"{value:.6g}")))
        elif isinstance(value, (int, decimal.Decimal)):
            key.append((2, float(value)))
        else:
            key.append((3, str(value)))
    return tuple(key)


def compare_rows(columns: list[str], duckdb_rows: list[tuple], spark_rows: list[tuple]) -> list[str]:
    """The differences between two tables with the same columns (empty list = same rows and values)."""
    problems: list[str] = []
    if len(duckdb_rows) != len(spark_rows):
        problems.append(f"row count differs: DuckDB {len(duckdb_rows)}, Spark {len(spark_rows)}")
    left = sorted(duckdb_rows, key=sort_key)
    right = sorted(spark_rows, key=sort_key)
    differing = 0
    for left_row, right_row in zip(left, right):
        for column, left_value, right_value in zip(columns, left_row, right_row):
            if not values_equal(left_value, right_value):
                differing += 1
                if differing <= MAX_EXAMPLES:
                    problems.append(
                        f"{column}: DuckDB {left_value!r} vs Spark {right_value!r} "
                        f"(DuckDB row {dict(zip(columns, left_row))})"
                    )
                break
    if differing > MAX_EXAMPLES:
        problems.append(f"... {differing} differing rows in all")
    return problems


def compare_columns(mart: str, duckdb_columns: list[str], spark_columns: list[str]) -> tuple[list[str], list[str]]:
    """(columns to compare, problems): the DuckDB columns less those left out, all present on Spark."""
    left_out = DUCKDB_ONLY_COLUMNS.get(mart, set()) | RUN_COLUMNS.get(mart, set())
    wanted = [column for column in duckdb_columns if column not in left_out]
    spark_set = {column.lower() for column in spark_columns}
    missing = [column for column in wanted if column.lower() not in spark_set]
    extra = sorted(spark_set - {column.lower() for column in duckdb_columns})
    problems = []
    if missing:
        problems.append(f"columns missing on Spark: {', '.join(missing)}")
    if extra:
        problems.append(f"columns only on Spark: {', '.join(extra)}")
    return [column for column in wanted if column not in missing], problems


def disabled_on_spark(manifest_path: Path | None) -> set[str]:
    """Names of the models the Spark build disables (from its manifest.json)."""
    if manifest_path is None or not manifest_path.exists():
        return set()
    manifest = json.loads(manifest_path.read_text())
    return {
        node["name"]
        for nodes in manifest.get("disabled", {}).values()
        for node in nodes
        if node.get("resource_type") == "model"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duckdb", required=True, help="the DuckDB build warehouse file")
    parser.add_argument("--spark-warehouse", required=True, help="Spark's warehouse folder (spark.sql.warehouse.dir)")
    parser.add_argument("--spark-manifest", help="target folder manifest.json of the Spark build (disabled models)")
    parser.add_argument("--schema", default="marts")
    parser.add_argument(
        "--marts-dir", default=str(MARTS_DIR), help="the dbt models folder of the marts (default models/marts)"
    )
    args = parser.parse_args(argv)

    import duckdb  # the project's .venv; imported here so the comparison logic is testable without it

    duckdb_path, spark_dir = Path(args.duckdb), Path(args.spark_warehouse) / f"{args.schema}.db"
    if not duckdb_path.exists():
        sys.exit(f"DuckDB warehouse {duckdb_path} not found: run `make build` first")
    if not spark_dir.is_dir():
        sys.exit(f"Spark marts folder {spark_dir} not found: the Spark build did not run (make test-spark)")
    skipped = disabled_on_spark(Path(args.spark_manifest) if args.spark_manifest else None)
    con = duckdb.connect(str(duckdb_path), read_only=True)
    built = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'",
            [args.schema],
        ).fetchall()
    }
    marts = mart_models(Path(args.marts_dir))
    if not marts:
        sys.exit(f"no models (*.sql, *.py) in the marts folder {args.marts_dir}")
    not_models = sorted(built - set(marts))
    failed = 0
    print(f"{'mart':<36} {'DuckDB rows':>12} {'Spark rows':>12} {'columns':>8}  result")
    for mart in marts:
        folder = spark_dir / mart
        if mart not in built:
            failed += 1
            print(f"{mart:<36} {'-':>12} {'-':>12} {'-':>8}  DIFFERENT: not in the DuckDB build ({duckdb_path})")
            continue
        duckdb_count = con.execute(f'select count(*) from {args.schema}."{mart}"').fetchone()[0]
        if mart in skipped:
            print(f"{mart:<36} {duckdb_count:>12} {'-':>12} {'-':>8}  skipped (disabled on Spark: DuckDB only)")
            continue
        if not folder.is_dir():
            failed += 1
            print(f"{mart:<36} {duckdb_count:>12} {'-':>12} {'-':>8}  DIFFERENT: not built on Spark ({folder})")
            continue
        spark_relation = f"read_parquet('{folder.as_posix()}/*.parquet')"
        duckdb_columns = [row[0] for row in con.execute(f'describe {args.schema}."{mart}"').fetchall()]
        spark_columns = [row[0] for row in con.execute(f"describe select * from {spark_relation}").fetchall()]
        columns, problems = compare_columns(mart, duckdb_columns, spark_columns)
        select_list = ", ".join(f'"{column}"' for column in columns)
        latest = (
            f' where {LATEST_BUILD_ONLY[mart]} = (select max({LATEST_BUILD_ONLY[mart]}) from {args.schema}."{mart}")'
            if mart in LATEST_BUILD_ONLY
            else ""
        )
        duckdb_rows = con.execute(f'select {select_list} from {args.schema}."{mart}"{latest}').fetchall()
        spark_rows = con.execute(f"select {select_list} from {spark_relation}").fetchall()
        problems += compare_rows(columns, duckdb_rows, spark_rows)
        result = "same" if not problems else "DIFFERENT"
        failed += bool(problems)
        print(f"{mart:<36} {len(duckdb_rows):>12} {len(spark_rows):>12} {len(columns):>8}  {result}")
        for problem in problems:
            print(f"    {problem}")
    for table in not_models:
        print(
            f"{table:<36} {'-':>12} {'-':>12} {'-':>8}  left out: no model of {args.marts_dir} (an older build's table)"
        )
    compared = len(marts) - len(skipped & set(marts))
    print(
        f"{compared - failed} of {compared} marts the same on Spark and DuckDB"
        f"{f', {len(skipped & set(marts))} skipped (DuckDB only)' if skipped & set(marts) else ''}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
