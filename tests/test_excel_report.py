"""Excel summary report (scripts/excel_report.py): sheets, headers, formats, values from the marts."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

import excel_report
from conftest import sql

ROOT = Path(__file__).resolve().parent.parent

HEADERS = {
    "KPI board": ["KPI", "Value", "Previous month", "MoM change", "Same month last year", "YoY change"],
    "Segments": [
        "Segment",
        "Customers",
        "Share of customers",
        "Sales in month",
        "Share of sales in month",
        "Sales 12 months",
        "Share of sales 12 months",
        "Description",
        "Suggested action",
    ],
    "Tiers": [
        "Tier",
        "Customers",
        "Share of customers",
        "Sales in month",
        "Share of sales in month",
        "Sales 12 months",
        "Share of sales 12 months",
        "Units 12 months",
    ],
}


@pytest.fixture(scope="session")
def months(serving_db):
    return [
        row[0]
        for row in sql(serving_db, "select distinct report_month from fct_customer_monthly_snapshot order by 1 desc")
    ]


@pytest.fixture(scope="session")
def latest_report(serving_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("excel") / "report.xlsx"
    code = excel_report.main(["--out", str(out), "--serving-db", str(serving_db)])
    assert code == 0
    return load_workbook(out)


def rows(sheet) -> dict:
    """First column -> row values, for the data rows of a sheet."""
    return {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}


def test_sheets_and_headers(latest_report):
    assert latest_report.sheetnames == list(excel_report.SHEETS)
    for name, header in HEADERS.items():
        assert [cell.value for cell in latest_report[name][1]] == header
    lifecycle = [cell.value for cell in latest_report["Lifecycle counts"][1]]
    assert lifecycle[:7] == ["Report month", "CRM customers", "Active", "Not Active", "New", "Lost", "Reactivated"]


def test_formatting(latest_report):
    for sheet in latest_report:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1]), sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title
    kpis = latest_report["KPI board"]
    assert kpis["D2"].number_format == "0.0%" and kpis["F2"].number_format == "0.0%"
    assert kpis["B2"].number_format == "#,##0.00"  # sales: money
    assert kpis["B3"].number_format == "#,##0"  # orders: count
    segments = latest_report["Segments"]
    assert segments["C2"].number_format == "0.0%" and segments["D2"].number_format == "#,##0.00"


def test_kpi_values_equal_kpi_monthly_board(serving_db, months, latest_report):
    latest = months[0]
    sales, orders, active, mom, yoy = sql(
        serving_db,
        "select sales, orders, active_customers, sales_mom_change, sales_yoy_change from kpi_monthly_board "
        "where report_month = ?",
        [latest],
    )[0]
    kpis = rows(latest_report["KPI board"])
    assert kpis["Sales"][1] == pytest.approx(float(sales))
    assert kpis["Orders"][1] == orders
    assert kpis["Active customers"][1] == active
    assert kpis["Sales"][3] == pytest.approx(mom) if mom is not None else kpis["Sales"][3] is None
    assert kpis["Sales"][5] == pytest.approx(yoy) if yoy is not None else kpis["Sales"][5] is None


def test_segments_tiers_and_lifecycle_equal_the_marts(serving_db, months, latest_report):
    latest = months[0]
    segments = rows(latest_report["Segments"])
    expected = dict(
        sql(serving_db, "select rfm_segment, customers from kpi_segment_summary where report_month = ?", [latest])
    )
    assert {name: row[1] for name, row in segments.items()} == expected
    tiers = rows(latest_report["Tiers"])
    expected = dict(
        sql(serving_db, "select value_tier, customers from kpi_tier_summary where report_month = ?", [latest])
    )
    assert {name: row[1] for name, row in tiers.items()} == expected
    lifecycle = rows(latest_report["Lifecycle counts"])
    assert max(lifecycle) == f"{latest:%Y-%m}"
    new, lost, active = sql(
        serving_db,
        "select new_customers, lost_customers, active_customers from kpi_monthly_board where report_month = ?",
        [latest],
    )[0]
    assert lifecycle[f"{latest:%Y-%m}"][2] == active
    assert lifecycle[f"{latest:%Y-%m}"][4] == new
    assert lifecycle[f"{latest:%Y-%m}"][5] == lost


def test_customer_value_sheet_equals_the_marts(serving_db, months, latest_report):
    latest = months[0]
    sheet = latest_report["Customer value"]
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Group by",
        "Group",
        "Customers",
        "Mean P(alive)",
        "CLV 12 months",
        "Mean CLV 12 months",
        "Share of CLV 12 months",
        "Expected purchases 12 months",
    ]
    assert sheet["D2"].number_format == "0.0%" and sheet["E2"].number_format == "#,##0.00"
    (chart,) = sheet._charts  # clv_12m by segment, read from the sheet's own table
    assert chart.series[0].val.numRef.f.startswith("'Customer value'!$E$2")
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    for label, table, column in (
        ("Segment", "kpi_customer_value_by_segment", "rfm_segment"),
        ("Tier", "kpi_customer_value_by_tier", "value_tier"),
    ):
        expected = {
            group: (customers, float(clv))
            for group, customers, clv in sql(
                serving_db, f"select {column}, customers, clv_12m from {table} where report_month = ?", [latest]
            )
        }
        got = {row[1]: (row[2], row[4]) for row in values if row[0] == label}
        assert got.keys() == expected.keys() and expected
        for group, (customers, clv) in expected.items():
            assert got[group][0] == customers and got[group][1] == pytest.approx(clv)


def test_month_argument(serving_db, months, tmp_path):
    month = months[min(5, len(months) - 1)]
    out = excel_report.build_report(f"{month:%Y-%m}", tmp_path / "earlier.xlsx", serving_db)
    workbook = load_workbook(out)
    sales = sql(serving_db, "select sales from kpi_monthly_board where report_month = ?", [month])[0][0]
    assert rows(workbook["KPI board"])["Sales"][1] == pytest.approx(float(sales))
    assert max(rows(workbook["Lifecycle counts"])) == f"{month:%Y-%m}"


def test_errors_are_messages(serving_db, tmp_path, capsys):
    assert (
        excel_report.main(["--month", "1999-01", "--out", str(tmp_path / "r.xlsx"), "--serving-db", str(serving_db)])
        == 2
    )
    assert "not a report month" in capsys.readouterr().err
    assert excel_report.main(["--out", str(tmp_path / "r.xlsx"), "--serving-db", str(tmp_path / "none.duckdb")]) == 2
    assert "make build" in capsys.readouterr().err


def partial_copy(serving_db: Path, target: Path, month, as_of: str) -> Path:
    """A copy of the serving file whose `month` is month to date (as a daily refresh leaves it)."""
    import shutil

    import duckdb

    shutil.copy(serving_db, target)
    with duckdb.connect(str(target)) as connection:
        for table in ("kpi_monthly_board", "kpi_segment_summary", "kpi_tier_summary", "fct_customer_monthly_snapshot"):
            connection.execute(
                f"update {table} set is_month_complete = false, data_as_of_date = ? where report_month = ?",
                [as_of, month],
            )
    return target


def month_status(sheet):
    """The cell right of "Report month", below the KPI rows of the KPI board sheet."""
    found = [row for row in sheet.iter_rows(min_row=2) if row[0].value == "Report month"]
    assert len(found) == 1
    return found[0][1]


def test_a_complete_month_is_said_complete(latest_report, months):
    assert month_status(latest_report["KPI board"]).value == f"{months[0]:%Y-%m}, complete month"


def test_a_partial_month_says_month_to_date_and_the_data_date(serving_db, months, tmp_path):
    """SPEC section 13: "month to date, data up to YYYY-MM-DD" on the KPI board sheet and in the title."""
    latest = months[0]
    as_of = f"{latest:%Y-%m}-07"
    path = partial_copy(serving_db, tmp_path / "partial.duckdb", latest, as_of)
    out = tmp_path / "partial.xlsx"
    assert excel_report.main(["--out", str(out), "--serving-db", str(path)]) == 0
    workbook = load_workbook(out)
    expected = f"{latest:%Y-%m}, month to date, data up to {as_of}"
    status = month_status(workbook["KPI board"])
    assert status.value == expected and status.font.bold
    assert f"month to date, data up to {as_of}" in workbook.properties.title
