"""The landing-folder sensor: one build per new stable state of the folder, none for an unchanged
folder, none while a file is still being written (crm_warehouse.landing, orchestration/definitions.py).
Time is passed in (evaluate's `now`), never waited for."""

import json

import dagster as dg

from crm_warehouse import landing
from orchestration.definitions import crm_landing_sensor

from .conftest import point_at


def tick(cursor=None):
    context = dg.build_sensor_context(cursor=cursor)
    result = crm_landing_sensor(context)
    return result, context.cursor


def test_a_new_file_requests_one_build_keyed_by_the_folders_fingerprint(demo_copy, tmp_path, monkeypatch):
    point_at(monkeypatch, demo_copy, tmp_path / "wh")
    monkeypatch.setenv("CRM_DAGSTER_STABLE_SECONDS", "0")
    before = landing.fingerprint(landing.folder_state(demo_copy))
    landing.built_marker(tmp_path / "wh" / "crm.duckdb").parent.mkdir(parents=True)
    landing.built_marker(tmp_path / "wh" / "crm.duckdb").write_text(before + "\n")  # built from this state

    result, cursor = tick()
    assert isinstance(result, dg.SkipReason) and "unchanged since the last successful build" in result.skip_message

    (demo_copy / "sales_transactions_2026.csv").write_text(
        "invoice_id,customer_id,invoice_date,product_id,quantity,revenue,store_id\n"
        "INV9,C0000001,2026-01-05,P0001,1,10.00,S001\n"
    )
    result, cursor = tick(cursor)
    after = landing.fingerprint(landing.folder_state(demo_copy))
    assert isinstance(result, dg.RunRequest), result
    assert result.run_key == after != before
    assert result.tags["crm/landing_fingerprint"] == after

    # the same state is never requested twice, even before its build ran
    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason) and "already requested" in result.skip_message


def test_an_unchanged_folder_requests_nothing(demo_copy, tmp_path, monkeypatch):
    point_at(monkeypatch, demo_copy, tmp_path / "wh")
    monkeypatch.setenv("CRM_DAGSTER_STABLE_SECONDS", "0")
    marker = landing.built_marker(tmp_path / "wh" / "crm.duckdb")
    marker.parent.mkdir(parents=True)
    marker.write_text(landing.fingerprint(landing.folder_state(demo_copy)) + "\n")
    cursor = None
    for _ in range(3):
        result, cursor = tick(cursor)
        assert isinstance(result, dg.SkipReason), result


def test_a_file_still_growing_is_not_read(demo_copy, tmp_path, monkeypatch):
    """Ticks of the real sensor with a stability time of an hour: a file that keeps growing keeps it
    waiting; the rule's clock (evaluate) then shows the build comes once the size held still."""
    point_at(monkeypatch, demo_copy, tmp_path / "wh")
    monkeypatch.setenv("CRM_DAGSTER_STABLE_SECONDS", "3600")
    growing = demo_copy / "sales_transactions_2026.csv"
    growing.write_text("invoice_id,customer_id,invoice_date,product_id,quantity,revenue,store_id\n")
    result, cursor = tick()
    assert isinstance(result, dg.SkipReason) and "sales_transactions_2026.csv" in result.skip_message
    with growing.open("a") as handle:
        handle.write("INV9,C0000001,2026-01-05,P0001,1,10.00,S001\n")
    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason) and "stop" in result.skip_message and "changing" in result.skip_message


def test_the_rule_waits_for_a_stable_size_then_builds_once():
    first = {"customers_master.csv": (100, 1), "sales_transactions_2026.csv": (10, 5)}
    grown = {**first, "sales_transactions_2026.csv": (20, 6)}
    decision = landing.evaluate(first, None, now=1000.0, stable_seconds=60, last_built=None)
    assert decision.run_key is None and "waiting" in decision.reason
    decision = landing.evaluate(grown, decision.cursor, now=1030.0, stable_seconds=60, last_built=None)
    assert decision.run_key is None, "grew since the last tick: still being written"
    decision = landing.evaluate(grown, decision.cursor, now=1080.0, stable_seconds=60, last_built=None)
    assert decision.run_key is None, "stable for 50 s only"
    decision = landing.evaluate(grown, decision.cursor, now=1091.0, stable_seconds=60, last_built=None)
    assert decision.run_key == landing.fingerprint(grown)
    assert json.loads(decision.cursor)["requested"] == decision.run_key
    decision = landing.evaluate(grown, decision.cursor, now=2000.0, stable_seconds=60, last_built=None)
    assert decision.run_key is None and "already requested" in decision.reason
    # a removed file is a change of the folder too
    removed = {"customers_master.csv": (100, 1)}
    decision = landing.evaluate(removed, decision.cursor, now=3000.0, stable_seconds=0, last_built=None)
    assert decision.run_key == landing.fingerprint(removed)
    decision = landing.evaluate({}, None, now=0.0, stable_seconds=0, last_built=None)
    assert decision.run_key is None and "no file" in decision.reason


def test_the_fingerprint_follows_size_and_modification_time(tmp_path):
    (tmp_path / "customers_master.csv").write_text("a\n")
    (tmp_path / "notes.txt").write_text("not read by the build\n")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "c1.csv").write_text("x\n")
    state = landing.folder_state(tmp_path)
    assert set(state) == {"customers_master.csv", "campaigns/c1.csv"}
    before = landing.fingerprint(state)
    (tmp_path / "customers_master.csv").write_text("ab\n")
    assert landing.fingerprint(landing.folder_state(tmp_path)) != before
