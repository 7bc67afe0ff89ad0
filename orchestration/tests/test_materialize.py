"""A full materialisation of every asset on the demo data, in-process: the dbt build with its
asset checks, the publish step; then a failed quality gate fails the run with the gate's
explanation and leaves the serving file as it was; the next run after the fix catches up."""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crm_warehouse import landing
from orchestration.definitions import RAW_SOURCES, RUNS_DIR, crm_dbt_assets, dbt_resource

from .conftest import point_at


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def materialize(instance):
    return dg.materialize(
        [crm_dbt_assets, *RAW_SOURCES],
        selection=dg.AssetSelection.assets(crm_dbt_assets),
        resources={"dbt": dbt_resource()},
        instance=instance,
        raise_on_error=False,
    )


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_full_materialisation_then_a_failed_gate_then_the_catch_up(demo_copy, tmp_path, monkeypatch, instance):
    warehouse = tmp_path / "wh"
    point_at(monkeypatch, demo_copy, warehouse)
    monkeypatch.setenv("CRM_DAGSTER_KEEP_DBT_RUNS", "2")
    serving = warehouse / "crm_serving.duckdb"

    # 1. everything, from nothing
    result = materialize(instance)
    assert result.success
    materialized = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
    assert {"fct_customer_monthly_snapshot", "kpi_monthly_board", "fct_sales", "publish_serving"} <= materialized
    assert len(materialized) >= 60
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) > 100
    failed = [
        evaluation.check_name
        for evaluation in evaluations
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert not failed
    assert serving.exists()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from kpi_monthly_board").fetchone()[0] > 0
    observed = [
        event.asset_observation_data.asset_observation
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    publish = [obs for obs in observed if obs.asset_key.path[-1] == "publish_serving"]
    assert publish and publish[0].metadata["published"].value is True
    assert landing.last_built(warehouse / "crm.duckdb") == landing.fingerprint(landing.folder_state(demo_copy))
    published = sha(serving)

    # 2. a customers file with 20% invalid ids fails the reject-share gate: the run fails with the
    # gate's explanation; nothing is published
    customers = demo_copy / "customers_master.csv"
    good = customers.read_bytes()
    header, *rows = good.decode().splitlines()
    customers.write_text("\n".join([header, *("!" + row if i % 5 == 0 else row for i, row in enumerate(rows))]) + "\n")
    result = materialize(instance)
    assert not result.success
    failures = [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1
    failure = failures[0].step_failure_data
    description = failure.user_failure_data.description
    assert "customers_reject_share" in description and "Nothing was published" in description, description
    gates = failure.user_failure_data.metadata["quality gates"].value
    assert "FAIL customers_reject_share" in gates, gates
    dbt_log = Path(failure.user_failure_data.metadata["dbt log"].value)
    assert dbt_log.parent.parent == RUNS_DIR and dbt_log.exists()
    assert sha(serving) == published
    checks = {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}
    assert any(name.startswith("crm_reject_share") or "reject_share" in name for name, ok in checks.items() if not ok)

    # 3. the file fixed: the next run catches up and publishes
    customers.write_bytes(good)
    result = materialize(instance)
    assert result.success
    assert sha(serving) != published
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from dim_customers").fetchone()[0] > 0
    assert len([path for path in RUNS_DIR.iterdir() if path.is_dir()]) <= 2  # older run folders pruned
