"""Raw ingestion quality gates on generated bad input: every bad row is rejected or flagged with the
right reason, counts reconcile, row numbers point at the real file lines, and a malformed landing
folder stops the build with a message naming the file."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

import generate_data
from conftest import MODELS_ONLY, query, run_dbt

# The tests below that read only dbt's output (not the warehouse's views afterwards) pass their raw
# folder through run_dbt's fixed-name link (raw_link=True), so that dbt reuses its parse.


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_bad")
    summary = generate_data.generate(raw, customers=400, seed=3, verbose=False)
    database = tmp_path_factory.mktemp("wh_bad") / "crm.duckdb"
    run_dbt(raw, database, *MODELS_ONLY)
    return raw, summary, database


def reasons(database: Path, model: str) -> dict[str, int]:
    frame = query(database, f"select reject_reason, count(*) as n from staging.{model} group by 1")
    return dict(zip(frame["reject_reason"], frame["n"]))


def test_every_transaction_bad_class_gets_its_reason(bad_build):
    _, summary, database = bad_build
    bad = summary["bad"]["transactions"]
    variants = summary["bad_variants"]["transactions"]["invalid_invoice_date"]
    refs = summary["references_to_bad_master_rows"]
    expected = {
        "missing_invoice_id": bad["missing_invoice_id"],
        "missing_customer_id": bad["missing_customer_id"],
        "invalid_customer_id": bad["unparsable_customer_id"],
        "missing_product_id": bad["missing_product_id"],
        "missing_invoice_date": variants.get("", 0),
        "invalid_invoice_date": bad["invalid_invoice_date"] - variants.get("", 0) + bad["impossible_invoice_date"],
        "invalid_quantity": bad["non_numeric_quantity"],
        "invalid_revenue": bad["non_numeric_revenue"],
        "unknown_customer_id": bad["orphan_customer_id"],
        "unknown_product_id": bad["orphan_product_id"]
        + refs["lines_ref_unknown_category_product"]
        + refs["lines_ref_bad_unit_size_product"],
    }
    assert reasons(database, "stg_crm__sales_transactions_rejects") == expected
    duplicates = query(
        database, "select count(*) as n from staging.stg_crm__sales_transactions where is_exact_duplicate"
    )
    assert duplicates["n"][0] == bad["exact_duplicate"]


@pytest.mark.parametrize(
    "warn_share, error_share, status, exit_code",
    [
        (0.5, 0.9, "pass", 0),  # share under both levels
        (0.0, 0.9, "warn", 0),  # above warn only: the build goes on
        (0.0, 0.0, "fail", 1),  # above error: the build stops
    ],
)
def test_the_reject_share_gate_warns_then_fails(bad_build, warn_share, error_share, status, exit_code):
    _, _, database = bad_build
    share = query(
        database,
        "select avg(case when reject_reason is null then 0 else 1 end) as s from staging.base_crm__sales_transactions",
    )["s"][0]
    assert 0 < share < 0.5
    result = run_dbt(
        bad_build[0],
        database,
        "test",
        "--select",
        "sales_transactions_reject_share",
        "--vars",
        f"{{crm_reject_share_warn: {warn_share}, crm_reject_share_error: {error_share}}}",
        check=False,
        artifacts=True,
    )
    assert result.returncode == exit_code, result.stdout[-3000:]
    results = json.loads((database.parent / "target" / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results if r["unique_id"].startswith("test.")] == [status]
    explained = re.findall(
        r"crm gate   - sales_transactions: (\d+) of (\d+) rows rejected \([0-9.]+%, over the (warn|error) threshold "
        r"[0-9.]+% of var crm_reject_share_(warn|error)\); reason (\w+): (\d+) rows, e\.g\. "
        r"(sales_transactions_\d{4}\.csv) row (\d+)\. Fix: (.+)",
        result.stdout,
    )
    if status == "pass":
        assert not explained and "crm gate" not in result.stdout
    else:
        # the gate names the source, the share, its top reasons with counts, an example row and the fix
        assert f"crm gate {status.upper()} sales_transactions_reject_share" in result.stdout, result.stdout[-3000:]
        assert 1 <= len(explained) <= 5, result.stdout[-3000:]
        assert {row[2] for row in explained} == {"warn" if status == "warn" else "error"}
        reasons_shown = {row[4]: int(row[5]) for row in explained}
        actual = reasons(database, "stg_crm__sales_transactions_rejects")
        top = sorted(actual.items(), key=lambda item: (-item[1], item[0]))[:5]
        assert reasons_shown == dict(top)
        file, row = explained[0][6], int(explained[0][7])
        first = query(
            database,
            f"""select min(source_row_number) as r from staging.stg_crm__sales_transactions_rejects
                                    where reject_reason = '{explained[0][4]}' and source_file = '{file}'""",
        )["r"][0]
        assert row == first
        assert all(row[8] and row[8] != "see seed reject_reasons" for row in explained)


def test_orphan_lines_over_the_error_share_name_the_missing_customers_fix(tmp_path):
    """A customers master that lacks most customers: the build stops and says why and what to do."""
    raw = tmp_path / "raw"
    generate_data.generate(raw, customers=60, start_year=2024, years=1, seed=21, clean=True, verbose=False)
    master = raw / "customers_master.csv"
    lines = master.read_text().splitlines()
    master.write_text("\n".join(lines[:11]) + "\n")  # header + 10 customers of 60
    result = run_dbt(
        raw, tmp_path / "wh" / "crm.duckdb", "build", "--exclude-resource-type", "unit_test", check=False, raw_link=True
    )
    assert result.returncode == 1
    assert "crm gate FAIL sales_transactions_reject_share" in result.stdout, result.stdout[-3000:]
    match = re.search(
        r"reason unknown_customer_id: (\d+) rows, e\.g\. sales_transactions_2024\.csv row (\d+)\. "
        r"Fix: Deliver the missing customers in customers_master\.csv",
        result.stdout,
    )
    assert match, result.stdout[-3000:]


def test_master_bad_classes(bad_build):
    _, summary, database = bad_build
    assert reasons(database, "stg_crm__customers_rejects") == {
        "missing_customer_id": summary["bad"]["customers"]["missing_customer_id"],
        "duplicate_customer_id": summary["bad"]["customers"]["duplicate_customer_id"],
    }
    assert reasons(database, "stg_crm__products_rejects") == {
        "missing_product_id": summary["bad"]["products"]["missing_product_id"],
        "duplicate_product_id": summary["bad"]["products"]["duplicate_product_id"],
        "unknown_category": summary["bad"]["products"]["unknown_category"],
        "invalid_unit_size": summary["bad"]["products"]["invalid_core_unit_size"],
    }
    flagged = query(database, "select dq_flags from staging.stg_crm__customers where dq_flags is not null")
    consent = flagged["dq_flags"].str.contains("invalid_opt_").sum()
    created = flagged["dq_flags"].str.contains("invalid_created_date").sum()
    assert (consent, created) == (
        summary["bad"]["customers"]["invalid_consent_flag"],
        summary["bad"]["customers"]["invalid_created_date"],
    )


def test_nothing_is_lost_and_sales_reconcile(bad_build):
    raw, summary, database = bad_build
    counts = query(
        database,
        """
        select
            (select count(*) from staging.base_crm__sales_transactions) as raw_rows,
            (select count(*) from staging.stg_crm__sales_transactions) as clean_rows,
            (select count(*) from staging.stg_crm__sales_transactions_rejects) as rejected_rows,
            (select sum(revenue) from marts.fct_sales) as fact_revenue,
            (select sum(revenue) from staging.stg_crm__sales_transactions) as clean_revenue
    """,
    ).iloc[0]
    assert counts["raw_rows"] == summary["transaction_lines"]
    assert counts["clean_rows"] + counts["rejected_rows"] == counts["raw_rows"]
    assert counts["fact_revenue"] == counts["clean_revenue"]
    quality = query(database, "select raw_source, sum(row_count) as n from marts.fct_data_quality group by 1")
    per_source = dict(zip(quality["raw_source"], quality["n"]))
    assert per_source["sales_transactions"] == summary["transaction_lines"]


def test_row_numbers_point_at_the_file_lines(bad_build):
    raw, _, database = bad_build
    rejects = query(
        database,
        """
        select source_file, source_row_number, invoice_id, customer_id, quantity_raw
        from staging.stg_crm__sales_transactions_rejects
    """,
    )
    files = {}
    for name in rejects["source_file"].unique():
        with open(raw / name, newline="") as handle:
            files[name] = list(csv.reader(handle))
    rejects = rejects.astype(object).where(rejects.notna(), None)
    assert len(rejects) > 50
    for row in rejects.itertuples():
        line = files[row.source_file][row.source_row_number]  # index 0 is the header
        assert (line[0].strip() or None, line[1].strip() or None, line[4].strip() or None) == (
            row.invoice_id,
            row.customer_id,
            row.quantity_raw,
        ), row


def copy_demo(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    generate_data.generate(raw, customers=60, seed=5, verbose=False)
    return raw


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("missing_customers", "missing file: no 'customers_master.csv'"),
        ("no_transactions", "missing file: no 'sales_transactions_*.csv'"),
        ("wrong_header", "sales_transactions_2024.csv: wrong header"),
        ("swapped_columns", "same columns, wrong order"),
        ("empty_file", "products_master.csv: file is empty"),
        ("empty_folder", "does not exist or is empty"),
    ],
)
def test_malformed_landing_folder_stops_the_build_with_a_clear_message(tmp_path, breakage, message):
    raw = copy_demo(tmp_path)
    if breakage == "missing_customers":
        (raw / "customers_master.csv").unlink()
    elif breakage == "no_transactions":
        for path in raw.glob("sales_transactions_*.csv"):
            path.unlink()
    elif breakage == "wrong_header":
        path = raw / "sales_transactions_2024.csv"
        text = path.read_text().split("\n", 1)
        path.write_text(text[0].replace("revenue", "amount") + "\n" + text[1])
    elif breakage == "swapped_columns":
        path = raw / "products_master.csv"
        text = path.read_text().split("\n", 1)
        path.write_text(text[0].replace("brand,category", "category,brand") + "\n" + text[1])
    elif breakage == "empty_file":
        (raw / "products_master.csv").write_text("")
    elif breakage == "empty_folder":
        shutil.rmtree(raw)
        raw.mkdir()
    result = run_dbt(raw, tmp_path / "wh" / "crm.duckdb", "build", check=False, raw_link=True)
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]


def test_a_ragged_line_names_the_file(tmp_path):
    raw = copy_demo(tmp_path)
    with open(raw / "sales_transactions_2023.csv", "a") as handle:
        handle.write("INV9,C0000001,2023-05-05,P0001,1\n")
    result = run_dbt(raw, tmp_path / "wh" / "crm.duckdb", "build", check=False, raw_link=True)
    assert result.returncode != 0
    assert "sales_transactions_2023.csv" in result.stdout


def test_source_freshness_flags_a_stale_landing_folder(tmp_path):
    import datetime as dt

    recent = dt.date.today() - dt.timedelta(days=10)
    fresh = tmp_path / "fresh"
    generate_data.generate(
        fresh, customers=60, start_year=recent.year - 1, seed=5, clean=True, end_date=recent.isoformat(), verbose=False
    )
    assert (
        run_dbt(fresh, tmp_path / "wh" / "crm.duckdb", "source", "freshness", check=False, raw_link=True).returncode
        == 0
    )
    stale = tmp_path / "stale"
    generate_data.generate(stale, customers=60, start_year=2020, years=2, seed=5, clean=True, verbose=False)
    result = run_dbt(stale, tmp_path / "wh" / "crm.duckdb", "source", "freshness", check=False, raw_link=True)
    assert result.returncode != 0 and "STALE" in result.stdout
