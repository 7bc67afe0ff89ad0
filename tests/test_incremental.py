"""Incremental builds: a new month (and a month that was partial) gives the same rows as a full refresh."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from conftest import query, run_dbt

MODELS = ("build", "--resource-type", "seed", "--resource-type", "model")
SNAPSHOT = "select * from marts.fct_customer_monthly_snapshot order by customer_id, report_month"


def cut_raw(source: Path, target: Path, last_date: str) -> None:
    """Copy a raw folder keeping only the transaction lines dated up to last_date."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name.startswith("sales_transactions_"):
            lines = pd.read_csv(path, dtype=str, keep_default_na=False)
            kept = lines[lines["invoice_date"] <= last_date]
            if len(kept):
                kept.to_csv(target / path.name, index=False)
        else:
            shutil.copy(path, target / path.name)


def test_new_and_partial_month_incremental_equals_full_refresh(clean_raw, tmp_path):
    database = tmp_path / "incremental" / "crm.duckdb"
    # November complete and December half-way: the December row is partial.
    cut_raw(clean_raw, tmp_path / "raw_mid_december", "2025-12-15")
    run_dbt(tmp_path / "raw_mid_december", database, *MODELS, "--full-refresh")
    before = query(database, SNAPSHOT)
    assert str(before["report_month"].max())[:7] == "2025-12"

    # The rest of December arrives: the incremental run recomputes December only.
    run_dbt(clean_raw, database, *MODELS)
    incremental = query(database, SNAPSHOT)

    full = tmp_path / "full" / "crm.duckdb"
    run_dbt(clean_raw, full, *MODELS, "--full-refresh")
    refreshed = query(full, SNAPSHOT)

    pd.testing.assert_frame_equal(incremental, refreshed)
    # History before December is exactly as it was published.
    old = before[before["report_month"] < before["report_month"].max()].reset_index(drop=True)
    kept = incremental[incremental["report_month"] < before["report_month"].max()].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, kept)
    # December changed (the test would prove nothing if the second half of the month were empty).
    assert not before[before["report_month"] == before["report_month"].max()].reset_index(drop=True).equals(
        incremental[incremental["report_month"] == before["report_month"].max()].reset_index(drop=True)
    )


def test_two_new_months_incremental_equals_full_refresh(clean_raw, tmp_path):
    database = tmp_path / "incremental" / "crm.duckdb"
    cut_raw(clean_raw, tmp_path / "raw_to_october", "2025-10-31")
    run_dbt(tmp_path / "raw_to_october", database, *MODELS, "--full-refresh")
    run_dbt(clean_raw, database, *MODELS)
    full = tmp_path / "full" / "crm.duckdb"
    run_dbt(clean_raw, full, *MODELS, "--full-refresh")
    for table in ("marts.fct_customer_monthly_snapshot", "intermediate.int_customer_months__windows"):
        order = "customer_id, report_month"
        pd.testing.assert_frame_equal(
            query(database, f"select * from {table} order by {order}"),
            query(full, f"select * from {table} order by {order}"),
        )
