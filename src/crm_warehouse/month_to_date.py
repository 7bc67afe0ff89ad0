"""Month to date (SPEC section 13): how the app and the Excel report say that a report month is partial.

The rule (what completes a month) lives in the dbt model int_report_months; every monthly mart
carries its result (is_month_complete, data_as_of_date). This module only reads and words it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

# one row per report month, read from the serving file (any monthly mart carries the same flags)
STATUS_SQL = "select is_month_complete, data_as_of_date from kpi_monthly_board where report_month = ?"


def label(is_complete: bool | None, data_as_of) -> str | None:
    """'month to date, data up to YYYY-MM-DD' for a partial month; None for a complete one."""
    if is_complete is None or bool(is_complete):
        return None
    when = "an unknown date" if data_as_of is None or pd.isna(data_as_of) else f"{pd.Timestamp(data_as_of):%Y-%m-%d}"
    return f"month to date, data up to {when}"


def status(frame: pd.DataFrame) -> str | None:
    """label() of the first row of a STATUS_SQL result (None when the month has no row)."""
    if frame.empty:
        return None
    return label(frame["is_month_complete"].iloc[0], frame["data_as_of_date"].iloc[0])


def month_param(month: dt.date) -> list:
    return [pd.Timestamp(month).date()]
