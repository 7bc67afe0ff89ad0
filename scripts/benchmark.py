#!/usr/bin/env python3
"""Benchmark the warehouse build against a raw-DuckDB floor and a naive pandas implementation.

    python scripts/benchmark.py --sizes 1M --repeats 3
    python scripts/benchmark.py --sizes 10M --json-out warehouse/bench/10M.json --write-docs

For every size (transaction lines L; customers = L / 20; 3 years 2023-2025, so ~6.7 lines per
customer and year) the project generator writes a clean raw folder, and a copy without December
2025 is cut from it (DuckDB COPY of the lines dated up to 2025-11-30). Phases (--phases):

    full         `dbt build --full-refresh` (seeds, models and data tests, as `make build`; unit
                 tests run in `make test`) into a fresh
                 warehouse file, then the publish step (serving file + Parquet), timed separately
    incremental  the November cut built with --full-refresh (not timed), then the December lines
                 land in the same raw folder and a normal (incremental) `dbt build` is timed
    floor        DuckDB alone, same threads / memory: one hand-written SQL statement reading the
                 same CSV files and writing the snapshot columns of SPEC section 5 to a table
    pandas       src/crm_warehouse/reference_snapshot.py (naive pandas, also computes the RFMT scores),
                 by default only for sizes <= 1M

All dbt runs of a size share one raw folder path and one warehouse path (the files in them are
swapped), as in production: nothing forces a full re-parse or, through scripts/tasks.py, a full
refresh. One untimed `dbt parse` warms dbt's partial-parse cache first, as after any earlier
`make build`. Timed: the whole `dbt build` process (start-up and parsing included); dbt's own
elapsed time and per-node execution times from run_results.json go to the JSON and the profile.

Every measurement runs in a fresh child process under /usr/bin/time -v (peak RSS = the largest
process of the tree; dbt runs DuckDB in-process), or, without GNU time, in a small Python wrapper
reading getrusage(RUSAGE_CHILDREN). On the smallest size the floor's table is compared row by row
with the warehouse's fct_customer_monthly_snapshot (and the incremental result with the full
build): the mismatch counts must be 0.

The floor statement is scripts/sql/benchmark_floor.sql (thresholds from the seed
value_tier_calibration). This driver runs on the project's .venv Python (it reads the project's
settings through the crm_warehouse package); the DuckDB and pandas work runs in child processes. Work files go to --work-dir (default
warehouse/bench, git-ignored) and are removed after each size unless --keep-data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from crm_warehouse import constants, project_settings
from crm_warehouse.reference_snapshot import RFMT_COLUMNS, STATE_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / ("Scripts" if os.name == "nt" else "bin")
GNU_TIME = Path("/usr/bin/time")
PHASES = ("full", "incremental", "floor", "pandas")
START_YEAR, YEARS, SEED = 2023, 3, 42
FULL_END, CUT_END = f"{START_YEAR + YEARS - 1}-12-31", f"{START_YEAR + YEARS - 1}-11-30"
# what `make build` runs (scripts/tasks.py): models and data tests, no unit tests
PRODUCTION_BUILD_ARGS = ["--exclude-resource-type", "unit_test"]
PROJECT_ITEMS = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "data_tests",
    "analyses",
    "snapshots",
    "src",
)  # src: the crm_warehouse package the dbt Python models import
SNAPSHOT_COLUMNS = list(STATE_COLUMNS)

# ---------------------------------------------------------------------------------------------
# The floor: the snapshot of SPEC section 5 in one statement, DuckDB alone (scripts/sql/benchmark_floor.sql,
# its thresholds from the seed value_tier_calibration). docs/performance.md explains it.
# ---------------------------------------------------------------------------------------------
FLOOR_SQL_FILE = ROOT / "scripts" / "sql" / "benchmark_floor.sql"


def floor_sql(raw: Path) -> str:
    """The floor statement for the raw folder raw, thresholds and labels filled in from their homes."""
    return FLOOR_SQL_FILE.read_text(encoding="utf-8").format(
        raw=raw.as_posix().replace("'", "''"),
        not_active=constants.NOT_ACTIVE,
        **project_settings.value_tier_thresholds(),
    )


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def venv_python() -> str:
    candidate = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
    return str(candidate) if candidate.exists() else sys.executable


def venv_tool(name: str) -> str:
    candidate = VENV_BIN / (name + (".exe" if os.name == "nt" else ""))
    return str(candidate) if candidate.exists() else name


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 200k, 1M, 10M)")
    value = float(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m.group(2).lower()]
    if value < 1000:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small (at least 1k lines)")
    return int(value)


def size_label(lines: int) -> str:
    for unit, div in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if lines >= div and lines % (div // 10 if div > 10 else 1) == 0:
            value = lines / div
            return f"{value:g}{unit}"
    return str(lines)


def fmt_s(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def fmt_ratio(value) -> str:
    return "n/a" if value is None else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def months_between(start: str, end: str) -> int:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return (b.year - a.year) * 12 + b.month - a.month + 1


def link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def fill_folder(src: Path, dst: Path) -> None:
    """Make dst hold exactly src's files (hard links when possible: instant, no extra disk)."""
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.iterdir():
        if old.is_file():
            old.unlink()
    for f in sorted(src.iterdir()):
        if f.is_file() and f.suffix == ".csv":
            link_or_copy(f, dst / f.name)


