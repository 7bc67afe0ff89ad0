#!/usr/bin/env python3
"""One entry point for the project's chores, on Linux, macOS and Windows.

    python scripts/tasks.py build [dbt args...]   set up .venv if needed, build the warehouse and
                                                   publish the marts (serving DuckDB file + Parquet;
                                                   dbt build's last node publishes)
    python scripts/tasks.py test                   sqlfluff + full dbt build with tests + pytest
    python scripts/tasks.py lint                   sqlfluff only
    python scripts/tasks.py docs                   dbt docs generate
    python scripts/tasks.py bench [1M,10M,...]    benchmark full / incremental builds vs the raw floor
    python scripts/tasks.py app                    self-service Streamlit app on the serving file
    python scripts/tasks.py freshness              dbt source freshness of the raw landing folder
    python scripts/tasks.py setup                  create .venv and install requirements.txt

The Makefile targets call this script. Settings come from the environment:
CRM_RAW_DIR (raw landing folder, default data/demo), CRM_DUCKDB_PATH (build warehouse file,
default warehouse/crm.duckdb). Only the standard library is used here, so any Python 3.11 runs it.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
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
    if sys.version_info[:2] < (3, 11):
        sys.exit("Python 3.11 or newer is required (found %s)." % sys.version.split()[0])
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not Path(venv_tool("python")).exists():
        log(f"creating virtual environment {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        log("installing pinned requirements (first run only)")
        run([venv_tool("python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             "-r", str(REQUIREMENTS)])
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


def dbt(args: list[str], env: dict[str, str]) -> None:
    """Run dbt, echoing its output; the quality gates that warned or failed are repeated at the end.

    The on-run-end hook crm_explain_test_failures writes one "crm gate" line per failed or warning
    test (what failed, where, how many, examples, the fix); they are easy to miss among hundreds of
    nodes, so they are printed again as the build's own summary, before the exit code is passed on.
    """
    command = [venv_tool("dbt"), *args]
    log("$ " + " ".join(command))
    gate_lines: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, encoding="utf-8", errors="replace", bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if GATE_MARKER in line:
                gate_lines.append(line.split(GATE_MARKER, 1)[1].rstrip())
        code = process.wait()
    if gate_lines:
        # one group per test (its header line, then its indented detail lines); failures first
        groups: list[list[str]] = []
        for line in gate_lines:
            if line.startswith(" ") and groups:
                groups[-1].append(line)
            else:
                groups.append([line])
        groups.sort(key=lambda group: 0 if group[0].startswith(("FAIL", "ERROR")) else 1)
        failed = groups[0][0].startswith(("FAIL", "ERROR"))
        log("quality gates that " + ("failed or warned" if failed else "warned") + " (details above in the dbt log):")
        for group in groups:
            for line in group:
                print(f"[crm]   {line}", flush=True)
    if code != 0:
        log(f"failed with exit code {code}: {' '.join(command)}")
        sys.exit(code)


def check_not_locked(env: dict[str, str]) -> None:
    """Fail early, and clearly, when another program holds the build warehouse file open."""
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
        sys.exit(
            f"[crm] the build warehouse {env['CRM_DUCKDB_PATH']} is open in another program, so dbt cannot "
            f"write it:\n  {result.stderr.strip() or result.stdout.strip()}\n"
            "Close that program (notebook, DuckDB CLI, BI tool). BI tools should open the serving file "
            "(warehouse/crm_serving.duckdb, see docs/powerbi.md), which never blocks a build."
        )


def project_fingerprint() -> str:
    """SHA-256 of everything that decides the warehouse's rows: models, macros, seeds, tests' SQL
    and dbt_project.yml (file names and contents, line endings normalised)."""
    digest = hashlib.sha256()
    files = [ROOT / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds"):
        files += sorted(path for path in (ROOT / folder).rglob("*") if path.is_file())
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()


# A production build runs the models and the data tests (the quality gates) but not the unit tests:
# their inputs are fixed, so they prove the code, not the data; `make test` (CI) runs them. This is
# dbt's own recommendation for unit tests.
PRODUCTION_BUILD_ARGS = ["--exclude-resource-type", "unit_test"]


def build(extra: list[str]) -> None:
    """dbt build; its last node (models/serving/publish_serving.py) publishes the serving file."""
    setup()
    env = project_env()
    check_not_locked(env)
    log(f"raw folder {env['CRM_RAW_DIR']} -> warehouse {env['CRM_DUCKDB_PATH']}")
    # The incremental models keep published months; history built from another raw folder would
    # silently mix with this one, so a change of raw folder forces a full refresh.
    # Likewise rows written by an older version of the project's SQL (an upgrade, a changed rule or
    # a new column) must not stay beside new ones: a change of models, macros, seeds or
    # dbt_project.yml since the last build forces a full refresh too.
    marker = Path(env["CRM_DUCKDB_PATH"] + ".raw_dir")
    project_marker = Path(env["CRM_DUCKDB_PATH"] + ".project")
    fingerprint = project_fingerprint()
    if Path(env["CRM_DUCKDB_PATH"]).exists() and "--full-refresh" not in extra:
        previous = marker.read_text().strip() if marker.exists() else None
        previous_project = project_marker.read_text().strip() if project_marker.exists() else None
        if previous != env["CRM_RAW_DIR"]:
            log(f"warehouse was last built from {previous or 'an unknown folder'}: full refresh")
            extra = [*extra, "--full-refresh"]
        elif previous_project != fingerprint:
            log("the project's models, macros, seeds or settings changed since the last build: full refresh")
            extra = [*extra, "--full-refresh"]
    started = time.perf_counter()
    dbt(["build", *PRODUCTION_BUILD_ARGS, *extra], env)
    marker.write_text(env["CRM_RAW_DIR"] + "\n")
    project_marker.write_text(fingerprint + "\n")
    log(f"warehouse built and published in {time.perf_counter() - started:.1f} s")


def lint() -> None:
    setup()
    env = project_env()
    run([venv_tool("sqlfluff"), "lint", "models", "data_tests", "--processes", "2"], env=env)


def test(extra: list[str]) -> None:
    setup()
    lint()
    env = project_env()
    check_not_locked(env)
    dbt(["build", "--full-refresh"], env)  # publishes the serving file as its last node
    code = run([venv_tool("python"), "-m", "pytest", "tests", *extra], env=env, check=False)
    if code == 5:
        log("pytest collected no tests: the test suite is missing")
        sys.exit(1)
    if code != 0:
        sys.exit(code)


def freshness() -> None:
    setup()
    dbt(["source", "freshness"], project_env())


def app() -> None:
    setup()
    env = project_env()
    run([venv_tool("streamlit"), "run", str(ROOT / "app" / "streamlit_app.py"), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"], env=env)


def bench(extra: list[str]) -> None:
    setup()
    sizes = extra[0] if extra and not extra[0].startswith("-") else "1M"
    rest = extra[1:] if extra and not extra[0].startswith("-") else extra
    run([venv_tool("python"), str(ROOT / "scripts" / "benchmark.py"), "--sizes", sizes, *rest], env=project_env())


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
    elif command == "app":
        app()
    elif command == "freshness":
        freshness()
    else:
        sys.exit(f"unknown command {command!r}; see --help")


if __name__ == "__main__":
    main(sys.argv[1:])
