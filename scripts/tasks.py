#!/usr/bin/env python3
"""One entry point for the project's chores, on Linux, macOS and Windows.

    python scripts/tasks.py build [dbt args...]   set up .venv if needed, build the warehouse and
                                                   publish the marts (serving DuckDB file + Parquet;
                                                   dbt build's last node publishes)
    python scripts/tasks.py test                   ruff + sqlfluff + full dbt build with tests + pytest
    python scripts/tasks.py lint                   ruff (Python) + sqlfluff (SQL)
    python scripts/tasks.py docs                   dbt docs generate
    python scripts/tasks.py bench [1M,10M,...]    benchmark full / incremental builds vs the raw floor
    python scripts/tasks.py bench-app [--serving PATH]  first visit of every app page in a headless
                                                   Chromium, per report month, segment and page choice
                                                   (scripts/bench_app.py; default CRM_SERVING_PATH)
    python scripts/tasks.py app                    self-service Streamlit app on the serving file
    python scripts/tasks.py freshness              dbt source freshness of the raw landing folder
    python scripts/tasks.py refresh                for a scheduler: freshness gate, build, publish; a log
                                                   per run in <warehouse>/logs/, one-line result, exit
                                                   code 0 ok, 1 failed, 2 stale, 3 locked, 4 file in use
    python scripts/tasks.py setup                  create .venv, install requirements.txt and the
                                                   crm_warehouse package (src/, editable)
    python scripts/tasks.py test-spark             build the demo on a local Apache Spark (dbt-spark, in
                                                   .venv-spark from requirements-spark.txt; Java 17) with
                                                   every data test and compare each mart with the DuckDB
                                                   build (scripts/spark_parity.py); docs/spark.md
    python scripts/tasks.py orchestrate            Dagster web UI + daemon on http://127.0.0.1:3000 (the
                                                   warehouse as assets, the landing-folder sensor, the
                                                   monthly schedule; .venv-orchestration from
                                                   requirements-orchestration.txt); Ctrl-C stops it all;
                                                   docs/orchestration.md
    python scripts/tasks.py test-orchestration     the orchestration tests (orchestration/tests, pytest in
                                                   .venv-orchestration)

The Makefile targets call this script. Settings come from the environment:
CRM_RAW_DIR (raw landing folder, default data/demo), CRM_DUCKDB_PATH (build warehouse file,
default warehouse/crm.duckdb). Only the standard library is used here, so any Python 3.11 runs it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / ".requirements.sha256"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def venv_tool(name: str) -> str:
    suffix = ".exe" if os.name == "nt" else ""
    return str(BIN / f"{name}{suffix}")


def log(message: str) -> None:
    print(f"[crm] {message}", flush=True)


def run(command: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    log("$ " + " ".join(command))
    result = subprocess.run(command, cwd=ROOT, env=env)
    if check and result.returncode != 0:
        log(f"failed with exit code {result.returncode}: {' '.join(command)}")
        sys.exit(result.returncode)
    return result.returncode


def setup() -> None:
    """Create .venv when missing and install the pinned requirements when they changed."""
    if sys.version_info[:2] < (3, 11):  # noqa: UP036  (this file runs on whatever Python the user has)
        sys.exit(f"Python 3.11 or newer is required (found {sys.version.split()[0]}).")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + PYPROJECT.read_bytes()).hexdigest()
    if not Path(venv_tool("python")).exists():
        log(f"creating virtual environment {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        log("installing pinned requirements and the crm_warehouse package (first run only)")
        pip = [venv_tool("python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        run([*pip, "-r", str(REQUIREMENTS)])
        # Editable, from src/crm_warehouse: its dependencies are requirements.txt (--no-deps) and
        # its build backend is the setuptools pinned there (--no-build-isolation: nothing to download).
        run([*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)])
        STAMP.write_text(wanted)


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DBT_PROFILES_DIR"] = str(ROOT)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    raw_dir = Path(env.get("CRM_RAW_DIR") or ROOT / "data" / "demo")
    if not raw_dir.is_absolute():
        raw_dir = (Path.cwd() / raw_dir).resolve()
    env["CRM_RAW_DIR"] = raw_dir.as_posix()
    db_path = Path(env.get("CRM_DUCKDB_PATH") or ROOT / "warehouse" / "crm.duckdb")
    if not db_path.is_absolute():
        db_path = (Path.cwd() / db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    env["CRM_DUCKDB_PATH"] = str(db_path)
    env.setdefault("CRM_DUCKDB_TEMP_DIR", str(db_path.parent / "tmp"))
    for name in ("CRM_SERVING_PATH", "CRM_PARQUET_DIR"):
        if env.get(name) and not Path(env[name]).is_absolute():
            env[name] = str((Path.cwd() / env[name]).resolve())
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


GATE_MARKER = "crm gate "


def gate_groups(lines: list[str]) -> list[list[str]]:
    """The "crm gate" lines of a run (the text after GATE_MARKER) as one group per test (its header
    line, then its indented detail lines), failures and errors first: how `make build` and the
    orchestrator repeat them."""
    groups: list[list[str]] = []
    for line in lines:
        if line.startswith(" ") and groups:
            groups[-1].append(line)
        else:
            groups.append([line])
    groups.sort(key=lambda group: 0 if group[0].startswith(("FAIL", "ERROR")) else 1)
    return groups


def dbt(args: list[str], env: dict[str, str]) -> None:
    """Run dbt, echoing its output; the quality gates that warned or failed are repeated at the end.

    The on-run-end hook crm_explain_test_failures writes one "crm gate" line per failed or warning
    test (what failed, where, how many, examples, the fix); they are easy to miss among hundreds of
    nodes, so they are printed again as the build's own summary, before the exit code is passed on.
    """
    command = [venv_tool("dbt"), *args]
    log("$ " + " ".join(command))
    gate_lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if GATE_MARKER in line:
                gate_lines.append(line.split(GATE_MARKER, 1)[1].rstrip())
        code = process.wait()
    if gate_lines:
        groups = gate_groups(gate_lines)
        failed = groups[0][0].startswith(("FAIL", "ERROR"))
        log("quality gates that " + ("failed or warned" if failed else "warned") + " (details above in the dbt log):")
        for group in groups:
            for line in group:
                print(f"[crm]   {line}", flush=True)
    if code != 0:
        log(f"failed with exit code {code}: {' '.join(command)}")
        sys.exit(code)


def locked_reason(env: dict[str, str]) -> str | None:
    """Why dbt cannot write the build warehouse now (another program holds it open), or None."""
    probe = (
        "import duckdb, os, sys\n"
        "path = os.environ['CRM_DUCKDB_PATH']\n"
        "if os.path.exists(path):\n"
        "    try:\n"
        "        duckdb.connect(path).close()\n"
        "    except duckdb.IOException as error:\n"
        "        sys.exit(str(error))\n"
    )
    result = subprocess.run([venv_tool("python"), "-c", probe], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return (
            f"the build warehouse {env['CRM_DUCKDB_PATH']} is open in another program, so dbt cannot "
            f"write it: {(result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]}"
        )
    return None


def check_not_locked(env: dict[str, str]) -> None:
    """Fail early, and clearly, when another program holds the build warehouse file open."""
    reason = locked_reason(env)
    if reason:
        sys.exit(
            f"[crm] {reason}\n"
            "Close that program (notebook, DuckDB CLI, BI tool). BI tools should open the serving file "
            "(warehouse/crm_serving.duckdb, see docs/powerbi.md), which never blocks a build."
        )


def project_fingerprint() -> str:
    """SHA-256 of everything that decides the warehouse's rows: models, macros, seeds, tests' SQL,
    src/ (the crm_warehouse package the dbt Python models import) and dbt_project.yml (file names and contents, line
    endings normalised)."""
    digest = hashlib.sha256()
    files = [ROOT / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "src"):
        files += sorted(
            path for path in (ROOT / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts
        )  # bytecode is no rule
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()


# A production build runs the models and the data tests (the quality gates) but not the unit tests:
# their inputs are fixed, so they prove the code, not the data; `make test` (CI) runs them. This is
# dbt's own recommendation for unit tests.
PRODUCTION_BUILD_ARGS = ["--exclude-resource-type", "unit_test"]


def build_args(env: dict[str, str], extra: list[str], fingerprint: str, say=log) -> list[str]:
    """The production `dbt build` arguments.

    The incremental models keep published months; history built from another raw folder would
    silently mix with this one, so a change of raw folder forces a full refresh.
    Likewise rows written by an older version of the project's SQL (an upgrade, a changed rule or
    a new column) must not stay beside new ones: a change of models, macros, seeds or
    dbt_project.yml since the last build forces a full refresh too."""
    marker = Path(env["CRM_DUCKDB_PATH"] + ".raw_dir")
    project_marker = Path(env["CRM_DUCKDB_PATH"] + ".project")
    if Path(env["CRM_DUCKDB_PATH"]).exists() and "--full-refresh" not in extra:
        previous = marker.read_text().strip() if marker.exists() else None
        previous_project = project_marker.read_text().strip() if project_marker.exists() else None
        if previous != env["CRM_RAW_DIR"]:
            say(f"warehouse was last built from {previous or 'an unknown folder'}: full refresh")
            extra = [*extra, "--full-refresh"]
        elif previous_project != fingerprint:
            say("the project's models, macros, seeds or settings changed since the last build: full refresh")
            extra = [*extra, "--full-refresh"]
    return ["build", *PRODUCTION_BUILD_ARGS, *extra]


def mark_built(env: dict[str, str], fingerprint: str) -> None:
    """Remember the raw folder and the project version (fingerprint taken before the build) that
    this warehouse was built from (build_args)."""
    Path(env["CRM_DUCKDB_PATH"] + ".raw_dir").write_text(env["CRM_RAW_DIR"] + "\n")
    Path(env["CRM_DUCKDB_PATH"] + ".project").write_text(fingerprint + "\n")


def build(extra: list[str]) -> None:
    """dbt build; its last node (models/serving/publish_serving.py) publishes the serving file."""
    setup()
    env = project_env()
    check_not_locked(env)
    log(f"raw folder {env['CRM_RAW_DIR']} -> warehouse {env['CRM_DUCKDB_PATH']}")
    fingerprint = project_fingerprint()
    started = time.perf_counter()
    dbt(build_args(env, extra, fingerprint), env)
    mark_built(env, fingerprint)
    log(f"warehouse built and published in {time.perf_counter() - started:.1f} s")


# ---------------------------------------------------------------------------------------------
# scheduled refresh
# ---------------------------------------------------------------------------------------------
REFRESH_OK, REFRESH_FAILED, REFRESH_STALE, REFRESH_BLOCKED, REFRESH_PENDING = 0, 1, 2, 3, 4

# Reads what the publish node of this run recorded (serving.publish_serving) and the latest sales date.
PUBLISHED_PROBE = """
import duckdb, json, os
with duckdb.connect(os.environ['CRM_DUCKDB_PATH'], read_only=True) as con:
    rows = con.execute("select mart_name, published, note, serving_path from serving.publish_serving").fetchall()
    latest = con.execute("select max(invoice_date) from marts.fct_sales").fetchall()[0][0]