def remove_db(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal"), Path(str(path) + ".raw_dir")):
        p.unlink(missing_ok=True)


def tree_hash(base: Path) -> str:
    digest = hashlib.sha256()
    for item in PROJECT_ITEMS:
        p = base / item
        files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file()) if p.exists() else []
        for f in files:
            digest.update(str(f.relative_to(base)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def git_state() -> dict:
    def git(*args):
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    dirty = git("status", "--porcelain", "--", "models", "macros", "seeds", "dbt_project.yml")
    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "project_files_dirty": bool(dirty),
        "dirty_files": dirty.splitlines() if dirty else [],
    }


# ---------------------------------------------------------------------------------------------
# measuring a child process: wall time and peak RSS
# ---------------------------------------------------------------------------------------------
RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "kb = kb // 1024 if sys.platform == 'darwin' else kb\n"
    "open(sys.argv[1], 'w').write('Maximum resident set size (kbytes): %d\\n' % kb)\n"
    "sys.exit(code)\n"
)


def measure(command: list[str], env: dict, log_path: Path, cwd: Path = ROOT) -> dict:
    """Run command in a fresh process; wall seconds, peak RSS (MB) and output go to a dict."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    stats = log_path.with_suffix(".time")
    if GNU_TIME.exists():
        wrapped = [str(GNU_TIME), "-v", "-o", str(stats), *command]
    else:
        wrapped = [sys.executable, "-c", RUSAGE_WRAPPER, str(stats), *command]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    with open(log_path, "w") as out:
        result = subprocess.run(wrapped, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    text = stats.read_text() if stats.exists() else ""
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    rss_mb = int(m.group(1)) / 1024 if m else None
    output = log_path.read_text(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed ({result.returncode}): {' '.join(command)}\nlog {log_path}:\n{output[-4000:]}"
        )
    return {
        "wall_s": round(wall, 3),
        "rss_mb": round(rss_mb, 1) if rss_mb else None,
        "load1_before": round(load, 2) if load is not None else None,
        "output": output,
    }


# ---------------------------------------------------------------------------------------------
# internal child modes (run with the .venv Python: duckdb / pandas available)
# ---------------------------------------------------------------------------------------------
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
    from crm_warehouse.reference_snapshot import snapshot

    started = time.perf_counter()
    frame = snapshot(raw, ROOT / "seeds" / "rfm_segments.csv")
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


def last_json_line(output: str) -> dict:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON result in output:\n" + output[-2000:])


# ---------------------------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work_dir).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.python = venv_python()
        self.threads = args.threads
        self.memory = args.memory
        self.temp_dir = self.work / "tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.project = ROOT
        if args.snapshot_project:
            self.project = self.work / "project"
            shutil.rmtree(self.project, ignore_errors=True)
            self.project.mkdir(parents=True)
            for item in PROJECT_ITEMS:
                src = ROOT / item
                if src.is_dir():
                    shutil.copytree(src, self.project / item)
                elif src.is_file():
                    shutil.copy2(src, self.project / item)
            log(f"project snapshot {tree_hash(self.project)} in {self.project}")

    # -- environment of a dbt / publish child
    def dbt_env(self, raw: Path, db: Path, target: Path) -> dict:
        env = dict(os.environ)
        env.update(
            DBT_PROFILES_DIR=str(self.project),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            DBT_TARGET_PATH=str(target),
            DBT_LOG_PATH=str(target / "logs"),
            CRM_RAW_DIR=raw.as_posix(),
            CRM_DUCKDB_PATH=str(db),
            CRM_DUCKDB_THREADS=str(self.threads),
            CRM_DUCKDB_MEMORY=self.memory,
            CRM_DUCKDB_TEMP_DIR=str(self.temp_dir),
            CRM_SERVING_PATH=str(db.with_name("crm_serving.duckdb")),
            CRM_PARQUET_DIR=str(db.parent / "parquet"),
        )
        env.pop("DBT_USE_COLORS", None)
        env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
        return env

    def dbt(self, args: list[str]) -> list[str]:
        command = [venv_tool("dbt"), "--no-use-colors", *args]
        if args and args[0] == "build":
            # dbt build publishes as its last node; the benchmark times the publish step on its own
            command += ["--vars", "{crm_publish: false}"]
        if self.args.models_only:
            command += ["--resource-type", "seed", "--resource-type", "model"]
        return command

    def internal(self, *args: str) -> list[str]:
        return [self.python, str(Path(__file__).resolve()), "--internal", *args]

    # -- one size
    def run_size(self, lines: int) -> dict:
        a = self.args
        label = size_label(lines)
        customers = max(100, lines // 20)
        repeats = a.repeats if a.repeats else (3 if lines <= 1_000_000 else 1)
        base = self.work / label
        logs = base / "logs"
        raw_full, raw_cut = base / "raw_full", base / "raw_nov"
        res = {
            "label": label,
            "target_lines": lines,
            "customers": customers,
            "repeats": repeats,
            "phases": {},
            "checks": {},
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        log(f"== {label}: {lines} lines, {customers} customers, {repeats} repeat(s)")

        # 1. raw data: the full set and the November cut
        stamp = base / "raw_full.json"
        wanted = {
            "customers": customers,
            "lines": lines,
            "seed": SEED,
            "start_year": START_YEAR,
            "years": YEARS,
            "end_date": FULL_END,
            "layout": "last month appended to its yearly file",
        }
        if (
            a.reuse_data
            and stamp.exists()
            and json.loads(stamp.read_text()).get("args_wanted") == wanted
            and raw_cut.exists()
        ):
            summary = json.loads(stamp.read_text())
            log(f"reusing raw data in {base}")
            res["phases"]["generate"] = summary["generate_measure"]
            res["phases"]["cut"] = summary["cut_measure"]
        else:
            shutil.rmtree(raw_full, ignore_errors=True)
            shutil.rmtree(raw_cut, ignore_errors=True)
            gen = measure(
                [
                    self.python,
                    str(ROOT / "scripts" / "generate_data.py"),
                    "--out",
                    str(raw_full),
                    "--customers",
                    str(customers),
                    "--lines",
                    str(lines),
                    "--start-year",
                    str(START_YEAR),
                    "--years",
                    str(YEARS),
                    "--seed",
                    str(SEED),
                    "--clean",
                    "--end-date",
                    FULL_END,
                    "--quiet",
                    "--json",
                ],
                dict(os.environ),
                logs / "generate.log",
            )
            summary = last_json_line_block(gen.pop("output"))
            cut = measure(
                self.internal("cut", str(raw_full), str(raw_cut), CUT_END), dict(os.environ), logs / "cut.log"
            )
            cut.pop("output")
            res["phases"]["generate"] = summarise([gen])
            res["phases"]["cut"] = summarise([cut])
            summary["args_wanted"] = wanted
            summary["generate_measure"] = res["phases"]["generate"]
            summary["cut_measure"] = res["phases"]["cut"]
            stamp.write_text(json.dumps(summary, indent=1))
        res["lines"] = summary["transaction_lines"]
        res["months"] = months_between(summary["period"][0], summary["period"][1])
        res["raw_mb"] = round(sum(f.stat().st_size for f in raw_full.glob("*.csv")) / 2**20, 1)
        log(
            f"raw data: {res['lines']} lines, {res['raw_mb']} MB, generated in "
            f"{res['phases']['generate']['median_s']} s, cut in {res['phases']['cut']['median_s']} s"
        )

        # Every dbt run of a size uses the same raw folder path and warehouse path (the files in them
        # change), as a production landing folder does: dbt's partial-parse cache stays valid (a
        # changed env var in profiles.yml or a source would force a full re-parse of the project,
        # 10-25 s), and it is what scripts/tasks.py expects (a new raw path forces a full refresh).
        target = base / "target"
        raw = base / "raw"
        db = base / "wh" / "crm.duckdb"
        db.parent.mkdir(parents=True, exist_ok=True)
        full_db = base / "full.duckdb"  # the full build kept for the checks
        env = self.dbt_env(raw, db, target)
        verify = a.verify == "all" or (a.verify == "smallest" and lines == min(a.sizes))
        if "full" in a.phases or "incremental" in a.phases:
            fill_folder(raw_full, raw)
            self.parse(env, logs / "parse.log")

        # 2. full refresh build + publish
        if "full" in a.phases:
            fill_folder(raw_full, raw)
            builds, publishes = [], []

            def drop_published() -> None:
                # the published copies are never read again: free their disk (about 60% of the build file)
                remove_db(Path(env["CRM_SERVING_PATH"]))
                shutil.rmtree(env["CRM_PARQUET_DIR"], ignore_errors=True)

            drop_published()  # leftovers of an earlier run in this work folder
            for i in range(repeats):
                remove_db(db)
                m = measure(
                    self.dbt(["build", *PRODUCTION_BUILD_ARGS, "--full-refresh"]),
                    env,
                    logs / f"full_{i + 1}.log",
                    cwd=self.project,
                )
                m["dbt_summary"] = dbt_summary(m.pop("output"), target / "run_results.json")
                shutil.copy2(target / "run_results.json", base / f"run_results_full_{i + 1}.json")
                builds.append(m)
                log(f"full build {i + 1}/{repeats}: {m['wall_s']:.1f} s, {m['rss_mb']} MB")
                p = measure([self.python, str(ROOT / "scripts" / "publish.py")], env, logs / f"publish_{i + 1}.log")
                p.pop("output")
                publishes.append(p)
                log(f"publish {i + 1}/{repeats}: {p['wall_s']:.1f} s, {p['rss_mb']} MB")
                drop_published()
            res["phases"]["full"] = summarise(builds)
            res["phases"]["publish"] = summarise(publishes)
            res["profile"] = profile(base / f"run_results_full_{repeats}.json", a.top)
            remove_db(full_db)
            res["snapshot_rows"] = last_json_line(
                measure(
                    self.internal("count", str(db), "marts.fct_customer_monthly_snapshot"),
                    dict(os.environ),
                    logs / "count.log",
                )["output"]
            )["rows"]
            if verify or a.keep_data:
                os.replace(db, full_db)
            else:
                remove_db(db)  # not compared: at 100M the file is tens of GB

        # 3. incremental: November built with --full-refresh, then December lands in the same folder
        if "incremental" in a.phases:
            saved = base / "november.duckdb"
            fill_folder(raw_cut, raw)
            remove_db(db)
            m = measure(
                self.dbt(["build", *PRODUCTION_BUILD_ARGS, "--full-refresh"]),
                env,
                logs / "incremental_base.log",
                cwd=self.project,
            )
            m.pop("output")
            res["phases"]["incremental_base"] = summarise([m])
            log(f"November base build: {m['wall_s']:.1f} s (not part of the incremental time)")
            if repeats > 1:
                shutil.copy2(db, saved)  # each repeat starts from the same November warehouse
            fill_folder(raw_full, raw)
            runs = []
            for i in range(repeats):
                if i > 0:
                    remove_db(db)
                    shutil.copy2(saved, db)
                m = measure(
                    self.dbt(["build", *PRODUCTION_BUILD_ARGS]),
                    env,
                    logs / f"incremental_{i + 1}.log",
                    cwd=self.project,
                )
                m["dbt_summary"] = dbt_summary(m.pop("output"), target / "run_results.json")
                shutil.copy2(target / "run_results.json", base / f"run_results_incremental_{i + 1}.json")
                runs.append(m)
                log(f"incremental build {i + 1}/{repeats}: {m['wall_s']:.1f} s, {m['rss_mb']} MB")
            res["phases"]["incremental"] = summarise(runs)
            res["profile_incremental"] = profile(base / f"run_results_incremental_{repeats}.json", a.top)
            saved.unlink(missing_ok=True)
            if verify and full_db.exists():
                res["checks"]["incremental_vs_full"] = self.compare(
                    db,
                    "marts.fct_customer_monthly_snapshot",
                    full_db,
                    "marts.fct_customer_monthly_snapshot",
                    [*SNAPSHOT_COLUMNS, *RFMT_COLUMNS, "sales_month", "sales_12m"],
                    logs / "compare_incremental.log",
                )
                log(
                    f"incremental vs full refresh: {res['checks']['incremental_vs_full']['mismatches']} mismatching rows"
                )

        # 4. the DuckDB floor
        if "floor" in a.phases:
            floor_db = base / "floor" / "floor.duckdb"
            floor_db.parent.mkdir(parents=True, exist_ok=True)
            runs = []
            for i in range(repeats):
                remove_db(floor_db)
                m = measure(
                    self.internal(
                        "floor", str(raw_full), str(floor_db), str(self.threads), self.memory, str(self.temp_dir)
                    ),
                    dict(os.environ),
                    logs / f"floor_{i + 1}.log",
                )
                m["result"] = last_json_line(m.pop("output"))
                runs.append(m)
                log(f"floor {i + 1}/{repeats}: {m['wall_s']:.1f} s, {m['rss_mb']} MB, {m['result']['rows']} rows")
            res["phases"]["floor"] = summarise(runs)
            res.setdefault("snapshot_rows", runs[-1]["result"]["rows"])
            if verify and full_db.exists():
                res["checks"]["floor_vs_warehouse"] = self.compare(
                    floor_db,
                    "main.snap",
                    full_db,
                    "marts.fct_customer_monthly_snapshot",
                    SNAPSHOT_COLUMNS,
                    logs / "compare_floor.log",
                )
                log(
                    f"floor vs warehouse snapshot: {res['checks']['floor_vs_warehouse']['mismatches']} mismatching rows"
                )

        # 5. naive pandas
        if "pandas" in a.phases:
            if lines <= a.pandas_max:
                runs = []
                p_repeats = min(repeats, a.pandas_repeats) if a.pandas_repeats else repeats
                for i in range(p_repeats):
                    m = measure(self.internal("pandas", str(raw_full)), dict(os.environ), logs / f"pandas_{i + 1}.log")
                    m["result"] = last_json_line(m.pop("output"))
                    runs.append(m)
                    log(f"pandas {i + 1}/{p_repeats}: {m['wall_s']:.1f} s, {m['rss_mb']} MB")
                res["phases"]["pandas"] = summarise(runs)
            else:
                res["phases"]["pandas"] = {"skipped": f"size above --pandas-max {size_label(a.pandas_max)}"}

        res["ratios"] = ratios(res["phases"])
        res["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if not a.keep_data:
            for p in (raw_full, raw_cut, raw, db.parent, base / "floor", target):
                shutil.rmtree(p, ignore_errors=True)
            remove_db(full_db)
            stamp.unlink(missing_ok=True)
        return res

    def parse(self, env: dict, log_path: Path) -> None:
        """`dbt parse` once, untimed, so every timed build starts from a warm partial-parse file."""
        m = measure([venv_tool("dbt"), "--no-use-colors", "parse"], env, log_path, cwd=self.project)
        m.pop("output")

    def compare(self, left: Path, left_table: str, right: Path, right_table: str, columns, log_path) -> dict:
        m = measure(
            self.internal(
                "compare",
                str(left),
                left_table,
                str(right),
                right_table,
                ",".join(columns),
                str(self.threads),
                self.memory,
                str(self.temp_dir),
            ),
            dict(os.environ),
            log_path,
        )
        out = last_json_line(m["output"])
        out["seconds"] = m["wall_s"]
        return out


def last_json_line_block(output: str) -> dict:
    """The generator prints its summary as an indented JSON document: take it from the first '{'."""
    start = output.find("\n{")
    start = 0 if output.startswith("{") else start + 1
    return json.loads(output[start:])


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    rss = [r["rss_mb"] for r in runs if r.get("rss_mb") is not None]
    out = {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "peak_rss_mb": round(max(rss), 1) if rss else None,
        "n": len(runs),
        "runs": runs,
    }
    return out


def dbt_summary(output: str, run_results: Path) -> dict:
    """dbt's own numbers: PASS/WARN/ERROR counts, elapsed, execution seconds by node type."""
    out = {}
    m = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", output)
    if m:
        out.update(
            {"pass": int(m.group(1)), "warn": int(m.group(2)), "error": int(m.group(3)), "skip": int(m.group(4))}
        )
    if run_results.exists():
        r = json.loads(run_results.read_text())
        out["dbt_elapsed_s"] = round(r.get("elapsed_time") or 0, 3)
        by_type = {}
        for node in r["results"]:
            kind = node["unique_id"].split(".")[0]
            by_type[kind] = by_type.get(kind, 0) + (node.get("execution_time") or 0)
        out["execution_s_by_type"] = {k: round(v, 2) for k, v in sorted(by_type.items())}
    return out


