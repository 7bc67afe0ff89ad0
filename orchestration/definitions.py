"""Dagster code location of the CRM warehouse (docs/orchestration.md).

- every dbt seed and model an asset, with its lineage, from dbt's manifest (dagster-dbt), grouped by
  layer (reference, staging, intermediate, marts, build, serving); every dbt data test an asset check;
- the publish step (models/serving/publish_serving.py, dbt's last node: the serving file + Parquet)
  is the asset `publish_serving`, downstream of every mart: its last materialisation is when BI last
  got fresh data; after each build its metadata tells what was published;
- the raw files are observable source assets (crm/<source table>), their data version the files'
  fingerprint, so the UI shows which marts are older than the landing folder;
- one job, `crm_refresh`, builds everything as `make build` does (scripts/tasks.py build_args: the
  incremental build, a full refresh after a change of raw folder or of the project's rules; unit
  tests excluded); a failed quality gate fails the run with the gate's explanation;
- the sensor `crm_landing_sensor` requests one build per stable new state of the landing folder
  (crm_warehouse.landing), the schedule `crm_monthly_refresh` is the safety net.

Settings (environment): CRM_RAW_DIR, CRM_DUCKDB_PATH, ... as everywhere; CRM_DBT_EXECUTABLE (default
.venv's dbt); CRM_DAGSTER_STABLE_SECONDS (60), CRM_DAGSTER_SENSOR_INTERVAL (30),
CRM_DAGSTER_SCHEDULE ("0 6 1 * *"), CRM_DAGSTER_TIMEZONE ("UTC"), CRM_DAGSTER_KEEP_DBT_RUNS (20).
"""

import importlib.util
import json
import os
import subprocess
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from crm_warehouse import landing  # .venv-orchestration finds it on PYTHONPATH (scripts/tasks.py orchestration_env)

ROOT = Path(__file__).resolve().parent.parent


