"""Tests of scripts/generate_data.py (the synthetic raw landing data) and of the committed demo set.

The CRM reference check (`crm_snapshot`) recomputes SPEC section 5 independently of dbt, with
DuckDB SQL over the CSV files, and proves that the personas produce every value tier, the Not
Active status and every lifecycle event in the latest month.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import duckdb
import pytest

from crm_warehouse import project_settings
from crm_warehouse.constants import NOT_ACTIVE

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"

_spec = importlib.util.spec_from_file_location("generate_data", ROOT / "scripts" / "generate_data.py")
gd = importlib.util.module_from_spec(_spec)
sys.modules["generate_data"] = gd
_spec.loader.exec_module(gd)

TIERS = ["Diamond", "Platinum", "Gold", "Silver", "Bronze", "Passive"]
EVENTS = ["New", "Lost", "Reactivated"]
SMALL = dict(customers=400, start_year=2023, years=3, lines=8000, seed=7)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _csv(path: Path, columns: list[str]) -> str:
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    return (
        f"read_csv('{path.as_posix()}', header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', strict_mode = true, columns = {{{cols}}})"
    )


def load(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """raw_tx / raw_customers / raw_products as text, with their row order (rn)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_tx AS SELECT *, row_number() OVER () AS rn "
        f"FROM {_csv(data_dir / 'sales_transactions_*.csv', gd.TX_COLUMNS)}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_customers AS SELECT *, row_number() OVER () AS rn "
        f"FROM {_csv(data_dir / gd.CUSTOMERS_FILE, gd.CUSTOMER_COLUMNS)}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_products AS SELECT *, row_number() OVER () AS rn "
        f"FROM {_csv(data_dir / gd.PRODUCTS_FILE, gd.PRODUCT_COLUMNS)}"
    )


ISO = r"'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
NUM = r"'^[+-]?[0-9]+([.][0-9]*)?$'"
# calendar-shaped (month 01-12, day 01-31) but not a real day, e.g. 2023-02-30: 'impossible'
CAL = r"'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"


def bad_counts(con) -> dict:
    """Count every bad class straight from the files (each bad row has exactly one defect)."""
    q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    tx = {
        "missing_invoice_id": q("SELECT count(*) FROM raw_tx WHERE invoice_id IS NULL"),
        "missing_customer_id": q("SELECT count(*) FROM raw_tx WHERE customer_id IS NULL"),
        "unparsable_customer_id": q(
            "SELECT count(*) FROM raw_tx WHERE NOT regexp_full_match(customer_id, '[A-Za-z0-9]+')"
        ),
        "missing_product_id": q("SELECT count(*) FROM raw_tx WHERE product_id IS NULL"),
        "invalid_invoice_date": q(
            f"SELECT count(*) FROM raw_tx WHERE invoice_date IS NULL OR NOT regexp_matches(invoice_date, {CAL})"
        ),
        "impossible_invoice_date": q(
            f"SELECT count(*) FROM raw_tx WHERE regexp_matches(invoice_date, {CAL}) "
            "AND TRY_CAST(invoice_date AS DATE) IS NULL"
        ),
        "non_numeric_quantity": q(f"SELECT count(*) FROM raw_tx WHERE NOT regexp_matches(quantity, {NUM})"),
        "non_numeric_revenue": q(f"SELECT count(*) FROM raw_tx WHERE NOT regexp_matches(revenue, {NUM})"),
        "orphan_customer_id": q(
            "SELECT count(*) FROM raw_tx WHERE regexp_full_match(customer_id, '[A-Za-z0-9]+') "
            "AND customer_id NOT IN (SELECT customer_id FROM raw_customers WHERE customer_id IS NOT NULL)"
        ),
        "orphan_product_id": q(
            "SELECT count(*) FROM raw_tx WHERE product_id IS NOT NULL "
            "AND product_id NOT IN (SELECT product_id FROM raw_products WHERE product_id IS NOT NULL)"
        ),
        "exact_duplicate": q(
            "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (rn) FROM raw_tx)) FROM raw_tx"
        ),
    }
    customers = {
        "missing_customer_id": q("SELECT count(*) FROM raw_customers WHERE customer_id IS NULL"),
        "duplicate_customer_id": q("SELECT count(customer_id) - count(DISTINCT customer_id) FROM raw_customers"),
        "invalid_consent_flag": q(
            "SELECT count(*) FROM raw_customers WHERE coalesce(opt_email, '0') NOT IN ('0', '1') "
            "OR coalesce(opt_sms, '0') NOT IN ('0', '1') OR coalesce(opt_phone, '0') NOT IN ('0', '1')"
        ),
        "invalid_created_date": q(
            f"SELECT count(*) FROM raw_customers WHERE created_date IS NOT NULL AND "
            f"(NOT regexp_matches(created_date, {ISO}) OR TRY_CAST(created_date AS DATE) IS NULL)"
        ),
    }
    products = {
        "missing_product_id": q("SELECT count(*) FROM raw_products WHERE product_id IS NULL"),
        "duplicate_product_id": q("SELECT count(product_id) - count(DISTINCT product_id) FROM raw_products"),
        "unknown_category": q(
            "SELECT count(*) FROM raw_products WHERE lower(category) NOT IN "
            "('device', 'consumable', 'accessories', 'spare_parts')"
        ),
        "invalid_core_unit_size": q(
            "SELECT count(*) FROM raw_products WHERE lower(category) = 'consumable' "
            "AND coalesce(TRY_CAST(unit_size AS DOUBLE), 0) <= 0"
        ),
    }
    return {"transactions": tx, "customers": customers, "products": products}


