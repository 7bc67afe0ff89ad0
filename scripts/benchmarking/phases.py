"""The work of each measured phase that runs in a child process of the .venv Python (benchmark.py
--internal MODE): the November cut, the floor query (scripts/sql/benchmark_floor.sql), the pandas
reference, the comparisons and row counts."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import time
from pathlib import Path

from crm_warehouse import constants, project_settings

ROOT = Path(__file__).resolve().parents[2]


def _load_reference_snapshot():
    """The pandas reference, the test suite's oracle (tests/support/reference_snapshot.py: test code, not
    part of the crm_warehouse package), loaded from its file: the benchmark, a development tool like the
    tests, times it and reads its column lists from there (no sys.path edit)."""
    path = ROOT / "tests" / "support" / "reference_snapshot.py"
    spec = importlib.util.spec_from_file_location("crm_reference_snapshot", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


reference_snapshot = _load_reference_snapshot()
RFMT_COLUMNS = reference_snapshot.RFMT_COLUMNS  # read by the runner
SNAPSHOT_COLUMNS = list(reference_snapshot.STATE_COLUMNS)
FLOOR_SQL_FILE = ROOT / "scripts" / "sql" / "benchmark_floor.sql"


def link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def floor_sql(raw: Path) -> str:
    """The floor statement for the raw folder raw, thresholds and labels filled in from their homes."""
    return FLOOR_SQL_FILE.read_text(encoding="utf-8").format(
        raw=raw.as_posix().replace("'", "''"),
        not_active=constants.NOT_ACTIVE,
        **project_settings.value_tier_thresholds(),
    )


def internal_cut(full: Path, cut: Path, last_date: str) -> None:
    """Split a generated raw folder the way a monthly landing grows: `cut` gets the lines dated up to
    last_date, and the last year's file of `full` is rewritten as that cut followed by the later
    lines (a new month is appended to the yearly file, earlier lines keep their row numbers).
    DuckDB COPY with insertion order preserved: deterministic."""
    import duckdb

    cut.mkdir(parents=True, exist_ok=True)
    last_year = int(last_date[:4])
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    columns = (
        "{'invoice_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'invoice_date': 'VARCHAR',"
        " 'product_id': 'VARCHAR', 'quantity': 'VARCHAR', 'revenue': 'VARCHAR', 'store_id': 'VARCHAR'}"
    )
    for f in sorted(full.glob("*.csv")):
        m = re.fullmatch(r"sales_transactions_(\d{4})\.csv", f.name)
        if not m or int(m.group(1)) < last_year:
            link_or_copy(f, cut / f.name)
        elif int(m.group(1)) == last_year:
            src, dst = str(f).replace("'", "''"), str(cut / f.name).replace("'", "''")
            later = str(cut / (f.name + ".later")).replace("'", "''")
            read = f"read_csv('{src}', header = true, all_varchar = true, auto_detect = false, columns = {columns})"
            con.execute(
                f"copy (select * from {read} where invoice_date <= '{last_date}') to '{dst}'"
                " (header true, delimiter ',')"
            )
            con.execute(
                f"copy (select * from {read} where invoice_date > '{last_date}') to '{later}'"
                " (header false, delimiter ',')"
            )
            appended = f.with_name(f.name + ".appended")
            with open(appended, "wb") as out:
                for part in (cut / f.name, cut / (f.name + ".later")):
                    with open(part, "rb") as src_file:
                        shutil.copyfileobj(src_file, out, 16 * 2**20)
            (cut / (f.name + ".later")).unlink()
            os.replace(appended, f)
    con.close()


def duck_settings(con, threads: int, memory: str, temp_dir: str) -> None:
    con.execute(f"set threads = {int(threads)}")
    con.execute(f"set memory_limit = '{memory}'")
    con.execute(f"set temp_directory = '{temp_dir}'")
    con.execute("set preserve_insertion_order = true")


def internal_floor(raw: Path, db: Path, threads: int, memory: str, temp_dir: str) -> None:
    import duckdb

    con = duckdb.connect(str(db))
    duck_settings(con, threads, memory, temp_dir)
    started = time.perf_counter()
    con.execute(floor_sql(raw))
    rows = con.execute("select count(*) from snap").fetchone()[0]
    con.close()
    print(json.dumps({"rows": rows, "query_s": round(time.perf_counter() - started, 3)}))


def internal_pandas(raw: Path) -> None:
    started = time.perf_counter()
    frame = reference_snapshot.snapshot(raw, ROOT / "seeds" / "rfm_segments.csv")
    print(json.dumps({"rows": int(len(frame)), "compute_s": round(time.perf_counter() - started, 3)}))


def internal_compare(
    left_db: Path,
    left_table: str,
    right_db: Path,
    right_table: str,
    columns: list[str],
    threads: int,
    memory: str,
    temp_dir: str,
) -> None:
    """Rows of two snapshot tables that differ on (customer_id, report_month) or any column."""
    import duckdb

    con = duckdb.connect()
    duck_settings(con, threads, memory, temp_dir)
    con.execute(f"attach '{left_db}' as l (read_only)")
    con.execute(f"attach '{right_db}' as r (read_only)")
    differs = " or ".join(f"a.{c} is distinct from b.{c}" for c in columns)
    row = con.execute(
        f"select count(*) filter (where a.customer_id is null), count(*) filter (where b.customer_id is null),"
        f" count(*) filter (where a.customer_id is not null and b.customer_id is not null and ({differs})),"
        f" (select count(*) from l.{left_table}), (select count(*) from r.{right_table})"
        f" from l.{left_table} as a full join r.{right_table} as b using (customer_id, report_month)"
    ).fetchone()
    per_column = {}
    if row[2]:
        for c in columns:
            n = con.execute(
                f"select count(*) from l.{left_table} as a join r.{right_table} as b "
                f"using (customer_id, report_month) where a.{c} is distinct from b.{c}"
            ).fetchone()[0]
            if n:
                per_column[c] = n
    print(
        json.dumps(
            {
                "only_right": row[0],
                "only_left": row[1],
                "different": row[2],
                "mismatches": row[0] + row[1] + row[2],
                "left_rows": row[3],
                "right_rows": row[4],
                "columns": per_column,
            }
        )
    )


def run_internal(mode: str, rest: list[str]) -> None:
    """A phase's work in a child process (benchmark.py --internal MODE ARGS...)."""
    if mode == "cut":
        internal_cut(Path(rest[0]), Path(rest[1]), rest[2])
    elif mode == "floor":
        internal_floor(Path(rest[0]), Path(rest[1]), int(rest[2]), rest[3], rest[4])
    elif mode == "count":
        import duckdb

        with duckdb.connect(rest[0], read_only=True) as con:
            print(json.dumps({"rows": con.execute(f"select count(*) from {rest[1]}").fetchone()[0]}))
    elif mode == "pandas":
        internal_pandas(Path(rest[0]))
    elif mode == "compare":
        internal_compare(
            Path(rest[0]), rest[1], Path(rest[2]), rest[3], rest[4].split(","), int(rest[5]), rest[6], rest[7]
        )
    else:
        raise SystemExit(f"unknown internal mode {mode}")
