"""The app's page-shaped marts give what the pages computed at view time before (issue 25).

The pages read marts filtered by report month (and segment) and read customer lists a page at a
time (app/crm_data.py). Each test here computes the old view-time answer from the snapshot, the
sales or the customer value of the published serving file and compares it with what the app now
reads, for several months, segments and choices: the marts may not change a figure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import crm_data
from crm_warehouse import campaign_list


@pytest.fixture(autouse=True)
def serving_env(monkeypatch, serving_db):
    monkeypatch.setenv("CRM_SERVING_PATH", str(serving_db))


def same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal values, whatever the dtype DuckDB gave a column that is all null in one of them."""

    def plain(table: pd.DataFrame) -> pd.DataFrame:
        table = table.reset_index(drop=True).astype(object)
        return table.where(table.notna(), None)

    pd.testing.assert_frame_equal(plain(left), plain(right))


def frame(path: Path, query: str, params=None) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(query, params or []).df()


@pytest.fixture(scope="module")
def months(serving_db) -> list[dt.date]:
    """The latest report month, one a year earlier and one in the middle of the history."""
    every = [
        value.date()
        for value in frame(serving_db, "select distinct report_month from kpi_segment_summary order by 1 desc")[
            "report_month"
        ]
    ]
    return [every[0], every[min(12, len(every) - 1)], every[len(every) // 2]]


@pytest.fixture(scope="module")
def segments(serving_db) -> list[str | None]:
    """All customers, the largest RFM segment, Not Active and the anonymous walk-ins."""
    largest = frame(
        serving_db,
        "select rfm_segment from kpi_segment_summary where rfm_segment <> 'Not Active' "
        "group by 1 order by sum(customers) desc limit 1",
    )["rfm_segment"][0]
    return [None, largest, "Not Active", "Anonymous"]


def test_report_months_and_segment_counts_come_from_the_marts(serving_db, months, segments):
    snapshot_months = frame(
        serving_db, "select distinct report_month from fct_customer_monthly_snapshot order by 1 desc"
    )["report_month"]
    assert crm_data.report_months() == [value.date() for value in snapshot_months]
    for month in months:
        for segment in segments[1:3]:
            expected = frame(
                serving_db,
                "select count(*) as n from fct_customer_monthly_snapshot where report_month = ? "
                "and coalesce(rfm_segment, 'Not Active') = ?",
                [month, segment],
            )["n"][0]
            assert crm_data.segment_customers(month, segment) == expected


def test_rfm_pages_are_the_whole_list_in_order_and_the_grid_counts_it(serving_db, months, segments):
    month = months[0]
    for segment in segments[:2]:
        for options in (
            {},
            {"include_not_active": True},
            {"tiers": ["Gold", "Silver"]},
            {"scores": {"recency_score": [5, 4]}},
        ):
            whole = crm_data.customer_rfm(month, segment, limit=None, **options)
            count = crm_data.customer_rfm_count(month, segment, **options)
            assert count == len(whole) > 0, (segment, options)
            grid = crm_data.rfm_grid(month, segment, **options)
            assert grid["customers"].sum() == count
            assert grid["sales_12m"].sum() == pytest.approx(whole["sales_12m"].sum(), abs=0.01)
            first = crm_data.customer_rfm(month, segment, limit=7, **options)
            second = crm_data.customer_rfm(month, segment, limit=7, offset=7, **options)
            paged = pd.concat([first, second], ignore_index=True)
            same_rows(paged, whole.head(len(paged)))
    # the old view-time R x F counts of a segment's members, now read from kpi_customer_grid
    segment = segments[1]
    expected = frame(
        serving_db,
        "select recency_score, frequency_score, count(*) as customers from fct_customer_monthly_snapshot "
        "where report_month = ? and rfm_segment = ? group by all order by all",
        [month, segment],
    )
    grid = crm_data.rfm_grid(month, segment, include_not_active=True)
    got = grid.groupby(["recency_score", "frequency_score"], as_index=False)["customers"].sum()
    assert got["customers"].tolist() == expected["customers"].tolist()
    assert crm_data.customer_rfm_count(month, "Anonymous") == 0 and crm_data.customer_rfm(month, "Anonymous").empty


def test_p_alive_distribution_matches_the_customer_value(serving_db, months, segments):
    for month in months:
        for segment in segments[:3]:
            members = "true" if segment is None else "coalesce(snapshot.rfm_segment, 'Not Active') = ?"
            expected = frame(
                serving_db,
                "select least(floor(value.p_alive * 20), 19) / 20 as p_alive_from, count(*) as customers "
                "from fct_customer_value as value join fct_customer_monthly_snapshot as snapshot "
                "using (customer_id, report_month) "
                f"where value.report_month = ? and {members} group by 1 order by 1",
                [month] + ([segment] if segment else []),
            )
            got = crm_data.p_alive_distribution(month, segment)
            assert got["p_alive_from"].tolist() == pytest.approx(expected["p_alive_from"].tolist())
            assert got["customers"].tolist() == expected["customers"].tolist()


def leaving_reference(serving_db: Path, month: dt.date, segment: str | None, max_p_alive: float) -> pd.DataFrame:
    """The page's old query: fct_customer_value ranked at view time."""
    members = "true" if segment is None else "coalesce(snapshot.rfm_segment, 'Not Active') = ?"
    return frame(
        serving_db,
        f"""
        with history as (
            select customer_id, max(clv_12m) as peak_clv_12m from fct_customer_value
            where report_month > ? and report_month <= ? group by customer_id
        ),
        earlier as (select customer_id, p_alive as p_alive_3m_ago from fct_customer_value where report_month = ?)
        select value.customer_id, value.p_alive, earlier.p_alive_3m_ago, history.peak_clv_12m
        from fct_customer_value as value
        inner join fct_customer_monthly_snapshot as snapshot using (customer_id, report_month)
        inner join history on value.customer_id = history.customer_id
        left join earlier on value.customer_id = earlier.customer_id
        where value.report_month = ? and value.p_alive <= ? and {members}
        order by history.peak_clv_12m desc nulls last, value.customer_id
        limit 200
        """,
        [
            crm_data.add_months(month, -12),
            month,
            crm_data.add_months(month, -3),
            month,
            max_p_alive,
            *([segment] if segment else []),
        ],
    )


def test_leaving_customers_equal_the_view_time_ranking(serving_db, months, segments):
    for month in months:
        for segment in segments[:3]:
            for max_p_alive in (0.05, 0.5, 0.95):
                expected = leaving_reference(serving_db, month, segment, max_p_alive)
                got = crm_data.leaving_customers(month, segment, max_p_alive)
                assert got["customer_id"].tolist() == expected["customer_id"].tolist(), (month, segment, max_p_alive)
                assert got["p_alive_3m_ago"].tolist() == pytest.approx(expected["p_alive_3m_ago"].tolist(), nan_ok=True)
    assert crm_data.leaving_customers(months[0], "Anonymous", 0.5).empty


def test_lifecycle_counts_match_the_snapshot(serving_db, months, segments):
    month = months[1]
    for segment in segments[:3]:
        members = "true" if segment is None else "coalesce(rfm_segment, 'Not Active') = ?"
        expected = frame(
            serving_db,
            f"""
            with snapshot as (
                select * from fct_customer_monthly_snapshot where report_month <= ? and {members}
            )
            select report_month, 'status' as dimension, activity_status as label, count(*) as customers
            from snapshot group by all
            union all
            select report_month, 'tier', coalesce(value_tier, 'Not Active'), count(*) from snapshot group by all
            union all
            select report_month, 'event', lifecycle_event, count(*) from snapshot
            where lifecycle_event is not null group by all
            order by 1, 2, 3
            """,
            [month] + ([segment] if segment else []),
        )
        got = crm_data.lifecycle_counts(month, segment)
        assert got["customers"].tolist() == expected["customers"].tolist()
        assert got["label"].tolist() == expected["label"].tolist()


def test_sales_trend_reads_kpi_sales_by_period_and_leaves_out_a_running_period(serving_db, months, segments):
    latest, year_ago, _ = months
    for segment in segments:
        for period in ("day", "month", "quarter", "year"):
            trend = crm_data.sales_trend(period, latest, segment)
            members = "true" if segment is None else "segment_label = ?"
            expected = frame(
                serving_db,
                f"select sum(sales) as sales, sum(orders) as orders from kpi_sales_by_period where period_type = ? "
                f"and period_start >= ? and {members}",
                [period, crm_data.add_months(latest, -2) if period == "day" else dt.date.min]
                + ([segment] if segment else []),
            )
            assert trend["sales"].sum() == pytest.approx(float(expected["sales"][0] or 0), abs=0.01)
            assert trend["orders"].sum() == (expected["orders"][0] or 0)
    # an earlier report month: the months up to it; the year still running after it is left out
    trend = crm_data.sales_trend("year", year_ago, None)
    assert max(trend["period_start"]).year < year_ago.year or year_ago.month == 12
    monthly = crm_data.sales_trend("month", year_ago, None)
    assert max(monthly["period_start"]).date() == year_ago
    # orders of a month: the distinct invoices of fct_sales (macros/crm_orders.sql, counted in the mart)
    invoices = frame(
        serving_db,
        "select count(distinct invoice_id) as n from fct_sales where date_trunc('month', invoice_date) = ?",
        [year_ago],
    )["n"][0]
    assert monthly.loc[monthly["period_start"].dt.date == year_ago, "orders"].item() == invoices


def test_campaign_list_preview_size_and_store_filter(serving_db, months):
    month = months[1]
    store = frame(serving_db, "select store_id from dim_stores order by buying_customers desc limit 1")["store_id"][0]
    for filters in ({}, {"channel": "email"}, {"store": [store]}, {"min_p_alive": 0.5, "activity_status": "Active"}):
        whole = campaign_list.build_campaign_list(month, **filters)
        assert campaign_list.campaign_list_size(month, **filters) == len(whole)
        preview = campaign_list.build_campaign_list(month, limit=25, **filters)
        same_rows(preview, whole.head(25))
    # the store rule: a purchase line (not a return) in the store by the month's end (old: fct_sales)
    expected = frame(
        serving_db,
        "select count(*) as n from fct_customer_monthly_snapshot as snapshot where report_month = ? and customer_id in "
        "(select customer_id from fct_sales where store_id = ? and not is_return and invoice_date <= last_day(?))",
        [month, store, month],
    )["n"][0]
    assert campaign_list.campaign_list_size(month, store=[store]) == expected > 0
    assert store in crm_data.campaign_options()["store"]


def test_month_tables_are_stored_in_month_order(serving_db):
    """The serving file of a real build stores the tables the pages read one month at a time sorted
    (crm_warehouse.publish.SERVING_ORDER), so that DuckDB skips the other months' row groups; every
    month-keyed table that the app's queries filter by `report_month = ?` and that grows with the
    customers is in that list (tests/test_bi_handoff.py checks the row groups of a larger table)."""
    from crm_warehouse import publish

    month_tables = {
        "fct_customer_monthly_snapshot",
        "fct_customer_value",
        "kpi_customer_grid",
        "kpi_customer_value_leaving",
    }
    assert month_tables <= set(publish.SERVING_ORDER)
    with duckdb.connect(str(serving_db), read_only=True) as connection:
        for table, order in publish.SERVING_ORDER.items():
            columns = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
            assert set(order) <= set(columns), f"{table}: publish.SERVING_ORDER names a column it does not have"
            keys = ", ".join(order)
            stored = connection.execute(f"select {keys} from {table} order by rowid").fetchall()
            assert stored == connection.execute(f"select {keys} from {table} order by {keys}").fetchall(), table
