#!/usr/bin/env python3
"""Benchmark the warehouse build against a raw-DuckDB floor and a naive pandas implementation.

    python scripts/benchmark.py --sizes 1M --repeats 3
    python scripts/benchmark.py --sizes 10M --json-out warehouse/bench/10M.json --write-docs

For every size (transaction lines L; by default customers = L / 20 and 3 years 2023-2025, so ~6.7
lines per customer and year; --customers, --start-year, --years and --one-time-share change the
shape, e.g. issue 25's retail-like 10M lines / 1M customers / 48 months:
`--sizes 10M --customers 1M --start-year 2022 --years 4 --one-time-share 0.6`, or --raw-dir with a
folder generated that way) the project generator writes a clean raw folder, and a copy without December
2025 is cut from it (DuckDB COPY of the lines dated up to 2025-11-30). Phases (--phases):

    full         `dbt build --full-refresh` (seeds, models and data tests, as `make build`; unit
                 tests run in `make test`) into a fresh
                 warehouse file, then the publish step (serving file + Parquet), timed separately
    incremental  the November cut built with --full-refresh (not timed), then the December lines
                 land in the same raw folder and a normal (incremental) `dbt build` is timed
    floor        DuckDB alone, same threads / memory: one hand-written SQL statement reading the
                 same CSV files and writing the snapshot columns of SPEC section 5 to a table
    pandas       tests/support/reference_snapshot.py (the tests' naive pandas oracle, also computes the RFMT scores),
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

Layout: this file is the command line; scripts/benchmarking/ holds the runner (Bench: every phase
measured in a child process), the phases' own work in those child processes (--internal MODE) and
the report (summaries, Markdown, JSON); the floor statement is scripts/sql/benchmark_floor.sql
(thresholds from the seed value_tier_calibration). The driver runs on the project's .venv Python (it
reads the project's settings through the crm_warehouse package). Work files go to --work-dir
(default warehouse/bench, git-ignored) and are removed after each size unless --keep-data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys

from benchmarking.phases import run_internal
from benchmarking.report import markdown, profile_markdown, write_json
from benchmarking.runner import (
    GNU_TIME,
    PHASES,
    ROOT,
    START_YEAR,
    YEARS,
    Bench,
    git_state,
    log,
    parse_customers,
    parse_size,
    tree_hash,
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--internal":
        run_internal(argv[1], argv[2:])
        return 0

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--sizes", default="1M", help="comma-separated transaction line counts: 20k,200k,1M,10M,100M")
    ap.add_argument(
        "--customers",
        type=parse_customers,
        default=parse_customers("/20"),
        help="customers: a count for every size (1M, 100k) or /K for lines / K (default /20)",
    )
    ap.add_argument("--start-year", type=int, default=START_YEAR, help=f"first year (default {START_YEAR})")
    ap.add_argument("--years", type=int, default=YEARS, help=f"years of data, the last one complete (default {YEARS})")
    ap.add_argument(
        "--one-time-share",
        type=float,
        default=0.0,
        help="generator --one-time-share: share of one-time buyers (retail-like; default 0)",
    )
    ap.add_argument(
        "--raw-dir",
        default=None,
        help="use this clean raw folder (generated beforehand with the same --start-year / --years) instead of "
        "generating one; hard-linked, never modified; one size only",
    )
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
    if args.raw_dir and len(args.sizes) != 1:
        ap.error("--raw-dir needs exactly one --sizes value (its label names the work folder)")
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


if __name__ == "__main__":
    sys.exit(main())