def crm_snapshot(con, anonymous=("general",)) -> duckdb.DuckDBPyRelation:
    """SPEC section 5, recomputed over the loaded raw tables (bad rows excluded, exact duplicates once).

    One row per in-scope customer and report month (from the month the customer exists), with
    activity_status, value_tier and lifecycle_event. The tier thresholds are the seed
    value_tier_calibration's (project_settings.value_tier_thresholds)."""
    t = project_settings.value_tier_thresholds()
    anon = ", ".join(f"'{a}'" for a in anonymous)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE products AS
    SELECT product_id, lower(category) AS category, TRY_CAST(unit_size AS DOUBLE) AS unit_size
    FROM raw_products WHERE product_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY rn) = 1;
    DELETE FROM products WHERE category NOT IN ('device', 'consumable', 'accessories', 'spare_parts')
        OR (category = 'consumable' AND coalesce(unit_size, 0) <= 0);

    CREATE OR REPLACE TEMP TABLE customers AS
    SELECT customer_id, lower(trim(customer_group)) AS grp,
           CASE WHEN regexp_matches(created_date, {ISO}) THEN TRY_CAST(created_date AS DATE) END AS created
    FROM raw_customers WHERE customer_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY rn) = 1;

    CREATE OR REPLACE TEMP TABLE lines AS
    SELECT DISTINCT t.invoice_id, t.customer_id, CAST(t.invoice_date AS DATE) AS d, t.product_id,
           CAST(t.quantity AS DOUBLE) AS q, p.category, p.unit_size
    FROM raw_tx t
    JOIN customers c USING (customer_id)
    JOIN products p USING (product_id)
    WHERE t.invoice_id IS NOT NULL AND regexp_matches(t.invoice_date, {ISO})
      AND TRY_CAST(t.invoice_date AS DATE) IS NOT NULL
      AND regexp_matches(t.quantity, {NUM}) AND regexp_matches(t.revenue, {NUM});

    CREATE OR REPLACE TEMP TABLE cm AS
    SELECT customer_id, date_trunc('month', d) AS month, sum(q * unit_size) AS units
    FROM lines WHERE category = 'consumable' AND q > 0
    GROUP BY ALL;

    CREATE OR REPLACE TEMP TABLE core_invoices AS
    SELECT DISTINCT customer_id, date_trunc('month', d) AS month, invoice_id
    FROM lines WHERE category = 'consumable' AND q > 0;

    CREATE OR REPLACE TEMP TABLE months AS
    SELECT CAST(m AS DATE) AS report_month
    FROM range((SELECT date_trunc('month', min(d)) FROM lines),
               (SELECT date_trunc('month', max(d)) FROM lines) + INTERVAL 1 MONTH, INTERVAL 1 MONTH) r(m);

    CREATE OR REPLACE TEMP TABLE scope AS
    SELECT c.customer_id,
           date_trunc('month', least(coalesce(c.created, f.first_day), coalesce(f.first_day, c.created))) AS exists_from
    FROM customers c
    LEFT JOIN (SELECT customer_id, min(d) AS first_day FROM lines GROUP BY ALL) f USING (customer_id)
    WHERE c.grp NOT IN ({anon});

    CREATE OR REPLACE TEMP TABLE agg AS
    SELECT s.customer_id, m.report_month,
        coalesce(sum(cm.units), 0) AS m_total,
        coalesce(sum(cm.units) FILTER (WHERE datediff('month', cm.month, m.report_month) < 1), 0) AS m1,
        coalesce(sum(cm.units) FILTER (WHERE datediff('month', cm.month, m.report_month) < 6), 0) AS m6,
        coalesce(sum(cm.units) FILTER (WHERE datediff('month', cm.month, m.report_month) < 12), 0) AS m12,
        coalesce(sum(cm.units) FILTER (WHERE datediff('month', cm.month, m.report_month) < 13), 0) AS m13
    FROM scope s
    JOIN months m ON s.exists_from IS NULL OR m.report_month >= s.exists_from
    LEFT JOIN cm ON cm.customer_id = s.customer_id AND cm.month <= m.report_month
    GROUP BY ALL;

    -- o6 (SPEC section 5): distinct invoices with a core positive line in the last 6 months (an
    -- invoice number seen in two of those months is one order)
    CREATE OR REPLACE TEMP TABLE agg_o6 AS
    SELECT agg.*, (
        SELECT count(DISTINCT ci.invoice_id) FROM core_invoices ci
        WHERE ci.customer_id = agg.customer_id AND ci.month <= agg.report_month
          AND datediff('month', ci.month, agg.report_month) < 6
    ) AS o6
    FROM agg;

    CREATE OR REPLACE TEMP TABLE snapshot AS
    SELECT *,
        CASE WHEN m12 > 0 THEN 'Active' ELSE '{NOT_ACTIVE}' END AS activity_status,
        CASE WHEN m12 = 0 THEN NULL
             WHEN m6 = 0 THEN 'Passive'
             WHEN m6 / 6 >= {t["t_high"]} AND m6 / o6 >= {t["a_high"]} AND o6 >= {t["f_high"]} THEN 'Diamond'
             WHEN m6 / 6 >= {t["t_high"]} AND o6 >= {t["f_mid"]} THEN 'Platinum'
             WHEN m6 / 6 >= {t["t_mid_high"]} THEN 'Gold'
             WHEN m6 / 6 >= {t["t_mid"]} THEN 'Silver'
             WHEN m6 > 0 THEN 'Bronze' END AS value_tier,
        CASE WHEN m1 > 0 AND m1 = m_total THEN 'New'
             WHEN m12 = 0 AND m13 > 0 THEN 'Lost'
             WHEN m1 > 0 AND m1 = m13 AND m_total > m13 THEN 'Reactivated' END AS lifecycle_event
    FROM agg_o6;
    """)
    return con.table("snapshot")


def month_counts(con, month_sql: str = "(SELECT max(report_month) FROM snapshot)") -> dict:
    rows = con.execute(f"""
        SELECT 'tier', value_tier, count(*) FROM snapshot WHERE report_month = {month_sql} AND value_tier IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'event', lifecycle_event, count(*) FROM snapshot WHERE report_month = {month_sql} AND lifecycle_event IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'status', activity_status, count(*) FROM snapshot WHERE report_month = {month_sql} GROUP BY ALL
    """).fetchall()
    out = {"tier": {}, "event": {}, "status": {}}
    for kind, name, n in rows:
        out[kind][name] = n
    return out


def history_coverage(con) -> dict:
    """For each tier / event / Not Active: the number of report months in which it occurs."""
    rows = con.execute(f"""
        SELECT value_tier, count(DISTINCT report_month) FROM snapshot WHERE value_tier IS NOT NULL GROUP BY ALL
        UNION ALL SELECT lifecycle_event, count(DISTINCT report_month) FROM snapshot WHERE lifecycle_event IS NOT NULL GROUP BY ALL
        UNION ALL SELECT '{NOT_ACTIVE}', count(DISTINCT report_month) FROM snapshot WHERE activity_status = '{NOT_ACTIVE}'
        UNION ALL SELECT 'months', count(*) FROM months
    """).fetchall()
    return dict(rows)


def _check_every_tier_and_event(con, min_each: int = 1) -> dict:
    crm_snapshot(con)
    c = month_counts(con)
    for t in TIERS:
        assert c["tier"].get(t, 0) >= min_each, (t, c)
    for e in EVENTS:
        assert c["event"].get(e, 0) >= min_each, (e, c)
    assert c["status"].get(NOT_ACTIVE, 0) >= min_each, c
    # history: from month 14 on (first month where Reactivated can exist) every case in most months
    cov = history_coverage(con)
    later = cov["months"] - 13
    for name in TIERS + EVENTS + [NOT_ACTIVE]:
        assert cov.get(name, 0) >= 0.8 * later, (name, cov)
    return c


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    s = gd.generate(d, verbose=False, **SMALL)
    return d, s


@pytest.fixture(scope="module")
def small_clean(tmp_path_factory):
    d = tmp_path_factory.mktemp("small_clean")
    s = gd.generate(d, clean=True, verbose=False, **SMALL)
    return d, s


def _con(d: Path):
    con = duckdb.connect()
    load(con, d)
    return con


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------
def test_deterministic(tmp_path, small):
    d1, _ = small
    d2 = tmp_path / "again"
    gd.generate(d2, verbose=False, **SMALL)
    names = sorted(p.name for p in d1.iterdir())
    assert names == sorted(p.name for p in d2.iterdir())
    for n in names:
        assert (d1 / n).read_bytes() == (d2 / n).read_bytes(), n
    d3 = tmp_path / "other_seed"
    gd.generate(d3, verbose=False, **{**SMALL, "seed": SMALL["seed"] + 1})
    assert (d3 / gd.CUSTOMERS_FILE).read_bytes() != (d1 / gd.CUSTOMERS_FILE).read_bytes()


def test_files_and_headers(small):
    d, s = small
    expected = {f"sales_transactions_{y}.csv" for y in (2023, 2024, 2025)} | {gd.CUSTOMERS_FILE, gd.PRODUCTS_FILE}
    assert {p.name for p in d.iterdir()} == expected
    assert set(s["files"]) == expected
    headers = {gd.CUSTOMERS_FILE: gd.CUSTOMER_COLUMNS, gd.PRODUCTS_FILE: gd.PRODUCT_COLUMNS}
    for name in expected:
        first = (d / name).read_bytes().split(b"\n", 1)[0].decode()
        assert first == ",".join(headers.get(name, gd.TX_COLUMNS)), name
        # row counts in the summary = data lines of the file
        assert (d / name).read_bytes().count(b"\n") - 1 == s["files"][name], name
    con = _con(d)
    # every year file holds only its year (bad date text aside)
    for y in (2023, 2024, 2025):
        years = con.execute(
            f"SELECT DISTINCT year(TRY_CAST(invoice_date AS DATE)) FROM {_csv(d / f'sales_transactions_{y}.csv', gd.TX_COLUMNS)} "
            f"WHERE TRY_CAST(invoice_date AS DATE) IS NOT NULL"
        ).fetchall()
        assert years == [(y,)]


@pytest.mark.parametrize("customers,lines", [(400, 8000), (300, 15000)])
def test_row_counts_near_target(tmp_path, customers, lines):
    s = gd.generate(tmp_path, customers=customers, lines=lines, seed=3, verbose=False)
    assert 0.7 * lines <= s["transaction_lines"] <= 1.3 * lines, s["transaction_lines"]
    assert s["files"][gd.CUSTOMERS_FILE] >= customers


def test_bad_classes_present_and_counted(small):
    d, s = small
    con = _con(d)
    found = bad_counts(con)
    assert found == s["bad"]
    for kind, classes in found.items():
        for cls, n in classes.items():
            assert n >= 2, (kind, cls)
    assert set(found["transactions"]) == set(gd.TX_BAD_CLASSES)
    # every variant of the text classes shows up
    vals = lambda col, cond: {r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM raw_tx WHERE {cond}").fetchall()}  # noqa: E731
    assert {"two", "1,5", "3 pcs"} <= vals("quantity", "true")
    assert {"N/A", "12.3.4", "1.234,50"} <= vals("revenue", "true")
    dates = vals("invoice_date", "true")
    assert "not a date" in dates and None in dates
    assert any(x and x.endswith("-13-45") for x in dates)
    assert any(x and x[2] == "/" for x in dates)
    assert any(x and x.endswith("-02-30") for x in dates)
    bad_ids = vals("customer_id", "NOT regexp_full_match(customer_id, '[A-Za-z0-9]+')")
    assert all((" " in x) or ("#" in x) for x in bad_ids)
    # references to rejected products are counted too
    refs = con.execute("""
        SELECT count(*) FILTER (WHERE lower(p.category) NOT IN ('device', 'consumable', 'accessories', 'spare_parts')),
               count(*) FILTER (WHERE lower(p.category) = 'consumable' AND coalesce(TRY_CAST(p.unit_size AS DOUBLE), 0) <= 0)
        FROM raw_tx t JOIN raw_products p USING (product_id)""").fetchone()
    r = s["references_to_bad_master_rows"]
    assert refs == (r["lines_ref_unknown_category_product"], r["lines_ref_bad_unit_size_product"])
    # duplicates repeat an existing id further down the file, with another name
    for table, key, dup_list in (
        ("raw_customers", "customer_id", s["duplicated_customer_ids"]),
        ("raw_products", "product_id", s["duplicated_product_ids"]),
    ):
        got = con.execute(
            f"SELECT {key}, count(DISTINCT {key.split('_')[0]}_name), count(*) FROM {table} "
            f"WHERE {key} IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY 1"
        ).fetchall()
        assert [g[0] for g in got] == sorted(dup_list)
        assert all(g[1] == 2 and g[2] == 2 for g in got)


def test_clean_has_no_bad_rows(small_clean):
    d, s = small_clean
    con = _con(d)
    found = bad_counts(con)
    assert all(n == 0 for classes in found.values() for n in classes.values()), found
    assert all(n == 0 for classes in s["bad"].values() for n in classes.values())
    assert s["references_to_bad_master_rows"]["lines_ref_unknown_category_product"] == 0
    assert s["references_to_bad_master_rows"]["lines_ref_bad_unit_size_product"] == 0
    assert s["duplicated_customer_ids"] == [] and s["duplicated_product_ids"] == []


def test_customer_master_content(small):
    d, _ = small
    con = _con(d)
    mobiles = con.execute("SELECT mobile_number FROM raw_customers WHERE mobile_number IS NOT NULL").fetchall()
    assert mobiles and all(m[0].startswith("0") and len(m[0]) == 10 and m[0].isdigit() for m in mobiles)
    groups = {r[0] for r in con.execute("SELECT DISTINCT customer_group FROM raw_customers").fetchall()}
    assert {"General", "GENERAL", "general"} <= groups
    assert {"Retail", "Wholesale", "Online", "VIP"} <= groups
    # customers without any purchase
    n_none = con.execute("""SELECT count(*) FROM raw_customers c WHERE customer_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM raw_tx t WHERE t.customer_id = c.customer_id)""").fetchone()[0]
    assert n_none >= 10
    # walk-in accounts buy a lot
    anon_lines = con.execute("""SELECT min(n) FROM (SELECT c.customer_id, count(*) n FROM raw_customers c
        JOIN raw_tx t USING (customer_id) WHERE lower(c.customer_group) = 'general' GROUP BY ALL)""").fetchone()[0]
    assert anon_lines >= 50
    # consent flags 0 / 1 / empty (bad ones aside), created dates before, during and after first purchase
    rel = con.execute(f"""
        WITH f AS (SELECT customer_id, min(CAST(invoice_date AS DATE)) AS first_day FROM raw_tx
                   WHERE regexp_matches(invoice_date, {ISO}) AND TRY_CAST(invoice_date AS DATE) IS NOT NULL GROUP BY ALL)
        SELECT count(*) FILTER (WHERE created < first_day), count(*) FILTER (WHERE created = first_day),
               count(*) FILTER (WHERE created > first_day)
        FROM (SELECT customer_id, TRY_CAST(created_date AS DATE) AS created FROM raw_customers) c JOIN f USING (customer_id)
    """).fetchone()
    assert all(x > 0 for x in rel), rel


def test_transaction_structure(small):
    d, _ = small
    con = _con(d)
    crm_snapshot(con)
    # an invoice has one customer, one date, one store; a product at most once (exact duplicates aside)
    multi = con.execute("""SELECT count(*) FROM (SELECT invoice_id FROM (SELECT DISTINCT * EXCLUDE (rn) FROM raw_tx)
        WHERE invoice_id IS NOT NULL GROUP BY ALL
        HAVING count(DISTINCT customer_id) > 1 OR count(DISTINCT invoice_date) > 1
            OR count(DISTINCT coalesce(store_id, '-')) > 1 OR count(product_id) > count(DISTINCT product_id))""").fetchone()[
        0
    ]
    assert multi == 0
    sizes = con.execute(
        """SELECT max(n), min(n) FROM (SELECT invoice_id, count(*) n FROM lines GROUP BY ALL)"""
    ).fetchone()
    assert sizes[0] <= 4 and sizes[1] >= 1
    # returns: negative quantity and revenue, some on an invoice of their own dated after a purchase of the product
    r = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE TRY_CAST(revenue AS DOUBLE) >= 0)
        FROM raw_tx WHERE regexp_matches(quantity, {NUM}) AND CAST(quantity AS DOUBLE) < 0
          AND regexp_matches(revenue, {NUM})""").fetchone()
    assert r[0] > 20 and r[1] == 0
    later = con.execute("""
        SELECT count(*) FROM lines r WHERE r.q < 0
          AND NOT EXISTS (SELECT 1 FROM lines x WHERE x.invoice_id = r.invoice_id AND x.q > 0)
          AND EXISTS (SELECT 1 FROM lines p WHERE p.customer_id = r.customer_id AND p.product_id = r.product_id
                      AND p.q > 0 AND p.d < r.d)""").fetchone()[0]
    assert later > 5
    # device purchases before the first consumable; device-only and accessories-only buyers
    dev_first = con.execute("""
        SELECT count(*) FROM (SELECT customer_id, min(d) FILTER (WHERE category = 'device') AS dev,
                                     min(d) FILTER (WHERE category = 'consumable') AS core
                              FROM lines WHERE q > 0 GROUP BY ALL) WHERE dev < core""").fetchone()[0]
    assert dev_first > 10
    only = con.execute("""
        SELECT count(*) FILTER (WHERE cats = ['device'] OR cats = ['accessories', 'device']),
               count(*) FILTER (WHERE NOT list_contains(cats, 'device') AND NOT list_contains(cats, 'consumable'))
        FROM (SELECT customer_id, list_sort(list(DISTINCT category)) AS cats FROM lines GROUP BY ALL)""").fetchone()
    assert only[0] > 3 and only[1] > 3
    # store ids like S001, sometimes empty
    stores = con.execute(
        "SELECT count(*) FILTER (WHERE store_id IS NULL), "
        "count(*) FILTER (WHERE NOT regexp_full_match(store_id, 'S[0-9]{3}')) FROM raw_tx"
    ).fetchone()
    assert stores[0] > 0 and stores[1] == 0


