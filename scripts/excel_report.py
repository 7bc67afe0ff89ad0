#!/usr/bin/env python3
"""Excel summary report of one report month.

    python scripts/excel_report.py [--month YYYY-MM] --out report.xlsx [--serving-db PATH]

One workbook per report month (default: the latest) with eight sheets, read from the serving
DuckDB file (read-only):

- KPI board: the month's KPIs (kpi_monthly_board) with the previous month, month-on-month change,
  the same month a year earlier and year-on-year change;
- Segments: customers and sales by RFM segment (kpi_segment_summary) with shares, description and
  suggested action (dim_rfm_segments);
- Tiers: customers and sales by value tier (kpi_tier_summary) with shares;
- Lifecycle counts: per report month over the 13 months up to the report month, customers by
  activity status, lifecycle event (New, Lost, Reactivated) and value tier;
- KPI trend, Cohorts, Campaigns: the 13 months of the KPI board, the cohort retention triangle with a
  colour scale, and the recorded campaigns with their uplift (scripts/excel_charts.py);
- Customer value: per RFM segment and per value tier, customers, mean P(alive), sum, mean and
  share of clv_12m and the expected repeat purchases of the next 12 months
  (kpi_customer_value_by_segment / _by_tier, SPEC section 9).

Each sheet also carries the native Excel chart a reader would draw by hand (scripts/excel_charts.py).

Every sheet has a bold, frozen header row in row 1, number formats for money and percentages, and
column widths fitted to the content. Text (segment names, descriptions, actions from the seeds) is
stored as text cells, never as formulas (scripts/safe_export.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

import excel_charts
from crm_warehouse import constants, month_to_date, safe_export
from crm_warehouse.constants import add_months
from crm_warehouse.serving_file import ServingFileMissing, latest_month, parse_month, read_sql

MONEY = "#,##0.00"
INTEGER = "#,##0"
PERCENT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")

# (column in kpi_monthly_board, label, number format), in board order
KPI_MEASURES = tuple(
    (column, label, MONEY if kind == "money" else INTEGER) for column, label, kind in constants.KPI_MEASURES
)
TIER_ORDER = constants.TIER_ORDER
SHEETS = ("KPI board", "KPI trend", "Segments", "Tiers", "Lifecycle counts", "Cohorts", "Campaigns", "Customer value")


def kpi_sheet_data(month: dt.date, path=None) -> pd.DataFrame:
    board = read_sql("select * from kpi_monthly_board order by report_month", path=path)
    board["report_month"] = pd.to_datetime(board["report_month"]).dt.date
    by_month = board.set_index("report_month")
    if month not in by_month.index:
        raise ValueError(f"no KPI row for {month:%Y-%m} in kpi_monthly_board")
    current = by_month.loc[month]
    previous_month = by_month.loc[add_months(month, -1)] if add_months(month, -1) in by_month.index else None
    previous_year = by_month.loc[add_months(month, -12)] if add_months(month, -12) in by_month.index else None
    rows = []
    for column, label, _ in KPI_MEASURES:
        rows.append(
            {
                "KPI": label,
                "Value": current[column],
                "Previous month": None if previous_month is None else previous_month[column],
                "MoM change": current.get(f"{column}_mom_change"),
                "Same month last year": None if previous_year is None else previous_year[column],
                "YoY change": current.get(f"{column}_yoy_change"),
            }
        )
    return pd.DataFrame(rows)


def segments_sheet_data(month: dt.date, path=None) -> pd.DataFrame:
    return read_sql(
        f"""
        select
            summary.rfm_segment as "Segment",
            summary.customers as "Customers",
            summary.share_of_customers as "Share of customers",
            cast(summary.sales_month as double) as "Sales in month",
            summary.share_of_sales_month as "Share of sales in month",
            cast(summary.sales_12m as double) as "Sales 12 months",
            summary.share_of_sales_12m as "Share of sales 12 months",
            segments.segment_description as "Description",
            segments.segment_suggested_action as "Suggested action"
        from kpi_segment_summary as summary
        left join dim_rfm_segments as segments
            on summary.rfm_segment = segments.segment_label
        where summary.report_month = ?
        order by {constants.segment_order("segments")}, summary.rfm_segment
        """,
        [month],
        path=path,
    )


def tiers_sheet_data(month: dt.date, path=None) -> pd.DataFrame:
    frame = read_sql(
        """
        select
            value_tier as "Tier",
            customers as "Customers",
            share_of_customers as "Share of customers",
            cast(sales_month as double) as "Sales in month",
            share_of_sales_month as "Share of sales in month",
            cast(sales_12m as double) as "Sales 12 months",
            share_of_sales_12m as "Share of sales 12 months",
            cast(units_12m as double) as "Units 12 months"
        from kpi_tier_summary
        where report_month = ?
        """,
        [month],
        path=path,
    )
    order = {tier: index for index, tier in enumerate(TIER_ORDER)}
    return frame.sort_values("Tier", key=lambda s: s.map(lambda t: order.get(t, 99))).reset_index(drop=True)


def value_sheet_data(month: dt.date, path=None) -> pd.DataFrame:
    """Customer value by segment, then by tier (one block each, told apart by "Group by")."""
    blocks = []
    for label, table, column in (
        ("Segment", "kpi_customer_value_by_segment", "rfm_segment"),
        ("Tier", "kpi_customer_value_by_tier", "value_tier"),
    ):
        blocks.append(
            read_sql(
                f"""
            select
                '{label}' as "Group by",
                {column} as "Group",
                customers as "Customers",
                mean_p_alive as "Mean P(alive)",
                cast(clv_12m as double) as "CLV 12 months",
                cast(mean_clv_12m as double) as "Mean CLV 12 months",
                share_of_clv_12m as "Share of CLV 12 months",
                expected_occasions_12m as "Expected purchases 12 months"
            from {table}
            where report_month = ?
            order by clv_12m desc
            """,
                [month],
                path=path,
            )
        )
    return pd.concat(blocks, ignore_index=True)


def _add_value_chart(sheet) -> None:
    """A native bar chart of clv_12m by RFM segment (the sheet's first block)."""
    from openpyxl.chart import BarChart, Reference

    segments = sum(
        1 for (group_by,) in sheet.iter_rows(min_row=2, max_col=1, values_only=True) if group_by == "Segment"
    )
    if not segments:
        return
    chart = BarChart()
    chart.type = "bar"
    chart.title = "CLV 12 months by RFM segment"
    chart.add_data(Reference(sheet, min_col=5, min_row=1, max_row=1 + segments), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=2, min_row=2, max_row=1 + segments))
    chart.y_axis.reverseOrder = False
    sheet.add_chart(chart, "J2")


