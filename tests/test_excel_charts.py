"""The Excel summary's charts and its KPI trend, Cohorts and Campaigns sheets (scripts/excel_charts.py):
a native chart on every sheet, referencing the sheet's own table; values equal the marts."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart

import excel_report
from conftest import sql

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report(serving_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("excel_charts") / "report.xlsx"
    assert excel_report.main(["--out", str(out), "--serving-db", str(serving_db)]) == 0
    return load_workbook(out)


def refs(chart) -> list[str]:
    found = []
    for series in chart.series:
        found.append(series.val.numRef.f)
        if series.cat is not None:
            found.append((series.cat.numRef or series.cat.strRef).f)
    return found


def test_every_sheet_but_cohorts_has_a_native_chart(report):
    kinds = {sheet.title: [type(chart) for chart in sheet._charts] for sheet in report}
    assert kinds["KPI board"] == [LineChart] and kinds["KPI trend"] == [LineChart]
    assert kinds["Segments"] == [BarChart] and kinds["Tiers"] == [BarChart]
    assert kinds["Lifecycle counts"] == [LineChart]
    assert kinds["Campaigns"] == [BarChart]
    assert kinds["Cohorts"] == []  # the triangle is coloured in place (colour scale)


def test_charts_read_their_tables(report):
    segments = report["Segments"]
    last = 1 + sum(1 for (value,) in segments.iter_rows(min_row=2, max_col=1, values_only=True) if value)
    (chart,) = segments._charts
    assert refs(chart) == [f"'Segments'!$B$2:$B${last}", f"'Segments'!$A$2:$A${last}"]
    (board_chart,) = report["KPI board"]._charts
    assert "'KPI trend'!$B$2:$B$14" in refs(board_chart)  # 13 months of sales


def test_cohort_triangle_equals_the_mart_with_a_colour_scale(report, serving_db):
    sheet = report["Cohorts"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Cohort", "Customers", "Month 0"]
    latest = sql(serving_db, "select max(report_month) from fct_customer_monthly_snapshot")[0][0]
    mart = sql(
        serving_db,
        "select strftime(cohort_month, '%Y-%m'), months_since_acquisition, cohort_customers, "
        "retention_rate from kpi_cohort_retention where report_month <= ?",
        [latest],
    )
    cells = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[1] is not None}
    assert len(cells) == len({row[0] for row in mart})
    for cohort, months, size, rate in mart:
        assert cells[cohort][1] == size
        assert cells[cohort][2 + months] == pytest.approx(rate)
    rules = [rule for ranges in sheet.conditional_formatting for rule in ranges.rules]
    assert [rule.type for rule in rules] == ["colorScale"]
    assert sheet["C2"].number_format == "0.0%"


def test_campaign_sheet_equals_the_mart_with_error_bars(report, serving_db):
    mart = sql(
        serving_db,
        "select campaign_id, uplift_pp, uplift_ci_lower_pp, uplift_ci_upper_pp "
        "from kpi_campaign_response order by send_date, campaign_id",
    )
    sheet = report["Campaigns"]
    assert mart, "the serving file has no campaign (the demo data has three, data/demo/campaigns/)"
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True) if row[1] is not None]
    assert [row["Campaign id"] for row in rows] == [row[0] for row in mart]
    for row, (_, uplift, lower, upper) in zip(rows, mart):
        assert row["Uplift (pp)"] == pytest.approx(uplift)
        assert row["Uplift (pp)"] + row["CI +"] == pytest.approx(upper)
        assert row["Uplift (pp)"] - row["CI -"] == pytest.approx(lower)
    (chart,) = sheet._charts
    bars = chart.series[0].errBars
    assert bars.errValType == "cust" and bars.plus.numRef.f.startswith("'Campaigns'!$")
