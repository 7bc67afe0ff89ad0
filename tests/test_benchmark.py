"""Smoke test of scripts/benchmark.py at a tiny size: every phase runs and the checks pass.

The floor query (DuckDB alone, one statement) must give exactly the warehouse's snapshot columns,
and the incremental build exactly the full refresh; otherwise the benchmark compares different things.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

PHASE_ROWS = [
    "generate raw data",
    "cut November copy",
    "full: dbt build --full-refresh",
    "publish (serving + Parquet)",
    "incremental: dbt build (+December)",
    "floor: DuckDB, one query",
    "pandas (reference_snapshot)",
]


def test_benchmark_tiny(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "benchmark.py"),
            "--sizes",
            "4k",
            "--repeats",
            "1",
            "--models-only",
            "--work-dir",
            str(tmp_path / "work"),
            "--json-out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    table = result.stdout
    for row in PHASE_ROWS:
        assert "| 4k |" in table and row in table, f"phase row {row!r} missing from:\n{table}"

    report = json.loads(out.read_text())
    (size,) = report["results"]
    assert size["label"] == "4k" and size["months"] == 36
    for phase in ("generate", "cut", "full", "publish", "incremental_base", "incremental", "floor", "pandas"):
        timing = size["phases"][phase]
        assert timing["median_s"] > 0 and timing["peak_rss_mb"] > 0, phase
    assert size["checks"]["floor_vs_warehouse"]["mismatches"] == 0, size["checks"]["floor_vs_warehouse"]
    assert size["checks"]["floor_vs_warehouse"]["left_rows"] == size["snapshot_rows"] > 0
    assert size["checks"]["incremental_vs_full"]["mismatches"] == 0, size["checks"]["incremental_vs_full"]
    assert all(value is not None for value in size["ratios"].values()), size["ratios"]
    assert size["profile"], "no per-model profile read from run_results.json"
    # nothing left behind but the logs and run results (no --keep-data)
    assert not (tmp_path / "work" / "4k" / "raw_full").exists()