print(json.dumps({"rows": rows, "latest": str(latest)}))
"""


def target_dir(env: dict[str, str]) -> Path:
    target = Path(env.get("DBT_TARGET_PATH") or "target")
    return target if target.is_absolute() else ROOT / target


def failed_nodes(env: dict[str, str]) -> list[str]:
    """'<kind> <name>' of every node that errored or failed in dbt's last run (run_results.json)."""
    try:
        results = json.loads((target_dir(env) / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [
        f"{result['unique_id'].split('.')[0]} {result['unique_id'].split('.')[2]}"
        for result in results
        if result.get("status") in {"error", "fail", "runtime error"}
    ]


def stale_sources(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of `dbt source freshness` (sources.json): '<source>: latest ... (N days old)'."""
    try:
        results = json.loads((target_dir(env) / "sources.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return [], []
    found: dict[str, list[str]] = {"error": [], "warn": [], "runtime error": []}
    for result in results:
        if result.get("status") in found:
            age = result.get("max_loaded_at_time_ago_in_s")
            limit = (result.get("criteria") or {}).get("error_after" if result["status"] == "error" else "warn_after")
            days = (
                f"{int(age // 86400)} days old" if isinstance(age, (int, float)) else result.get("error") or "no data"
            )
            if limit and limit.get("count"):
                days += f", limit {limit['count']} {limit['period']}s"
            found[result["status"]].append(
                f"{result['unique_id'].split('.')[-1]}: latest {str(result.get('max_loaded_at', '?'))[:10]} ({days})"
            )
    return found["error"] + found["runtime error"], found["warn"]


def refresh(extra: list[str]) -> None:
    """One command for a scheduler: freshness gate on the raw landing folder, then `dbt build` (which
    publishes the serving file). Writes everything to <warehouse folder>/logs/refresh-<time>.log and
    ends with one line: what was published, or why not, with a non-zero exit code:
    1 a model or data test failed (nothing published), 2 the raw data is stale (nothing built),
    3 the warehouse is locked or the setup failed, 4 built but the serving file is in use (Windows:
    the new marts wait in crm_serving.pending.duckdb)."""
    started = datetime.datetime.now()
    env = project_env()
    log_dir = Path(env["CRM_DUCKDB_PATH"]).parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"refresh-{started:%Y%m%d-%H%M%S}.log"
    with open(log_path, "a", encoding="utf-8") as log_file:

        def note(message: str) -> None:
            log(message)
            log_file.write(f"[crm] {message}\n")
            log_file.flush()

        def step(command: list[str]) -> int:
            log_file.write(f"[crm] $ {' '.join(command)}\n")
            log_file.flush()
            return subprocess.run(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT).returncode

        def finish(code: int, message: str) -> None:
            seconds = (datetime.datetime.now() - started).total_seconds()
            line = f"refresh {'OK' if code == 0 else 'FAILED'} ({seconds:.0f} s): {message} [log: {log_path}]"
            log_file.write(f"[crm] {line}\n[crm] exit code {code}\n")
            log_file.close()
            print(f"[crm] {line}", file=sys.stdout if code == 0 else sys.stderr, flush=True)
            sys.exit(code)

        note(
            f"refresh started {started:%Y-%m-%d %H:%M:%S}: raw folder {env['CRM_RAW_DIR']} -> "
            f"warehouse {env['CRM_DUCKDB_PATH']}"
        )
        try:
            setup()
        except SystemExit as error:
            finish(REFRESH_BLOCKED, f"setup of .venv failed ({error.code})")
        reason = locked_reason(env)
        if reason:
            finish(REFRESH_BLOCKED, reason)

        note("1/2 freshness of the raw landing folder (dbt source freshness)")
        code = step([venv_tool("dbt"), "source", "freshness"])
        errors, warnings = stale_sources(env)
        if errors:
            finish(REFRESH_STALE, "raw data is stale, nothing built: " + "; ".join(errors))
        if code != 0:
            finish(REFRESH_FAILED, f"dbt source freshness failed (exit {code}), nothing built")
        for warning in warnings:
            note(f"freshness warning: {warning}")

        note("2/2 dbt build (models, data tests, publish)")
        fingerprint = project_fingerprint()
        code = step([venv_tool("dbt"), *build_args(env, extra, fingerprint, say=note)])
        if code != 0:
            failed = failed_nodes(env)
            log_file.flush()
            gates = [
                line.split(GATE_MARKER, 1)[1].strip()
                for line in log_path.read_text(encoding="utf-8").splitlines()
                if GATE_MARKER in line
            ]
            explained = next((gate for gate in gates if gate.startswith(("FAIL", "ERROR"))), None)
            finish(
                REFRESH_FAILED,
                f"dbt build failed ({', '.join(failed[:5]) or f'exit {code}'}"
                f"{': ' + explained if explained else ''}); nothing published, Power BI keeps the previous "
                "serving file",
            )
        mark_built(env, fingerprint)
        probe = subprocess.run([venv_tool("python"), "-c", PUBLISHED_PROBE], env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            finish(REFRESH_FAILED, f"cannot read what was published: {probe.stderr.strip().splitlines()[-1:]}")
        published = json.loads(probe.stdout)
        rows = published["rows"]
        if not rows or any(row[0] is None for row in rows):
            finish(REFRESH_FAILED, f"the build did not publish: {rows[0][2] if rows else 'no publish record'}")
        if not all(row[1] for row in rows):
            finish(
                REFRESH_PENDING,
                f"built, but {rows[0][3]} is open in another program: the new marts wait "
                "in crm_serving.pending.duckdb (close Power BI, then run scripts/publish.py)",
            )
        finish(REFRESH_OK, f"{len(rows)} marts published to {rows[0][3]}, sales up to {published['latest']}")


def python_lint(env: dict[str, str]) -> None:
    """ruff (settings in pyproject.toml): lint rules, then the formatting, of every Python file."""
    if run([venv_tool("ruff"), "check", "."], env=env, check=False) != 0:
        log("ruff check found problems (listed above): fix them, `.venv/bin/ruff check --fix .` fixes many")
        sys.exit(1)
    if run([venv_tool("ruff"), "format", "--check", "."], env=env, check=False) != 0:
        log("ruff format: the files listed above are not formatted: run `.venv/bin/ruff format .`")
        sys.exit(1)


def sqlfluff_command() -> list[str]:
    return [venv_tool("sqlfluff"), "lint", "models", "data_tests", "--processes", "2"]


def sqlfluff_env(env: dict[str, str]) -> dict[str, str]:
    """sqlfluff's dbt templater parses the project and opens the profile's DuckDB file: it gets a
    target folder and a DuckDB file of its own (under target/sqlfluff), so that it never takes the
    warehouse's lock and can run beside a dbt build (make test does)."""
    lint_dir = ROOT / "target" / "sqlfluff"
    lint_dir.mkdir(parents=True, exist_ok=True)
    return {
        **env,
        "DBT_TARGET_PATH": str(lint_dir),
        "DBT_LOG_PATH": str(lint_dir / "logs"),
        "CRM_DUCKDB_PATH": str(lint_dir / "lint.duckdb"),
        "CRM_DUCKDB_TEMP_DIR": str(lint_dir / "tmp"),
    }


def lint() -> None:
    setup()
    env = project_env()
    python_lint(env)
    run(sqlfluff_command(), env=sqlfluff_env(env))


def pytest_worker_args(env: dict[str, str]) -> list[str]:
    """CRM_TEST_WORKERS=N (default 2) runs pytest on N pytest-xdist workers (1: in one process).

    --dist loadgroup with the groups that tests/conftest.py gives: a test file's tests stay in one
    worker (its module fixtures are built once), except the files whose tests share only session
    fixtures (tests/test_incremental.py), whose tests go one by one to whichever worker is free;
    --no-loadscope-reorder keeps conftest.py's order, slowest first. The shared session builds of
    tests/conftest.py run once per run, under a lock."""
    workers = env.get("CRM_TEST_WORKERS", "2").strip()
    if not workers.isdigit() or int(workers) < 1:
        sys.exit(f"CRM_TEST_WORKERS must be a whole number >= 1 (got {workers!r})")
    return [] if int(workers) == 1 else ["-n", workers, "--dist", "loadgroup", "--no-loadscope-reorder"]


def test(extra: list[str]) -> None:
    setup()
    timings: list[tuple[str, float]] = []
    env = project_env()
    started = time.perf_counter()
    python_lint(env)
    timings.append(("ruff", time.perf_counter() - started))
    check_not_locked(env)
    # sqlfluff runs beside the dbt build (its own target folder and DuckDB file, see sqlfluff_env),
    # its output kept and printed after the build's; the first failure of the two stops the run.
    started = time.perf_counter()
    lint_command = sqlfluff_command()
    log("$ " + " ".join(lint_command) + "   (beside the dbt build; its output follows the build's)")
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as lint_output:
        linter = subprocess.Popen(
            lint_command, cwd=ROOT, env=sqlfluff_env(env), stdout=lint_output, stderr=subprocess.STDOUT, text=True
        )
        fingerprint = project_fingerprint()
        try:
            dbt(["build", "--full-refresh"], env)  # publishes the serving file as its last node
            mark_built(env, fingerprint)  # pytest's demo_build fixture uses this warehouse only when current
            timings.append(
                ("dbt build --full-refresh (models, data tests, unit tests, publish)", time.perf_counter() - started)
            )
        finally:
            lint_code = linter.wait()
            lint_output.seek(0)
            sys.stdout.write(lint_output.read())
            sys.stdout.flush()
    timings.append(("sqlfluff lint (beside the build)", time.perf_counter() - started))
    if lint_code != 0:
        log(f"sqlfluff lint failed with exit code {lint_code} (its findings are listed above)")
        sys.exit(lint_code)
    started = time.perf_counter()
    code = run([venv_tool("python"), "-m", "pytest", "tests", *pytest_worker_args(env), *extra], env=env, check=False)
    timings.append(("pytest", time.perf_counter() - started))
    log("make test steps: " + "; ".join(f"{name} {seconds:.0f} s" for name, seconds in timings))
    if code == 5:
        log("pytest collected no tests: the test suite is missing")
        sys.exit(1)
    if code != 0:
        sys.exit(code)


SPARK_VENV = ROOT / ".venv-spark"
SPARK_REQUIREMENTS = ROOT / "requirements-spark.txt"
SPARK_BIN = SPARK_VENV / ("Scripts" if os.name == "nt" else "bin")


def setup_spark() -> None:
    """Create .venv-spark (dbt-spark + pyspark, about 500 MB) when missing or when
    requirements-spark.txt changed. Kept apart from .venv so that the DuckDB build never carries
    pyspark and the two adapters' dependencies cannot clash."""
    java = shutil.which("java")
    if java is None:
        sys.exit(
            "[crm] Java is required by Spark and was not found on PATH: install a Java 17 runtime "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless) and set JAVA_HOME if needed."
        )
    wanted = hashlib.sha256(SPARK_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = SPARK_VENV / ".requirements.sha256"
    python = SPARK_BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        log(f"creating virtual environment {SPARK_VENV}")
        run([sys.executable, "-m", "venv", str(SPARK_VENV)])
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        log("installing requirements-spark.txt into .venv-spark (first run only; pyspark is about 500 MB)")
        run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(SPARK_REQUIREMENTS)])
        stamp.write_text(wanted)


def spark_env() -> dict[str, str]:
    """project_env plus the Spark build's own folders: its tables (CRM_SPARK_WAREHOUSE, default
    warehouse/spark) and dbt's target-spark/ and logs-spark/, so that it never touches the DuckDB
    build's target/."""
    env = project_env()
    spark_dir = Path(env.get("CRM_SPARK_WAREHOUSE") or ROOT / "warehouse" / "spark")
    if not spark_dir.is_absolute():
        spark_dir = (Path.cwd() / spark_dir).resolve()
    env["CRM_SPARK_WAREHOUSE"] = spark_dir.as_posix()
    env["DBT_TARGET_PATH"] = str(ROOT / "target-spark")
    env["DBT_LOG_PATH"] = str(ROOT / "logs-spark")
    env["PATH"] = str(SPARK_BIN) + os.pathsep + env.get("PATH", "")
    return env


def test_spark(extra: list[str]) -> None:
    """The parity check of issue 16: the DuckDB build (make build; up to date = incremental no-op),
    then the demo on a local Spark from scratch with every data test, then each mart compared."""
    started = time.perf_counter()
    build([])
    duckdb_seconds = time.perf_counter() - started
    setup_spark()
    env = spark_env()
    spark_dir = Path(env["CRM_SPARK_WAREHOUSE"])
    if spark_dir.exists():
        shutil.rmtree(spark_dir)  # every Spark build starts from nothing (no incremental state there)
    spark_dir.mkdir(parents=True)
    spark_started = time.perf_counter()
    command = [
        str(SPARK_BIN / ("dbt.exe" if os.name == "nt" else "dbt")),
        "build",
        "--target",
        "spark",
        "--full-refresh",
        *PRODUCTION_BUILD_ARGS,
        *extra,
    ]
    run(command, env=env)
    spark_seconds = time.perf_counter() - spark_started
    log(f"Spark build with its data tests: {spark_seconds:.1f} s (DuckDB build step: {duckdb_seconds:.1f} s)")
    code = run(
        [
            venv_tool("python"),
            str(ROOT / "scripts" / "spark_parity.py"),
            "--duckdb",
            env["CRM_DUCKDB_PATH"],
            "--spark-warehouse",
            env["CRM_SPARK_WAREHOUSE"],
            "--spark-manifest",
            str(Path(env["DBT_TARGET_PATH"]) / "manifest.json"),
        ],
        env=project_env(),
        check=False,
    )
    if code != 0:
        log("Spark and DuckDB marts differ (see the table above)")
        sys.exit(code)
    log(f"test-spark passed in {time.perf_counter() - started:.1f} s")


# ---------------------------------------------------------------------------------------------
# orchestration (Dagster, docs/orchestration.md)
# ---------------------------------------------------------------------------------------------
ORCH_VENV = ROOT / ".venv-orchestration"
ORCH_REQUIREMENTS = ROOT / "requirements-orchestration.txt"
ORCH_BIN = ORCH_VENV / ("Scripts" if os.name == "nt" else "bin")
ORCH_PYTHON = ORCH_BIN / ("python.exe" if os.name == "nt" else "python")
DAGSTER_YAML = ROOT / "orchestration" / "dagster.yaml"


def setup_orchestration() -> None:
    """Create .venv-orchestration (Dagster, its web UI, dagster-dbt) when missing or when
    requirements-orchestration.txt changed. Apart from .venv: dagster needs watchdog < 7, streamlit
    watchdog 7. dbt runs from .venv; the code location finds orchestration/ and src/ on PYTHONPATH
    (orchestration_env)."""
    setup()
    wanted = hashlib.sha256(ORCH_REQUIREMENTS.read_bytes() + PYPROJECT.read_bytes()).hexdigest()
    stamp = ORCH_VENV / ".requirements.sha256"
    if not ORCH_PYTHON.exists():
        log(f"creating virtual environment {ORCH_VENV}")
        run([sys.executable, "-m", "venv", str(ORCH_VENV)])
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        log("installing requirements-orchestration.txt into .venv-orchestration (first run only)")
        started = time.perf_counter()
        pip = [str(ORCH_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        run([*pip, "-r", str(ORCH_REQUIREMENTS)])
        stamp.write_text(wanted)
        log(f"orchestration requirements installed in {time.perf_counter() - started:.0f} s")


def orchestration_env() -> dict[str, str]:
    """project_env plus DAGSTER_HOME (default <warehouse folder>/dagster, holding the run history,
    the schedules' and sensors' state and dagster.yaml: one run at a time) and the dbt that the
    assets run (.venv's)."""
    env = project_env()
    home = Path(env.get("DAGSTER_HOME") or Path(env["CRM_DUCKDB_PATH"]).parent / "dagster")
    if not home.is_absolute():
        home = (Path.cwd() / home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    template = DAGSTER_YAML.read_text(encoding="utf-8")
    if not config.exists() or config.read_text(encoding="utf-8") != template:
        config.write_text(template, encoding="utf-8")  # the repository's copy is the one to edit
    env.setdefault("CRM_DBT_EXECUTABLE", venv_tool("dbt"))
    env["PATH"] = str(ORCH_BIN) + os.pathsep + env.get("PATH", "")
    paths = [str(ROOT), str(ROOT / "src"), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    return env


def orchestrate(extra: list[str]) -> None:
    """`dagster dev`: the web UI and the daemon (sensor, schedule, run queue) on 127.0.0.1:3000
    (CRM_DAGSTER_HOST, CRM_DAGSTER_PORT). Ctrl-C (or SIGTERM from a service manager) stops
    dagster dev, which stops its webserver, daemon and code server; whatever is left after 60 s
    is killed with its whole process group, so nothing keeps running."""
    import signal

    setup_orchestration()
    env = orchestration_env()
    host = env.get("CRM_DAGSTER_HOST", "127.0.0.1")
    port = env.get("CRM_DAGSTER_PORT", "3000")
    command = [
        str(ORCH_BIN / ("dagster.exe" if os.name == "nt" else "dagster")),
        "dev",
        "--host",
        host,
        "--port",
        port,
        "--working-directory",
        str(ROOT),
        "--module-name",
        "orchestration.definitions",
        *extra,
    ]
    log(f"raw folder {env['CRM_RAW_DIR']} -> warehouse {env['CRM_DUCKDB_PATH']}; DAGSTER_HOME {env['DAGSTER_HOME']}")
    log("$ " + " ".join(command))
    options: dict = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {"start_new_session": True}
    )
    process = subprocess.Popen(command, cwd=ROOT, env=env, **options)
    log(f"Dagster UI: http://{host}:{port}  (Ctrl-C stops the UI, the daemon and any run in progress)")

    def stop_requested(signum, frame):  # SIGTERM (systemd stop, kill) ends like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_requested)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        log("stopping Dagster (webserver, daemon, code server)")
        try:
            if os.name == "nt":
                process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(process.pid, signal.SIGINT)
            code = process.wait(timeout=60)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            code = 1
        finally:
            if os.name == "nt":
                subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
            else:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # anything left of the group
                except ProcessLookupError:
                    pass
        log("Dagster stopped")
    sys.exit(0 if code in (0, -signal.SIGINT, 130) else code)


def test_orchestration(extra: list[str]) -> None:
    """The orchestration tests (orchestration/tests) with .venv-orchestration's pytest: the
    definitions load, a full materialisation on the demo data, the landing-folder sensor, a failed
    gate, and the UI that `orchestrate` starts."""
    setup_orchestration()
    env = orchestration_env()
    env.pop("DAGSTER_HOME", None)  # every test gets its own, under its temporary folder
    started = time.perf_counter()
    code = run(
        [str(ORCH_PYTHON), "-m", "pytest", "orchestration/tests", "-p", "no:cacheprovider", *extra],
        env=env,
        check=False,
    )
    log(f"test-orchestration: pytest {time.perf_counter() - started:.0f} s")
    if code != 0:
        sys.exit(code)


def freshness() -> None:
    setup()
    dbt(["source", "freshness"], project_env())


def app() -> None:
    setup()
    env = project_env()
    run(
        [
            venv_tool("streamlit"),
            "run",
            str(ROOT / "app" / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
    )


def bench(extra: list[str]) -> None:
    setup()
    sizes = extra[0] if extra and not extra[0].startswith("-") else "1M"
    rest = extra[1:] if extra and not extra[0].startswith("-") else extra
    run([venv_tool("python"), str(ROOT / "scripts" / "benchmark.py"), "--sizes", sizes, *rest], env=project_env())


def bench_app(extra: list[str]) -> None:
    setup()
    run([venv_tool("python"), str(ROOT / "scripts" / "bench_app.py"), *extra], env=project_env())


def docs() -> None:
    setup()
    dbt(["docs", "generate"], project_env())


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    command, extra = argv[0], argv[1:]
    if command == "setup":
        setup()
    elif command == "build":
        build(extra)
    elif command == "test":
        test(extra)
    elif command == "lint":
        lint()
    elif command == "docs":
        docs()
    elif command == "bench":
        bench(extra)
    elif command == "bench-app":
        bench_app(extra)
    elif command == "app":
        app()
    elif command == "freshness":
        freshness()
    elif command == "refresh":
        refresh(extra)
    elif command == "test-spark":
        test_spark(extra)
    elif command == "orchestrate":
        orchestrate(extra)
    elif command == "test-orchestration":
        test_orchestration(extra)
    else:
        sys.exit(f"unknown command {command!r}; see --help")


if __name__ == "__main__":
    main(sys.argv[1:])