def test_every_tier_and_event_in_latest_month_clean(small_clean):
    d, _ = small_clean
    con = _con(d)
    _check_every_tier_and_event(con)


def test_every_tier_and_event_in_latest_month_with_bad_rows(small):
    d, _ = small
    con = _con(d)
    _check_every_tier_and_event(con)


def test_several_blocks(tmp_path):
    """Customers processed in several blocks: counts still exact, invoice ids unique, deterministic."""
    kw = dict(customers=700, lines=14000, seed=11, block_customers=250, verbose=False)
    s = gd.generate(tmp_path / "a", **kw)
    gd.generate(tmp_path / "b", **kw)
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()
    con = _con(tmp_path / "a")
    assert bad_counts(con) == s["bad"]
    assert (
        con.execute("SELECT count(*) FROM raw_customers WHERE customer_id IS NOT NULL").fetchone()[0]
        == 700 + s["bad"]["customers"]["duplicate_customer_id"]
    )
    one_customer = con.execute("""SELECT count(*) FROM (SELECT invoice_id FROM raw_tx WHERE invoice_id IS NOT NULL
        GROUP BY ALL HAVING count(DISTINCT coalesce(customer_id, '?')) > 1)""").fetchone()[0]
    assert one_customer == 0
    assert s["invoices"] == con.execute("SELECT count(DISTINCT invoice_id) FROM raw_tx").fetchone()[0]