def profile(run_results: Path, top: int) -> list[dict]:
    if not run_results.exists():
        return []
    nodes = json.loads(run_results.read_text())["results"]
    nodes = sorted(nodes, key=lambda n: -(n.get("execution_time") or 0))
    return [{"node": n["unique_id"], "seconds": round(n.get("execution_time") or 0, 2)} for n in nodes[:top]]


def ratios(phases: dict) -> dict:
    def med(name):
        p = phases.get(name) or {}
        return p.get("median_s")

    full, floor, inc, pandas = med("full"), med("floor"), med("incremental"), med("pandas")
    return {
        "full_over_floor": round(full / floor, 2) if full and floor else None,
        "incremental_over_full": round(inc / full, 3) if inc and full else None,
        "pandas_over_full": round(pandas / full, 2) if pandas and full else None,
    }


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------
PHASE_NAMES = [
    ("generate", "generate raw data"),
    ("cut", "cut November copy"),
    ("full", "full: dbt build --full-refresh"),
    ("publish", "publish (serving + Parquet)"),
    ("incremental_base", "(setup) November build --full-refresh"),
    ("incremental", "incremental: dbt build (+December)"),
    ("floor", "floor: DuckDB, one query"),
    ("pandas", "pandas (reference_snapshot)"),
]


