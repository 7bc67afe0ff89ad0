"""The benchmark's report: summaries of the runs, ratios, dbt's profile, the Markdown tables of
docs/performance.md and the JSON file."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path


def fmt_s(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def fmt_ratio(value) -> str:
    return "n/a" if value is None else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    rss = [r["rss_mb"] for r in runs if r.get("rss_mb") is not None]
    cpus = [r["cpu_s"] for r in runs if r.get("cpu_s") is not None]
    out = {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "peak_rss_mb": round(max(rss), 1) if rss else None,
        "median_cpu_s": round(statistics.median(cpus), 2) if cpus else None,
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
    publish = med("publish")

    def cpu(name):
        return (phases.get(name) or {}).get("median_cpu_s")

    cpu_full, cpu_publish, cpu_floor = cpu("full"), cpu("publish"), cpu("floor")
    return {
        # the same ratio in CPU seconds (user + system): less sensitive to a shared machine's load
        "cpu_full_and_publish_over_floor": round((cpu_full + cpu_publish) / cpu_floor, 2)
        if cpu_full and cpu_publish and cpu_floor
        else None,
        "full_over_floor": round(full / floor, 2) if full and floor else None,
        # issue 25's build: dbt build and the publish step (make build publishes as dbt's last node)
        "full_and_publish_over_floor": round((full + publish) / floor, 2) if full and publish and floor else None,
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
        "| s per M lines | peak RSS MB | CPU s |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
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
                    f"{r.get('snapshot_rows') or 0:,} | {name} | n/a | n/a | n/a | n/a | n/a |"
                )
                continue
            spread = f"{fmt_s(p['min_s'])}-{fmt_s(p['max_s'])}" if p["n"] > 1 else ""
            rss = f"{p['peak_rss_mb']:,.0f}" if p.get("peak_rss_mb") else "n/a"
            rows.append(
                f"| {r['label']} | {r['lines']:,} | {r['customers']:,} | {r['months']} | "
                f"{r.get('snapshot_rows') or 0:,} | {name} | {fmt_s(p['median_s'])} | {spread} "
                f"| {p['median_s'] / (r['lines'] / 1e6):.2f} | {rss} | {fmt_s(p['median_cpu_s']) if p.get('median_cpu_s') else 'n/a'} |"
            )
    rows.append("")
    rows.append(
        "| size | full build / floor | (build + publish) / floor | same in CPU s | incremental / full build "
        "| pandas / full build "
        "| floor = warehouse (mismatching rows) | incremental = full (mismatching rows) |"
    )
    rows.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        q = r["ratios"]
        c1 = r["checks"].get("floor_vs_warehouse", {}).get("mismatches", "not checked")
        c2 = r["checks"].get("incremental_vs_full", {}).get("mismatches", "not checked")
        rows.append(
            f"| {r['label']} | {fmt_ratio(q['full_over_floor'])} | {fmt_ratio(q.get('full_and_publish_over_floor'))} "
            f"| {fmt_ratio(q.get('cpu_full_and_publish_over_floor'))} "
            f"| {fmt_ratio(q['incremental_over_full'])} "
            f"| {fmt_ratio(q['pandas_over_full'])} | {c1} | {c2} |"
        )
    disks = [r for r in results if r.get("disk")]
    if disks:
        rows.append("")
        rows.append(
            "| size | raw CSV MB | build file MB | serving file MB | Parquet MB | (build + serving + Parquet) / raw |"
        )
        rows.append("|---|---:|---:|---:|---:|---:|")
        for r in disks:
            d = r["disk"]
            rows.append(
                f"| {r['label']} | {d['raw_csv_mb']:,.0f} | {d['build_mb']:,.0f} | {d['serving_mb']:,.0f} "
                f"| {d['parquet_mb']:,.0f} | {fmt_ratio(d['total_over_raw'])} |"
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


def write_json(path: str, meta: dict, results: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