def test_end_date(tmp_path):
    s = gd.generate(
        tmp_path,
        customers=300,
        lines=5000,
        start_year=2024,
        years=2,
        end_date="2025-06-15",
        seed=5,
        clean=True,
        verbose=False,
    )
    assert set(s["files"]) >= {"sales_transactions_2024.csv", "sales_transactions_2025.csv"}
    con = _con(tmp_path)
    assert con.execute("SELECT max(CAST(invoice_date AS DATE)) FROM raw_tx").fetchone()[0].isoformat() <= "2025-06-15"
    _check_every_tier_and_event(con)


def test_cli(tmp_path):
    rc = gd.main(
        [
            "--out",
            str(tmp_path),
            "--customers",
            "200",
            "--lines",
            "3000",
            "--years",
            "2",
            "--quiet",
            "--bad-share",
            "0.02",
        ]
    )
    assert rc == 0
    assert (tmp_path / "sales_transactions_2024.csv").exists()
    assert not (tmp_path / "sales_transactions_2025.csv").exists()


# ---------------------------------------------------------------------------------------------
# the committed demo data set
# ---------------------------------------------------------------------------------------------
def test_demo_data_set():
    files = {p.name for p in DEMO.iterdir()}
    assert {
        "sales_transactions_2023.csv",
        "sales_transactions_2024.csv",
        "sales_transactions_2025.csv",
        gd.CUSTOMERS_FILE,
        gd.PRODUCTS_FILE,
    } <= files
    assert sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file()) < 5 * 1024 * 1024
    con = _con(DEMO)
    found = bad_counts(con)
    for kind, classes in found.items():
        for cls, n in classes.items():
            assert n >= 2, (kind, cls)
    readme = (DEMO / "README.md").read_text()
    for cls, n in found["transactions"].items():
        assert f"`{cls}`" in readme and f"| {n} |" in readme
    n_lines = con.execute("SELECT count(*) FROM raw_tx").fetchone()[0]
    assert 40_000 <= n_lines <= 80_000
    _check_every_tier_and_event(con, min_each=3)