def markdown(results: list[dict]) -> str:
    head = (
        "| size | lines | customers | months | snapshot rows | phase | wall s (median) | min-max s "
        "| s per M lines | peak RSS MB |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"
    )
    rows = [head]
    for r in results:
        for key, name in PHASE_NAMES:
            p = r["phases"].get(key)
            if p is None:
                continue
            if "skipped" in p:
                rows.append(
                    f"| {r['label']} | {r['lines']:,} | {r['customers']:,} | {r['months']} | "
                    f"{r.get('snapshot_rows') or 0:,} | {name} | n/a | n/a | n/a | n/a |"
                )
                continue
            spread = f"{fmt_s(p['min_s'])}-{fmt_s(p['max_s'])}" if p["n"] > 1 else ""
            rss = f"{p['peak_rss_mb']:,.0f}" if p.get("peak_rss_mb") else "n/a"
            rows.append(
                f"| {r['label']} | {r['lines']:,} | {r['customers']:,} | {r['months']} | "
                f"{r.get('snapshot_rows') or 0:,} | {name} | {fmt_s(p['median_s'])} | {spread} "
                f"| {p['median_s'] / (r['lines'] / 1e6):.2f} | {rss} |"
            )
    rows.append("")
    rows.append(
        "| size | full build / floor | incremental / full build | pandas / full build "
        "| floor = warehouse (mismatching rows) | incremental = full (mismatching rows) |"
    )
    rows.append("|---|---:|---:|---:|---:|---:|")
    for r in results:
        q = r["ratios"]
        c1 = r["checks"].get("floor_vs_warehouse", {}).get("mismatches", "not checked")
        c2 = r["checks"].get("incremental_vs_full", {}).get("mismatches", "not checked")
        rows.append(
            f"| {r['label']} | {fmt_ratio(q['full_over_floor'])} | {fmt_ratio(q['incremental_over_full'])} "
            f"| {fmt_ratio(q['pandas_over_full'])} | {c1} | {c2} |"
        )
    return "\n".join(rows)