def _load_tasks():
    """scripts/tasks.py (standard library only): the one home of the build's settings and rules."""
    spec = importlib.util.spec_from_file_location("crm_tasks", ROOT / "scripts" / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


tasks = _load_tasks()

MANIFEST_DIR = ROOT / "target" / "dagster"
# one dbt target folder per run (its run_results.json, dbt.log, compiled SQL; about 20 MB on the demo),
# the newest CRM_DAGSTER_KEEP_DBT_RUNS kept
RUNS_DIR = ROOT / "target" / "dagster-runs"
GATE_MARKER = tasks.GATE_MARKER


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def dbt_executable() -> str:
    return setting("CRM_DBT_EXECUTABLE", tasks.venv_tool("dbt"))


def build_env() -> dict[str, str]:
    """The environment of the dbt commands: scripts/tasks.py project_env (absolute CRM_RAW_DIR and
    CRM_DUCKDB_PATH, DBT_PROFILES_DIR, the temp folder)."""
    return tasks.project_env()


def ensure_manifest() -> Path:
    """target/dagster/manifest.json from `dbt parse`, parsed again when the project changed
    (scripts/tasks.py project_fingerprint; the stamp beside the manifest)."""
    manifest = MANIFEST_DIR / "manifest.json"
    stamp = MANIFEST_DIR / "project.sha256"
    wanted = tasks.project_fingerprint()
    if manifest.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return manifest
    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    env = {**build_env(), "DBT_TARGET_PATH": str(MANIFEST_DIR), "DBT_LOG_PATH": str(MANIFEST_DIR / "logs")}
    result = subprocess.run(
        [dbt_executable(), "parse", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not manifest.exists():
        raise RuntimeError(
            f"dbt parse failed (exit {result.returncode}), so the assets cannot be defined:\n"
            f"{(result.stdout + result.stderr).strip()[-4000:]}"
        )
    stamp.write_text(wanted + "\n")
    return manifest


MANIFEST_PATH = ensure_manifest()
MANIFEST = json.loads(MANIFEST_PATH.read_text())


class CrmTranslator(DagsterDbtTranslator):
    """Assets grouped by layer; the publish node described as the serving file it writes."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        kind = dbt_resource_props["resource_type"]
        if kind == "seed":
            return "reference"
        if kind == "source":
            return "raw_landing"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "default"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["name"] == "publish_serving":
            return (
                "The publish step: the serving file (crm_serving.duckdb) and the Parquet files for Power BI, "
                "written only when every model and data test of the build passed. Its last materialisation "
                "is when BI last got fresh data.\n\n" + super().get_description(dbt_resource_props)
            )
        return super().get_description(dbt_resource_props)


TRANSLATOR = CrmTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def node_name(unique_id: str) -> str:
    """The name of a dbt node from its unique id (a test's id ends with a hash: test.project.name.hash)."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] == "test" and len(parts) > 3 else parts[-1]


def gate_lines(log_path: Path) -> list[str]:
    """The "crm gate" lines of a dbt run (on-run-end hook crm_explain_test_failures): the failed
    and warning tests with what failed, where, examples and the fix; failures first."""
    # dbt rotates its log file at 10 MB (dbt.log.1, dbt.log.2, ...: older first when read backwards)
    rotated = sorted(log_path.parent.glob(log_path.name + ".*"), key=lambda path: -int(path.suffix[1:] or 0))
    files = [path for path in [*rotated, log_path] if path.exists() and (path == log_path or path.suffix[1:].isdigit())]
    if not files:
        return []
    lines: list[str] = []
    raws = [line for path in files for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    for raw in raws:
        if GATE_MARKER not in raw:
            continue
        message = raw
        if raw.lstrip().startswith("{"):
            try:
                message = json.loads(raw)["info"]["msg"]
            except (ValueError, KeyError, TypeError):
                pass
        for line in str(message).splitlines():
            if GATE_MARKER in line:
                lines.append(line.split(GATE_MARKER, 1)[1].rstrip())
    seen: set[str] = set()
    unique = [line for line in lines if not (line in seen or seen.add(line))]
    return [line for group in tasks.gate_groups(unique) for line in group]


def prune_run_folders(keep: int) -> None:
    """Delete all but the `keep` newest dbt target folders of earlier runs."""
    import shutil

    folders = sorted((path for path in RUNS_DIR.glob("*") if path.is_dir()), key=lambda path: path.name)
    for folder in folders[: max(len(folders) - max(keep, 0), 0)]:
        shutil.rmtree(folder, ignore_errors=True)


def published_summary(duckdb_path: str) -> dict[str, Any]:
    """What the publish node of the build recorded (serving.publish_serving) and the data's date."""
    import duckdb

    with duckdb.connect(duckdb_path, read_only=True) as con:
        rows = con.execute("select mart_name, published, note, serving_path from serving.publish_serving").fetchall()
        latest = con.execute("select max(invoice_date) from marts.fct_sales").fetchall()[0][0]
    return {"rows": rows, "latest": str(latest)}


@dbt_assets(manifest=MANIFEST, dagster_dbt_translator=TRANSLATOR, name="crm_dbt_assets")
def crm_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected seeds and models with their data tests (the quality gates) and
    the publish step, as `make build` runs it."""
    env = build_env()
    os.environ.update({key: value for key, value in env.items() if key.startswith(("CRM_", "DBT_PROFILES"))})
    reason = tasks.locked_reason(env)
    if reason:
        raise dg.Failure(description=reason + ". Close that program; BI tools should open the serving file.")
    state = landing.folder_state(Path(env["CRM_RAW_DIR"]), landing.campaign_dir(Path(env["CRM_RAW_DIR"]), env))
    project = tasks.project_fingerprint()
    args = tasks.build_args(env, [], project, say=context.log.info)
    context.log.info(f"raw folder {env['CRM_RAW_DIR']} -> warehouse {env['CRM_DUCKDB_PATH']}: dbt {' '.join(args)}")
    target = RUNS_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{context.run.run_id[:8]}"
    prune_run_folders(keep=int(setting("CRM_DAGSTER_KEEP_DBT_RUNS", "20")) - 1)
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    yield from invocation.stream()
    if not invocation.is_successful():
        gates = gate_lines(invocation.target_path / "dbt.log")
        failed = []
        try:
            failed = [
                result["unique_id"]
                for result in invocation.get_artifact("run_results.json")["results"]
                if result.get("status") in {"error", "fail", "runtime error"}
            ]
        except (OSError, ValueError, KeyError):
            pass
        first = next((gate for gate in gates if gate.startswith(("FAIL", "ERROR"))), None)
        raise dg.Failure(
            description=(
                f"dbt build failed ({', '.join(node_name(name) for name in failed[:5]) or 'see the dbt log'})"
                + (f": {first}" if first else "")
                + ". Nothing was published: the serving file stays as it was. Fix the data or the rule, then "
                "the next run catches up (docs/orchestration.md)."
            ),
            metadata={
                "quality gates": dg.MetadataValue.md(
                    "\n".join(f"    {line}" for line in gates) if gates else "(no quality gate explained the failure)"
                ),
                "failed nodes": dg.MetadataValue.json(failed),
                "dbt log": dg.MetadataValue.path(str(invocation.target_path / "dbt.log")),
            },
        )
    if set(context.selected_asset_keys) >= set(crm_dbt_assets.keys):
        # only a build of everything records the raw folder, project version and landing state it
        # was built from (a subset picked in the UI leaves the rest as it was)
        tasks.mark_built(env, project)
        landing.built_marker(env["CRM_DUCKDB_PATH"]).write_text(landing.fingerprint(state) + "\n")
    publish_key = TRANSLATOR.get_asset_key(
        next(node for node in MANIFEST["nodes"].values() if node["name"] == "publish_serving")
    )
    if publish_key in context.selected_asset_keys:
        summary = published_summary(env["CRM_DUCKDB_PATH"])
        rows = summary["rows"]
        published = bool(rows) and all(row[1] for row in rows) and rows[0][0] is not None
        context.log.info(
            f"{len(rows)} marts published to {rows[0][3]}, sales up to {summary['latest']}"
            if published
            else f"not published: {rows[0][2] if rows else 'no publish record'}"
        )
        yield dg.AssetObservation(
            asset_key=publish_key,
            metadata={
                "published": published,
                "marts": len(rows) if published else 0,
                "serving file": dg.MetadataValue.path(str(rows[0][3]) if rows and rows[0][3] else ""),
                "sales up to": summary["latest"],
                "note": str(rows[0][2]) if rows and rows[0][2] else "",
            },
        )


def _source_observer(source: Mapping[str, Any]):
    """An observable source asset per raw source table: its files' fingerprint as data version."""
    key = TRANSLATOR.get_asset_key(source)
    pattern = source.get("meta", {}).get("raw_file") or source.get("config", {}).get("meta", {}).get("raw_file")
    in_campaigns = source["name"] == "campaign_members"

    @dg.observable_source_asset(
        key=key,
        group_name="raw_landing",
        description=f"Raw files `{pattern}` of the landing folder (CRM_RAW_DIR"
        + (", campaigns folder CRM_CAMPAIGN_DIR" if in_campaigns else "")
        + f"). {source.get('description', '')}",
    )
    def observe(context) -> dg.ObserveResult:
        raw_dir = Path(build_env()["CRM_RAW_DIR"])
        folder = landing.campaign_dir(raw_dir) if in_campaigns else raw_dir
        files = {path.name: path.stat() for path in sorted(folder.glob(pattern or "*.csv")) if path.is_file()}
        state = {name: (stat.st_size, stat.st_mtime_ns) for name, stat in files.items()}
        latest = max((mtime for _, mtime in state.values()), default=None)
        return dg.ObserveResult(
            data_version=dg.DataVersion(landing.fingerprint(state)[:16]),
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                "files": len(state),
                "bytes": sum(size for size, _ in state.values()),
                "latest change (UTC)": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(latest / 1e9)) if latest else "",
            },
        )

    return observe


with warnings.catch_warnings():  # observable_source_asset is marked beta in Dagster 1.13
    warnings.filterwarnings("ignore", message=".*observable_source_asset.*")
    RAW_SOURCES = [_source_observer(source) for source in MANIFEST["sources"].values()]

crm_refresh = dg.define_asset_job(
    "crm_refresh",
    selection=dg.AssetSelection.assets(crm_dbt_assets),
    description="dbt build of the whole warehouse (incremental) with its quality gates, then the publish step",
)


@dg.sensor(
    job=crm_refresh,
    minimum_interval_seconds=int(setting("CRM_DAGSTER_SENSOR_INTERVAL", "30")),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One incremental build when a raw file appears, grows, changes or leaves the landing folder "
    "(CRM_RAW_DIR), once every file has kept its size and modification time for CRM_DAGSTER_STABLE_SECONDS; "
    "run key = the folder's fingerprint.",
)
def crm_landing_sensor(context: dg.SensorEvaluationContext):
    env = build_env()
    raw_dir = Path(env["CRM_RAW_DIR"])
    state = landing.folder_state(raw_dir, landing.campaign_dir(raw_dir, env))
    decision = landing.evaluate(
        state,
        context.cursor,
        now=time.time(),
        stable_seconds=float(setting("CRM_DAGSTER_STABLE_SECONDS", "60")),
        last_built=landing.last_built(env["CRM_DUCKDB_PATH"]),
    )
    context.update_cursor(decision.cursor)
    if decision.run_key is None:
        return dg.SkipReason(decision.reason)
    return dg.RunRequest(run_key=decision.run_key, tags={"crm/landing_fingerprint": decision.run_key})


crm_monthly_refresh = dg.ScheduleDefinition(
    name="crm_monthly_refresh",
    job=crm_refresh,
    cron_schedule=setting("CRM_DAGSTER_SCHEDULE", "0 6 1 * *"),
    execution_timezone=setting("CRM_DAGSTER_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The safety net: a build on the first of the month at 06:00 (CRM_DAGSTER_SCHEDULE, "
    "CRM_DAGSTER_TIMEZONE) whatever the sensor saw.",
)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=str(ROOT), profiles_dir=str(ROOT), dbt_executable=dbt_executable())


defs = dg.Definitions(
    assets=[crm_dbt_assets, *RAW_SOURCES],
    jobs=[crm_refresh],
    sensors=[crm_landing_sensor],
    schedules=[crm_monthly_refresh],
    resources={"dbt": dbt_resource()},
)