def test_demo_data_is_reproducible(tmp_path):
    """The committed demo files are exactly what the documented command produces."""
    gd.generate(tmp_path, customers=3000, start_year=2023, years=3, seed=42, verbose=False, campaigns=True)
    generated = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "campaigns" for p in generated)
    for p in generated:
        name = p.relative_to(tmp_path)
        assert (DEMO / name).read_bytes() == p.read_bytes(), name


# ---------------------------------------------------------------------------------------------
# the same output bytes for the same arguments (the generator's refactorings must keep them)
# ---------------------------------------------------------------------------------------------
# option sets whose outputs were digested (tests/fixtures/generator_digests.json) with the
# generator as it was before it became the package src/crm_warehouse/synth/ (issue 26)
DIGEST_CASES = {
    "bad_rows_2y_seed3": dict(customers=400, start_year=2024, years=2, seed=3, bad_share=0.02),
    "clean_seed7": dict(customers=1200, start_year=2023, years=3, seed=7, clean=True),
    "campaigns_small_blocks": dict(
        customers=900, start_year=2023, years=3, seed=11, campaigns=True, block_customers=300
    ),
    "end_date_lines": dict(customers=300, start_year=2022, years=2, seed=5, lines=9000, end_date="2023-08-15"),
}
BG_NBD_CASE = dict(
    customers=2000,
    bgnbd_params=(0.5, 8, 0.7, 2.5),
    gamma_gamma_params=(6, 4, 15),
    start_year=2023,
    years=2,
    cohort_weeks=52,
    seed=42,
)
EXPECTED_DIGESTS = json.loads((Path(__file__).parent / "fixtures" / "generator_digests.json").read_text())