def profile_markdown(results: list[dict]) -> str:
    out = []
    for r in results:
        if not r.get("profile"):
            continue
        full = r["phases"].get("full", {})
        by_type = (full.get("runs") or [{}])[-1].get("dbt_summary", {}).get("execution_s_by_type", {})
        out.append(
            f"Top nodes of the full build at {r['label']} (run_results.json execution_time, last repeat; "
            f"sum by type: " + ", ".join(f"{k} {v:.1f} s" for k, v in by_type.items()) + "):\n"
        )
        out.append("| node | seconds |\n|---|---:|")
        out += [f"| `{n['node']}` | {n['seconds']:.2f} |" for n in r["profile"]]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--internal":
        mode, rest = argv[1], argv[2:]
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
        return 0

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--sizes", default="1M", help="comma-separated transaction line counts: 20k,200k,1M,10M,100M")
    ap.add_argument("--repeats", type=int, default=None, help="runs per phase (default 3 up to 1M lines, 1 above)")
    ap.add_argument("--work-dir", default=str(ROOT / "warehouse" / "bench"), help="work folder (git-ignored)")
    ap.add_argument("--phases", default=",".join(PHASES), help="comma-separated subset of " + ",".join(PHASES))
    ap.add_argument("--skip-pandas", action="store_true", help="same as leaving pandas out of --phases")
    ap.add_argument(
        "--pandas-max",
        type=parse_size,
        default=1_000_000,
        help="largest size the pandas phase runs on (default 1M; above: n/a)",
    )
    ap.add_argument("--pandas-repeats", type=int, default=None, help="cap the pandas repeats (default --repeats)")
    ap.add_argument("--keep-data", action="store_true", help="keep raw folders and warehouse files")
    ap.add_argument(
        "--reuse-data", action="store_true", help="reuse raw data kept by an earlier --keep-data run of the same size"
    )
    ap.add_argument(
        "--verify",
        choices=["smallest", "all", "none"],
        default="smallest",
        help="compare floor and incremental results with the full build (default: smallest size)",
    )
    ap.add_argument(
        "--models-only",
        action="store_true",
        help="dbt build seeds and models only (no unit / data tests), as tests/conftest.py does",
    )
    ap.add_argument(
        "--snapshot-project",
        action="store_true",
        help="copy the dbt project into the work folder first, so edits made while the benchmark "
        "runs do not change what is measured",
    )
    ap.add_argument("--threads", type=int, default=int(os.environ.get("CRM_DUCKDB_THREADS") or 2))
    ap.add_argument("--memory", default=os.environ.get("CRM_DUCKDB_MEMORY") or "16GB", help="DuckDB memory_limit")
    ap.add_argument("--top", type=int, default=10, help="nodes listed in the build profile")
    ap.add_argument("--json-out", default=None, help="write the results as JSON to this file")
    ap.add_argument("--write-docs", action="store_true", help="append the table to docs/performance.md")
    args = ap.parse_args(argv)
    args.sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        ap.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    if args.skip_pandas and "pandas" in args.phases:
        args.phases.remove("pandas")

    bench = Bench(args)
    meta = {
        "command": "python scripts/benchmark.py " + " ".join(argv),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "threads": args.threads,
        "memory_limit": args.memory,
        "models_only": args.models_only,
        "git": git_state(),
        "project_hash": tree_hash(bench.project),
        "peak_rss_method": "GNU time -v" if GNU_TIME.exists() else "getrusage(RUSAGE_CHILDREN)",
    }
    try:
        versions = subprocess.run(
            [
                bench.python,
                "-c",
                "import duckdb, pandas; from dbt.version import __version__ "
                "as d; print(duckdb.__version__, pandas.__version__, d)",
            ],
            capture_output=True,
            text=True,
        ).stdout.split()
        meta.update(duckdb=versions[0], pandas=versions[1], dbt=versions[2])
    except (IndexError, OSError):
        pass
    results = []
    for lines in sorted(args.sizes):
        results.append(bench.run_size(lines))
        if args.json_out:  # written after every size: a long run keeps what it measured
            write_json(args.json_out, meta, results)
    table = markdown(results)
    print(table)
    prof = profile_markdown(results)
    if prof:
        print()
        print(prof)
    if args.json_out:
        write_json(args.json_out, meta, results)
    if args.write_docs:
        docs = ROOT / "docs" / "performance.md"
        docs.parent.mkdir(parents=True, exist_ok=True)
        with open(docs, "a") as f:
            f.write(
                f"\n### Run of {meta['date_utc']} (`{meta['command']}`)\n\n"
                f"DuckDB {meta.get('duckdb')}, dbt {meta.get('dbt')}, {meta['cpus']} CPUs, threads "
                f"{args.threads}, memory_limit {args.memory}, git {meta['git']['head']}"
                f"{' + uncommitted model changes' if meta['git']['project_files_dirty'] else ''}, "
                f"project hash {meta['project_hash']}.\n\n{table}\n\n{prof}\n"
            )
    failed = [r["label"] for r in results for c in r["checks"].values() if c.get("mismatches")]
    if failed:
        log(f"CHECK FAILED: mismatching rows at {', '.join(failed)}")
        return 1
    return 0


def write_json(path: str, meta: dict, results: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