def lifecycle_sheet_data(month: dt.date, path=None) -> pd.DataFrame:
    """The 13 months up to `month`: customers by lifecycle event (kpi_monthly_board) and by status
    and tier (kpi_tier_summary, one column per tier: a pivot of the mart, no count of our own)."""
    tiers = ", ".join(
        f"max(tiers.customers) filter (where tiers.value_tier = '{tier}') as \"{tier}\"" for tier in TIER_ORDER[:-1]
    )
    frame = read_sql(
        f"""
        select
            strftime(board.report_month, '%Y-%m') as "Report month",
            board.crm_customers as "CRM customers",
            board.active_customers as "Active",
            max(tiers.customers) filter (where tiers.value_tier = '{constants.NOT_ACTIVE}') as "{constants.NOT_ACTIVE}",
            board.new_customers as "New",
            board.lost_customers as "Lost",
            board.reactivated_customers as "Reactivated",
            {tiers}
        from kpi_monthly_board as board
        left join kpi_tier_summary as tiers on board.report_month = tiers.report_month
        where board.report_month between ? and ?
        group by all
        order by 1
        """,
        [add_months(month, -12), month],
        path=path,
    )
    # a tier without customers in a month has no kpi_tier_summary row: 0 customers
    counts = [column for column in frame.columns if column != "Report month"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    return frame


def _write_sheet(workbook: Workbook, title: str, frame: pd.DataFrame, formats: dict[str, str]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    for row in frame.itertuples(index=False):
        sheet.append([_cell_value(value) for value in row])
    for index, column in enumerate(frame.columns, start=1):
        number_format = formats.get(column)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        texts = [str(column)] + [_display(value, number_format) for value in frame[column]]
        sheet.column_dimensions[get_column_letter(index)].width = min(max(len(t) for t in texts) + 3, 60)
    sheet.freeze_panes = "A2"


def _cell_value(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def _display(value, number_format: str | None) -> str:
    value = _cell_value(value)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and number_format == PERCENT:
        return f"{value:.1%}"
    if isinstance(value, (int, float)):
        return f"{value:,.2f}"
    return str(value)


def build_report(month: str | dt.date | None = None, out: Path | str = "report.xlsx", path=None) -> Path:
    """Write the summary workbook of `month` (default: latest report month) to `out`."""
    month = parse_month(month) or latest_month(path)
    known = read_sql("select distinct report_month from fct_customer_monthly_snapshot", path=path)
    if month not in set(pd.to_datetime(known["report_month"]).dt.date):
        raise ValueError(f"{month:%Y-%m} is not a report month of the snapshot")

    workbook = Workbook()
    workbook.remove(workbook.active)

    kpis = kpi_sheet_data(month, path)
    _write_sheet(
        workbook,
        "KPI board",
        kpis,
        {
            "MoM change": PERCENT,
            "YoY change": PERCENT,
        },
    )
    kpi_sheet = workbook["KPI board"]
    # the report month and, for a partial month, "month to date, data up to YYYY-MM-DD" (SPEC section 13)
    partial = month_to_date.status(
        read_sql(month_to_date.STATUS_SQL, path=path, params=month_to_date.month_param(month))
    )
    # in the row after a blank one below the KPIs
    status_row = len(KPI_MEASURES) + 3
    kpi_sheet.cell(row=status_row, column=1, value="Report month").font = Font(bold=True)
    status = kpi_sheet.cell(
        row=status_row, column=2, value=f"{month:%Y-%m}, {partial}" if partial else f"{month:%Y-%m}, complete month"
    )
    if partial:
        status.font = Font(bold=True, color="C0392B")
    for row_index, (_, _, number_format) in enumerate(KPI_MEASURES, start=2):
        for column_index in (2, 3, 5):
            kpi_sheet.cell(row=row_index, column=column_index).number_format = number_format

    share_columns = ("Share of customers", "Share of sales in month", "Share of sales 12 months")
    money_columns = ("Sales in month", "Sales 12 months")
    summary_formats = {
        **{c: PERCENT for c in share_columns},
        **{c: MONEY for c in money_columns},
        "Customers": INTEGER,
        "Units 12 months": INTEGER,
    }
    _write_sheet(workbook, "Segments", segments_sheet_data(month, path), summary_formats)
    _write_sheet(workbook, "Tiers", tiers_sheet_data(month, path), summary_formats)
    lifecycle = lifecycle_sheet_data(month, path)
    _write_sheet(
        workbook,
        "Lifecycle counts",
        lifecycle,
        {column: INTEGER for column in lifecycle.columns if column != "Report month"},
    )
    excel_charts.add_sheets(workbook, month, read_sql, _write_sheet, path)
    _write_sheet(
        workbook,
        "Customer value",
        value_sheet_data(month, path),
        {
            "Customers": INTEGER,
            "Mean P(alive)": PERCENT,
            "CLV 12 months": MONEY,
            "Mean CLV 12 months": MONEY,
            "Share of CLV 12 months": PERCENT,
            "Expected purchases 12 months": INTEGER,
        },
    )
    excel_charts.add_charts(workbook)
    _add_value_chart(workbook["Customer value"])

    workbook.properties.title = f"CRM summary {month:%Y-%m}" + (f" ({partial})" if partial else "")
    return safe_export.save_workbook(workbook, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--month", help="report month YYYY-MM (default: the latest)")
    parser.add_argument("--out", type=Path, help="output .xlsx (default: crm_report_YYYY-MM.xlsx)")
    parser.add_argument("--serving-db", type=Path, help="serving DuckDB file (default: CRM_SERVING_PATH)")
    args = parser.parse_args(argv)
    try:
        month = parse_month(args.month) or latest_month(args.serving_db)
        out = args.out or Path(f"crm_report_{month:%Y-%m}.xlsx")
        if out.suffix.lower() != ".xlsx":
            raise ValueError(f"{out.name}: the report is an .xlsx workbook")
        build_report(month, out, args.serving_db)
    except (ServingFileMissing, ValueError) as error:
        print(f"[crm] {error}", file=sys.stderr)
        return 2
    print(f"[crm] report for {month:%Y-%m} written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