def folder_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.mark.parametrize("case", sorted(DIGEST_CASES))
def test_same_arguments_give_the_same_bytes_as_before(tmp_path, case):
    gd.generate(tmp_path, verbose=False, **DIGEST_CASES[case])
    assert folder_digest(tmp_path) == EXPECTED_DIGESTS[case], f"the generator's output for {case} changed"


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_bg_nbd_files_are_the_same_bytes_as_before(tmp_path, model):
    gd.generate_bg_nbd(tmp_path, model=model, verbose=False, **BG_NBD_CASE)
    assert folder_digest(tmp_path) == EXPECTED_DIGESTS[f"bgnbd_{model}"], f"the BG/NBD output ({model}) changed"


# ---------------------------------------------------------------------------------------------
# --one-time-share: retail-like data (issue 25's benchmark shape)
# ---------------------------------------------------------------------------------------------
def invoices_per_customer(folder: Path) -> dict[str, int]:
    """Distinct invoices with a positive line per customer id, straight from the files."""
    with duckdb.connect() as con:
        load(con, folder)
        rows = con.execute(
            "select customer_id, count(distinct invoice_id) from raw_tx "
            "where try_cast(quantity as double) > 0 group by customer_id"
        ).fetchall()
    return dict(rows)


def test_one_time_share_makes_one_time_buyers(tmp_path):
    shape = dict(customers=2000, start_year=2022, years=4, lines=20000, seed=5, clean=True)
    base = gd.generate(tmp_path / "base", verbose=False, **shape)
    retail = gd.generate(tmp_path / "retail", verbose=False, one_time_share=0.6, **shape)
    identified = shape["customers"] - base["personas"]["anonymous"]
    assert "one_time" not in base["personas"] and "one_time_share" not in base["args"]
    assert retail["personas"]["one_time"] == round(0.6 * identified)
    assert retail["args"]["one_time_share"] == 0.6
    # the target number of lines still holds (the casual buyers make up the rest)
    assert abs(retail["transaction_lines"] - shape["lines"]) < 0.15 * shape["lines"]
    share_with_at_most_two = {}
    for name in ("base", "retail"):
        counts = invoices_per_customer(tmp_path / name)
        share_with_at_most_two[name] = sum(n <= 2 for n in counts.values()) / len(counts)
    assert share_with_at_most_two["retail"] > 0.5 > share_with_at_most_two["base"], share_with_at_most_two
    # the default (no --one-time-share) keeps the bytes of the same options: the digest tests below


def test_one_time_share_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="one-time-share"):
        gd.generate(tmp_path, verbose=False, customers=100, one_time_share=1.0)
