"""The Excel summary's charts and its cohort, KPI trend and campaign sheets (scripts/excel_report.py).

Each sheet keeps its table (for those who filter) and gets the native Excel chart a reader would
draw by hand (openpyxl charts, editable in Excel):

- KPI board: sales and active customers over the 13 months up to the report month (line chart,
  data on the KPI trend sheet);
- KPI trend: the 13 months of kpi_monthly_board, with a line chart of New, Lost and Reactivated;
- Segments, Tiers: customers by segment / tier (bar charts);
- Lifecycle counts: Active and Not Active customers per month (line chart);
- Cohorts: the retention triangle (kpi_cohort_retention up to the report month; cohorts down,
  months since acquisition across, retention rate in the cells) with a colour scale;
- Campaigns: kpi_campaign_response for the campaigns sent up to the report month's end, and the
  uplift per campaign as bars with the 95% interval as error bars.

Everything is read from the marts; nothing is recomputed here. The sheets are written with the
report's own writer (passed in as `write_sheet`), so they share its header, formats and widths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from crm_warehouse.constants import add_months

MONEY = "#,##0.00"
INTEGER = "#,##0"
PERCENT = "0.0%"
DECIMAL = "0.0"
CHART_WIDTH = 18  # cm
CHART_HEIGHT = 8  # cm

WriteSheet = Callable[[Workbook, str, pd.DataFrame, dict], None]


# --------------------------------------------------------------------------------------------------
# sheet data (marts only)


def kpi_trend_data(month: dt.date, read_sql, path=None) -> pd.DataFrame:
    return read_sql(
        """
        select
            strftime(report_month, '%Y-%m') as "Report month",
            cast(sales as double) as "Sales",
            orders as "Orders",
            active_customers as "Active customers",
            new_customers as "New customers",
            lost_customers as "Lost customers",
            reactivated_customers as "Reactivated customers"
        from kpi_monthly_board
        where report_month between ? and ?
        order by report_month
        """,
        [add_months(month, -12), month],
        path=path,
    )


def cohort_triangle_data(month: dt.date, read_sql, path=None) -> pd.DataFrame:
    """One row per cohort: its size and the retention rate of every month since acquisition."""
    long = read_sql(
        """
        select strftime(cohort_month, '%Y-%m') as cohort, months_since_acquisition, cohort_customers,
               retention_rate
        from kpi_cohort_retention
        where report_month <= ?
        order by cohort_month, months_since_acquisition
        """,
        [month],
        path=path,
    )
    if long.empty:
        return pd.DataFrame(columns=["Cohort", "Customers", "Month 0"])
    wide = long.pivot(index="cohort", columns="months_since_acquisition", values="retention_rate")
    wide.columns = [f"Month {column}" for column in wide.columns]
    sizes = long.groupby("cohort")["cohort_customers"].first()
    frame = pd.concat([sizes.rename("Customers"), wide], axis=1).reset_index(names="Cohort")
    return frame


def campaigns_data(month: dt.date, read_sql, path=None) -> pd.DataFrame:
    frame = read_sql(
        """
        select
            campaign_name as "Campaign",
            campaign_id as "Campaign id",
            channel as "Channel",
            strftime(send_date, '%Y-%m-%d') as "Send date",
            campaign_status as "Status",
            contacted_members as "Contacted",
            holdout_members as "Held out",
            contacted_response_rate as "Contacted response rate",
            holdout_response_rate as "Held-out response rate",
            uplift_pp as "Uplift (pp)",
            uplift_ci_lower_pp as "95% CI low (pp)",
            uplift_ci_upper_pp as "95% CI high (pp)",
            case when is_uplift_significant then 'yes' when not is_uplift_significant then 'no' end
                as "Significant",
            cast(contacted_revenue_per_member as double) as "Revenue per contacted member",
            cast(holdout_revenue_per_member as double) as "Revenue per held-out member",
            cast(incremental_revenue as double) as "Incremental revenue"
        from kpi_campaign_response
        where send_date <= last_day(cast(? as date))
        order by send_date, campaign_id
        """,
        [month],
        path=path,
    )
    # error-bar lengths of the uplift chart (Excel wants the distances, not the bounds)
    frame["CI +"] = frame["95% CI high (pp)"] - frame["Uplift (pp)"]
    frame["CI -"] = frame["Uplift (pp)"] - frame["95% CI low (pp)"]
    return frame


# --------------------------------------------------------------------------------------------------
# sheets and charts


def add_sheets(workbook: Workbook, month: dt.date, read_sql, write_sheet: WriteSheet, path=None) -> None:
    """The KPI trend (after KPI board), Cohorts and Campaigns sheets."""
    trend = kpi_trend_data(month, read_sql, path)
    write_sheet(
        workbook,
        "KPI trend",
        trend,
        {"Sales": MONEY, **{c: INTEGER for c in trend.columns if c not in ("Report month", "Sales")}},
    )
    workbook.move_sheet("KPI trend", offset=-(len(workbook.sheetnames) - 2))

    cohorts = cohort_triangle_data(month, read_sql, path)
    write_sheet(
        workbook,
        "Cohorts",
        cohorts,
        {"Customers": INTEGER, **{c: PERCENT for c in cohorts.columns if c.startswith("Month ")}},
    )
    sheet = workbook["Cohorts"]
    if len(cohorts) and len(cohorts.columns) > 2:
        cells = f"C2:{get_column_letter(len(cohorts.columns))}{len(cohorts) + 1}"
        sheet.conditional_formatting.add(
            cells,
            ColorScaleRule(
                start_type="num",
                start_value=0,
                start_color="FFFFFF",
                mid_type="percentile",
                mid_value=50,
                mid_color="9DC3E6",
                end_type="max",
                end_color="1F4E79",
            ),
        )
        for column in range(3, len(cohorts.columns) + 1):
            sheet.column_dimensions[get_column_letter(column)].width = 9
    note_row = len(cohorts) + 3
    sheet.cell(
        row=note_row,
        column=1,
        value=(
            "Cohort = month of the first core purchase; cells = share of the cohort with a core purchase in the "
            "month (Month 0 = the cohort month). Source: kpi_cohort_retention."
        ),
    )

    campaigns = campaigns_data(month, read_sql, path)
    formats = {c: PERCENT for c in ("Contacted response rate", "Held-out response rate")}
    formats.update({c: DECIMAL for c in ("Uplift (pp)", "95% CI low (pp)", "95% CI high (pp)", "CI +", "CI -")})
    formats.update(
        {c: MONEY for c in ("Revenue per contacted member", "Revenue per held-out member", "Incremental revenue")}
    )
    formats.update({"Contacted": INTEGER, "Held out": INTEGER})
    write_sheet(workbook, "Campaigns", campaigns, formats)
    if campaigns.empty:
        workbook["Campaigns"].cell(
            row=3,
            column=1,
            value=("No campaign sent up to this month. Record one with scripts/campaign_list.py --campaign-name."),
        )


def add_charts(workbook: Workbook) -> None:
    """A native chart on every sheet that has data for one."""
    trend = workbook["KPI trend"]
    months = trend.max_row - 1
    if months > 0:
        categories = Reference(trend, min_col=1, min_row=2, max_row=trend.max_row)
        chart = _line_chart("Sales, last 13 months", "Sales")
        chart.add_data(Reference(trend, min_col=2, min_row=1, max_row=trend.max_row), titles_from_data=True)
        chart.set_categories(categories)
        customers = LineChart()
        customers.add_data(Reference(trend, min_col=4, min_row=1, max_row=trend.max_row), titles_from_data=True)
        customers.y_axis.axId = 200
        customers.y_axis.title = "Active customers"
        customers.y_axis.crosses = "max"
        chart += customers
        workbook["KPI board"].add_chart(chart, "H2")

        events = _line_chart("New, Lost and Reactivated customers", "Customers")
        events.add_data(Reference(trend, min_col=5, max_col=7, min_row=1, max_row=trend.max_row), titles_from_data=True)
        events.set_categories(categories)
        trend.add_chart(events, "I2")

    for title, label in (("Segments", "Customers by RFM segment"), ("Tiers", "Customers by value tier")):
        sheet = workbook[title]
        if sheet.max_row > 1:
            chart = BarChart()
            chart.type = "bar"  # horizontal: the labels stay readable
            chart.title = label
            chart.y_axis.title = "Customers"
            chart.legend = None
            chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=sheet.max_row), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
            chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
            _size(chart)
            sheet.add_chart(chart, f"A{sheet.max_row + 3}")

    lifecycle = workbook["Lifecycle counts"]
    if lifecycle.max_row > 1:
        chart = _line_chart("Active and Not Active customers", "Customers")
        chart.add_data(
            Reference(lifecycle, min_col=3, max_col=4, min_row=1, max_row=lifecycle.max_row), titles_from_data=True
        )
        chart.set_categories(Reference(lifecycle, min_col=1, min_row=2, max_row=lifecycle.max_row))
        lifecycle.add_chart(chart, f"A{lifecycle.max_row + 3}")

    campaigns = workbook["Campaigns"]
    rows = campaigns.max_row
    if rows > 1 and campaigns.cell(row=2, column=2).value is not None:  # not the "no campaign" note
        header = [cell.value for cell in campaigns[1]]
        uplift = header.index("Uplift (pp)") + 1
        plus = get_column_letter(header.index("CI +") + 1)
        minus = get_column_letter(header.index("CI -") + 1)
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Uplift with its 95% confidence interval (percentage points)"
        chart.legend = None
        chart.add_data(Reference(campaigns, min_col=uplift, min_row=1, max_row=rows), titles_from_data=True)
        chart.set_categories(Reference(campaigns, min_col=1, min_row=2, max_row=rows))
        chart.x_axis.scaling.orientation = "maxMin"
        chart.series[0].errBars = ErrorBars(
            errDir="y",
            errBarType="both",
            errValType="cust",
            noEndCap=False,
            plus=NumDataSource(numRef=NumRef(f=f"'Campaigns'!${plus}$2:${plus}${rows}")),
            minus=NumDataSource(numRef=NumRef(f=f"'Campaigns'!${minus}$2:${minus}${rows}")),
        )
        _size(chart)
        campaigns.add_chart(chart, f"A{rows + 3}")


def _line_chart(title: str, y_title: str) -> LineChart:
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.x_axis.number_format = "@"
    _size(chart)
    return chart


def _size(chart) -> None:
    chart.width = CHART_WIDTH
    chart.height = CHART_HEIGHT
    # recent Excel versions hide axes whose `delete` flag is unset
    chart.x_axis.delete = False
    chart.y_axis.delete = False
