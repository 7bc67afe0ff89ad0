"""Data of any era (issue 12): no written calendar bound, complete snapshots for history before 2000
and for thirty years, the is_history_complete flag, and invariants that fail loudly and readably
when a calendar, a snapshot, dim_dates or a KPI mart comes out empty or short."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

import generate_data
from conftest import ROOT, query, run_dbt
from support.reference_snapshot import snapshot as reference_snapshot
from test_snapshot_reference import COMPARED, normalise

# What `make build` runs: the models and every data test (the quality gates), default vars.
BUILD_WITH_GATES = ("build", "--exclude-resource-type", "unit_test", "--full-refresh")


def build_era(tmp_path_factory, name: str, first_month_single_day: bool = False, **generate) -> tuple:
    raw = tmp_path_factory.mktemp(f"raw_{name}")
    generate_data.generate(raw, clean=True, verbose=False, **generate)
    if first_month_single_day:
        # data that starts on the last day of a month: the first month has no repeat occasion, so
        # Gamma-Gamma has nothing to fit there (the build must go on, with that month unmodelled)
        path = raw / f"sales_transactions_{generate['start_year']}.csv"
        lines = pd.read_csv(path, dtype=str, keep_default_na=False)
        first = f"{generate['start_year']}-01-"
        keep = ~lines["invoice_date"].str.startswith(first) | (lines["invoice_date"] == first + "31")
        lines[keep].to_csv(path, index=False)
    database = tmp_path_factory.mktemp(f"wh_{name}") / "crm.duckdb"
    result = run_dbt(raw, database, *BUILD_WITH_GATES)
    return raw, database, result


@pytest.fixture(scope="module")
def nineties(tmp_path_factory):
    """A landing folder dated 1995-1998, its first month holding a single day, built with default
    vars (gates included)."""
    return build_era(
        tmp_path_factory, "1990s", first_month_single_day=True, customers=300, start_year=1995, years=4, seed=13
    )


@pytest.fixture(scope="module")
def thirty_years(tmp_path_factory):
    """A landing folder spanning 1995-2025: thirty-one calendar years, 372 report months."""
    return build_era(tmp_path_factory, "1995_2025", customers=60, start_year=1995, years=31, seed=5)


def compare_with_reference(raw, database) -> None:
    warehouse = query(database, "select * from marts.fct_customer_monthly_snapshot")
    reference = reference_snapshot(raw, ROOT / "seeds" / "rfm_segments.csv")
    warehouse["report_month"] = pd.to_datetime(warehouse["report_month"])
    reference["report_month"] = pd.to_datetime(reference["report_month"])
    keys = ["customer_id", "report_month"]
    assert set(map(tuple, warehouse[keys].values)) == set(map(tuple, reference[keys].values))
    merged = warehouse.merge(reference, on=keys, suffixes=("_warehouse", "_reference"))
    for column in COMPARED:
        left = merged[f"{column}_warehouse"].map(normalise)
        right = merged[f"{column}_reference"].map(normalise)
        if column.endswith("_date"):
            left, right = pd.to_datetime(left).dt.date, pd.to_datetime(right).dt.date
        if column in ("avg_monthly_consumption", "avg_order_size"):
            right = right.map(lambda v: None if v is None else round(v + 1e-12, 4))
        differs = ~((left == right) | (left.isna() & right.isna()))
        assert not differs.any(), f"{differs.sum()} rows differ on {column}:\n{merged[differs].head(3).T}"


def test_history_before_2000_builds_with_default_vars_and_matches_the_reference(nineties):
    raw, database, _ = nineties
    months = query(
        database,
        "select min(report_month) as first, max(report_month) as last, "
        "count(distinct report_month) as n from marts.fct_customer_monthly_snapshot",
    )
    assert (str(months["first"][0])[:10], str(months["last"][0])[:10], months["n"][0]) == (
        "1995-01-01",
        "1998-12-01",
        48,
    )
    rejected = query(database, "select count(*) as n from staging.stg_crm__sales_transactions_rejects")["n"][0]
    assert rejected == 0, "clean 1990s lines must not be rejected by default"
    compare_with_reference(raw, database)


def test_thirty_years_give_372_report_months_in_every_monthly_mart(thirty_years):
    raw, database, _ = thirty_years
    for table, column in [
        ("marts.fct_customer_monthly_snapshot", "report_month"),
        ("marts.kpi_monthly_board", "report_month"),
        ("marts.kpi_segment_summary", "report_month"),
        ("marts.kpi_tier_migration", "report_month"),
    ]:
        counted = query(
            database,
            f"select count(distinct {column}) as n, min({column}) as first, max({column}) as last from {table}",
        )
        assert counted["n"][0] == 372, table
        assert (str(counted["first"][0])[:10], str(counted["last"][0])[:10]) == ("1995-01-01", "2025-12-01"), table
    dates = query(database, "select min(date_day) as first, max(date_day) as last, count(*) as n from marts.dim_dates")
    assert (str(dates["first"][0])[:10], str(dates["last"][0])[:10], dates["n"][0]) == (
        "1995-01-01",
        "2025-12-31",
        11323,
    )
    compare_with_reference(raw, database)


def test_a_first_month_with_nothing_to_fit_has_no_value_model_and_the_build_goes_on(nineties):
    _, database, build = nineties
    assert "PASS crm_customer_value_fits_converged" in build.stdout, build.stdout[-3000:]
    fits = query(
        database,
        """select model, customers, converged, p from marts.fct_customer_value_model_fits
                              where report_month = date '1995-01-01' order by model""",
    )
    gamma = fits[fits["model"] == "gamma_gamma"].iloc[0]
    assert (gamma["customers"], bool(gamma["converged"])) == (0, False) and pd.isna(gamma["p"])
    assert fits[fits["model"] != "gamma_gamma"]["converged"].all()


def test_months_whose_windows_reach_before_the_data_are_flagged(nineties):
    _, database, _ = nineties
    flags = query(
        database,
        """
        select report_month, bool_and(is_history_complete) as all_true, bool_or(is_history_complete) as any_true
        from marts.fct_customer_monthly_snapshot group by report_month order by report_month""",
    )
    incomplete = flags[~flags["any_true"]]["report_month"].map(lambda d: str(d)[:7]).tolist()
    assert incomplete == [f"{year}-{month:02d}" for year in (1995, 1996) for month in range(1, 13)]
    assert flags[flags["any_true"]]["all_true"].all()
    for mart in (
        "kpi_monthly_board",
        "kpi_segment_summary",
        "kpi_tier_summary",
        "kpi_segment_migration",
        "kpi_tier_migration",
        "kpi_rfm_score_bands",
    ):
        wrong = query(
            database,
            f"""
            select count(*) as n from marts.{mart} as mart
            where mart.is_history_complete != (mart.report_month >= date '1997-01-01')""",
        )["n"][0]
        assert wrong == 0, mart


@pytest.fixture(scope="module")
def broken_copy(nineties, tmp_path_factory):
    """A copy of the 1990s warehouse with every invariant broken on purpose, and `dbt test` run on it."""
    raw, database, _ = nineties
    copy = tmp_path_factory.mktemp("wh_broken") / "crm.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("delete from marts.fct_customer_monthly_snapshot where report_month = date '1997-03-01'")
        connection.execute("delete from marts.kpi_tier_summary where report_month = date '1998-06-01'")
        connection.execute("delete from marts.dim_dates where date_day > date '1998-11-30'")
        connection.execute("delete from intermediate.int_report_months where report_month = date '1996-02-01'")
    result = run_dbt(
        raw,
        copy,
        "test",
        "--select",
        "assert_snapshot_has_every_customer_month",
        "assert_report_months_cover_the_data",
        "assert_dim_dates_cover_the_facts",
        "assert_kpi_marts_cover_every_report_month",
        check=False,
        raw_link=True,  # only dbt's output is read afterwards
    )
    return result


def test_the_untouched_warehouse_passes_every_invariant(nineties):
    raw, database, build = nineties
    for name in (
        "assert_snapshot_has_every_customer_month",
        "assert_report_months_cover_the_data",
        "assert_dim_dates_cover_the_facts",
        "assert_kpi_marts_cover_every_report_month",
    ):
        assert f"PASS {name}" in build.stdout, build.stdout[-3000:]


@pytest.mark.parametrize(
    "expected",
    [
        # a snapshot month that lost its rows
        "crm gate FAIL assert_snapshot_has_every_customer_month",
        "fct_customer_monthly_snapshot has 0 rows for 1997-03-01 but",
        # a calendar month missing although it holds clean lines
        "crm gate FAIL assert_report_months_cover_the_data",
        "month 1996-02-01 holds",
        "clean lines but is missing from the report-month calendar int_report_months",
        # dim_dates cut short of the facts
        "crm gate FAIL assert_dim_dates_cover_the_facts",
        "dim_dates spans 1995-01-01 to 1998-11-30 but the facts need 1995-01-01 to 1998-12-31",
        # a KPI mart without a report month
        "crm gate FAIL assert_kpi_marts_cover_every_report_month",
        "kpi_tier_summary has no row for report month 1998-06-01",
    ],
)
def test_each_broken_invariant_fails_the_build_with_a_readable_message(broken_copy, expected):
    assert broken_copy.returncode != 0
    assert expected in broken_copy.stdout, broken_copy.stdout[-4000:]


def test_an_empty_calendar_is_explained(nineties, tmp_path_factory):
    raw, database, _ = nineties
    copy = tmp_path_factory.mktemp("wh_no_calendar") / "crm.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("delete from intermediate.int_report_months")
    result = run_dbt(raw, copy, "test", "--select", "assert_report_months_cover_the_data", check=False, raw_link=True)
    assert result.returncode != 0
    assert "no report month at all although there are clean lines" in result.stdout, result.stdout[-3000:]
