"""The benchmark's runner: sizes, work folders, each phase measured in a child process under
/usr/bin/time (Bench), the helpers it needs."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarking.phases import RFMT_COLUMNS, SNAPSHOT_COLUMNS, link_or_copy
from benchmarking.report import dbt_summary, profile, ratios, summarise

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / ("Scripts" if os.name == "nt" else "bin")
GNU_TIME = Path("/usr/bin/time")
PHASES = ("full", "incremental", "floor", "pandas")
START_YEAR, YEARS, SEED = 2023, 3, 42  # defaults of --start-year / --years


def parse_customers(text: str):
    """--customers: a count (1M, 100k, 5000: the same for every size) or /K (lines / K per size)."""
    text = str(text).strip()
    if text.startswith("/"):
        try:
            divisor = float(text[1:])
        except ValueError:
            divisor = 0
        if divisor <= 0:
            raise argparse.ArgumentTypeError(f"not a divisor: {text!r} (e.g. /20: lines / 20 customers)")
        return ("per", divisor)
    try:
        return ("count", int(text))
    except ValueError:
        return ("count", parse_size(text))


def customers_for(spec, lines: int) -> int:
    kind, value = spec
    return max(100, int(lines // value)) if kind == "per" else max(100, int(value))


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


def months_between(start: str, end: str) -> int:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return (b.year - a.year) * 12 + b.month - a.month + 1


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
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "kb = usage.ru_maxrss // 1024 if sys.platform == 'darwin' else usage.ru_maxrss\n"
    "open(sys.argv[1], 'w').write('Maximum resident set size (kbytes): %d\\nUser time (seconds): %.2f\\n"
    "System time (seconds): %.2f\\n' % (kb, usage.ru_utime, usage.ru_stime))\n"
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
    # CPU seconds of the process tree (GNU time: user + system of the child and its children): on a
    # shared machine the wall time grows with the others' load, the CPU time far less
    user = re.search(r"User time \(seconds\): ([0-9.]+)", text)
    system = re.search(r"System time \(seconds\): ([0-9.]+)", text)
    cpu_s = float(user.group(1)) + float(system.group(1)) if user and system else None
    output = log_path.read_text(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed ({result.returncode}): {' '.join(command)}\nlog {log_path}:\n{output[-4000:]}"
        )
    return {
        "wall_s": round(wall, 3),
        "rss_mb": round(rss_mb, 1) if rss_mb else None,
        "cpu_s": round(cpu_s, 2) if cpu_s is not None else None,
        "load1_before": round(load, 2) if load is not None else None,
        "output": output,
    }


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
        return [self.python, str(ROOT / "scripts" / "benchmark.py"), "--internal", *args]

    # -- one size
    def run_size(self, lines: int) -> dict:
        a = self.args
        label = size_label(lines)
        customers = customers_for(a.customers, lines)
        start_year, years = a.start_year, a.years
        full_end, cut_end = f"{start_year + years - 1}-12-31", f"{start_year + years - 1}-11-30"
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
        shape = f"raw folder {a.raw_dir}" if a.raw_dir else f"{lines} lines, {customers} customers"
        log(f"== {label}: {shape}, {repeats} repeat(s)")

        # 1. raw data: the full set and the November cut
        stamp = base / "raw_full.json"
        wanted = {
            "customers": customers,
            "lines": lines,
            "seed": SEED,
            "start_year": start_year,
            "years": years,
            "end_date": full_end,
            "layout": "last month appended to its yearly file",
        }
        if a.one_time_share:
            wanted["one_time_share"] = a.one_time_share
        if a.raw_dir:
            wanted = {"raw_dir": str(a.raw_dir), "end_date": full_end}
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
        elif a.raw_dir:  # a folder generated beforehand: hard links (the cut replaces its last year's link only)
            shutil.rmtree(raw_full, ignore_errors=True)
            shutil.rmtree(raw_cut, ignore_errors=True)
            fill_folder(Path(a.raw_dir), raw_full)
            summary = given_raw_summary(Path(a.raw_dir), start_year, full_end)
            log(f"raw data from {a.raw_dir} (not generated here)")
            cut = measure(
                self.internal("cut", str(raw_full), str(raw_cut), cut_end), dict(os.environ), logs / "cut.log"
            )
            cut.pop("output")
            res["phases"]["cut"] = summarise([cut])
            res["phases"]["generate"] = {"skipped": f"given --raw-dir {a.raw_dir}"}
            summary["args_wanted"] = wanted
            summary["generate_measure"] = res["phases"]["generate"]
            summary["cut_measure"] = res["phases"]["cut"]
            stamp.write_text(json.dumps(summary, indent=1))
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
                    str(start_year),
                    "--years",
                    str(years),
                    *(["--one-time-share", str(a.one_time_share)] if a.one_time_share else []),
                    "--seed",
                    str(SEED),
                    "--clean",
                    "--end-date",
                    full_end,
                    "--quiet",
                    "--json",
                ],
                dict(os.environ),
                logs / "generate.log",
            )
            summary = last_json_line_block(gen.pop("output"))
            cut = measure(
                self.internal("cut", str(raw_full), str(raw_cut), cut_end), dict(os.environ), logs / "cut.log"
            )
            cut.pop("output")
            res["phases"]["generate"] = summarise([gen])
            res["phases"]["cut"] = summarise([cut])
            summary["args_wanted"] = wanted
            summary["generate_measure"] = res["phases"]["generate"]
            summary["cut_measure"] = res["phases"]["cut"]
            stamp.write_text(json.dumps(summary, indent=1))
        res["customers"] = summary.get("args", {}).get("customers", customers)
        res["lines"] = summary["transaction_lines"]
        res["months"] = months_between(summary["period"][0], summary["period"][1])
        res["raw_mb"] = round(sum(f.stat().st_size for f in raw_full.glob("*.csv")) / 2**20, 1)
        log(
            f"raw data: {res['lines']} lines, {res['raw_mb']} MB, generated in "
            f"{res['phases']['generate'].get('median_s', 'n/a')} s, cut in {res['phases']['cut']['median_s']} s"
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
                res["disk"] = disk_use(raw, db, Path(env["CRM_SERVING_PATH"]), Path(env["CRM_PARQUET_DIR"]))
                log(f"disk: {res['disk']}")
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


def disk_use(raw: Path, db: Path, serving: Path, parquet: Path) -> dict:
    """Bytes on disk (MB) of the raw CSV, the build file, the serving file and the Parquet folder, and
    the issue-25 ratio (build + serving + Parquet) / raw CSV."""

    def size(path: Path) -> int:
        if path.is_dir():
            return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        return sum(p.stat().st_size for p in (path, Path(str(path) + ".wal")) if p.exists())

    raw_b = sum(f.stat().st_size for f in raw.glob("*.csv"))
    parts = {"build": size(db), "serving": size(serving), "parquet": size(parquet)}
    out = {f"{k}_mb": round(v / 1e6, 1) for k, v in parts.items()}
    out["raw_csv_mb"] = round(raw_b / 1e6, 1)
    out["total_over_raw"] = round(sum(parts.values()) / raw_b, 2) if raw_b else None
    return out


def given_raw_summary(raw: Path, start_year: int, full_end: str) -> dict:
    """What the benchmark needs of a raw folder it did not generate: lines, customers, period."""
    import duckdb

    with duckdb.connect() as con:
        lines = con.execute(
            f"select count(*) from read_csv('{raw.as_posix()}/sales_transactions_*.csv', all_varchar = true)"
        ).fetchone()[0]
        customers = con.execute(
            f"select count(*) from read_csv('{raw.as_posix()}/customers_master.csv', all_varchar = true)"
        ).fetchone()[0]
    return {
        "transaction_lines": lines,
        "period": [f"{start_year}-01-01", full_end],
        "args": {"customers": customers},
    }


def last_json_line_block(output: str) -> dict:
    """The generator prints its summary as an indented JSON document: take it from the first '{'."""
    start = output.find("\n{")
    start = 0 if output.startswith("{") else start + 1
    return json.loads(output[start:])
