"""The code location loads: every dbt seed and model an asset with its lineage, the data tests as
asset checks, the raw files as observable sources, the sensor, the schedule, one run at a time."""

import json
from pathlib import Path

import dagster as dg
import yaml

from orchestration import definitions
from orchestration.definitions import defs

ROOT = Path(__file__).resolve().parents[2]


def graph():
    return defs.get_repository_def().asset_graph


def keys_by_name() -> dict[str, dg.AssetKey]:
    return {key.path[-1]: key for key in graph().get_all_asset_keys()}


def manifest() -> dict:
    return json.loads(definitions.MANIFEST_PATH.read_text())


def test_every_seed_and_model_is_an_asset_in_its_layer():
    nodes = [node for node in manifest()["nodes"].values() if node["resource_type"] in {"model", "seed"}]
    enabled = [node for node in nodes if node["config"].get("enabled", True)]
    assert len(enabled) > 50
    keys = keys_by_name()
    missing = [node["name"] for node in enabled if node["name"] not in keys]
    assert not missing
    groups = {name: graph().get(key).group_name for name, key in keys.items()}
    assert groups["fct_customer_monthly_snapshot"] == "marts"
    assert groups["kpi_monthly_board"] == "marts"
    assert groups["int_report_months"] == "intermediate"
    assert groups["int_build_changes"] == "intermediate"
    assert groups["int_build_completed"] == "build"  # the last model of the DAG (docs/incremental.md)
    assert groups["stg_crm__sales_transactions"] == "staging"
    assert groups["rfm_segments"] == "reference"
    assert groups["publish_serving"] == "serving"


def test_lineage_runs_from_the_raw_files_to_the_publish_step():
    keys = keys_by_name()
    asset_graph = graph()
    publish = asset_graph.get(keys["publish_serving"])
    marts = [key for name, key in keys.items() if asset_graph.get(key).group_name == "marts"]
    assert len(marts) >= 19
    # the publish step descends from every mart (directly: publish_serving.py refs each one)
    assert set(marts) <= set(publish.parent_keys)
    # the staging models descend from the raw files, which are observable source assets
    raw = keys["sales_transactions"]
    assert raw.path == ["crm", "sales_transactions"]
    assert asset_graph.get(raw).is_observable
    assert raw in asset_graph.get(keys["base_crm__sales_transaction_lines"]).parent_keys
    assert keys["stg_crm__sales_transactions"] in asset_graph.get(keys["int_sales_lines__enriched"]).parent_keys


def test_data_tests_are_asset_checks():
    tests = [node for node in manifest()["nodes"].values() if node["resource_type"] == "test"]
    checks = list(graph().asset_check_keys)
    assert len(checks) > 100
    on_snapshot = [check for check in checks if check.asset_key.path[-1] == "fct_customer_monthly_snapshot"]
    assert on_snapshot, "the snapshot's data tests are checks of its asset"
    assert len(checks) <= len(tests)


def test_sensor_schedule_and_job():
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("crm_landing_sensor")
    assert sensor.job_name == "crm_refresh"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    schedule = repository.get_schedule_def("crm_monthly_refresh")
    assert schedule.cron_schedule == "0 6 1 * *"
    assert schedule.job_name == "crm_refresh"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = repository.get_job("crm_refresh")
    assert job is not None


def test_dagster_home_runs_one_build_at_a_time(tmp_path):
    """DuckDB has one writer: DAGSTER_HOME's dagster.yaml queues runs, one at a time."""
    config = yaml.safe_load((ROOT / "orchestration" / "dagster.yaml").read_text())
    assert config["run_queue"]["max_concurrent_runs"] == 1
    (tmp_path / "dagster.yaml").write_text((ROOT / "orchestration" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1


def test_raw_files_are_observed_with_their_fingerprint(tmp_path, monkeypatch):
    """Observing the raw sources records the files' fingerprint as data version: it changes when a
    file of that source grows, and only for that source."""
    import shutil

    from dagster._core.definitions.observe import observe  # in-process observation (no public alias)

    from orchestration.definitions import RAW_SOURCES

    from .conftest import DEMO, point_at

    raw = tmp_path / "raw"
    shutil.copytree(DEMO, raw)
    point_at(monkeypatch, raw, tmp_path / "wh")

    def versions() -> dict[str, str]:
        result = observe(RAW_SOURCES, instance=dg.DagsterInstance.ephemeral())
        assert result.success
        return {
            event.asset_observation_data.asset_observation.asset_key.path[-1]: (
                event.asset_observation_data.asset_observation.tags["dagster/data_version"]
            )
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION
        }

    before = versions()
    assert set(before) == {"sales_transactions", "customers_master", "products_master", "campaign_members"}
    with (raw / "sales_transactions_2025.csv").open("a") as handle:
        handle.write("INV9,C0000001,2025-12-30,P0001,1,10.00,S001\n")
    after = versions()
    assert after["sales_transactions"] != before["sales_transactions"]
    assert {name: after[name] for name in after if name != "sales_transactions"} == {
        name: before[name] for name in before if name != "sales_transactions"
    }
