"""The serving DuckDB file (what Power BI, the app, the Excel report and the campaign lists read):
where it is, one read-only query on it, and its report months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from crm_warehouse.publish import default_paths


class ServingFileMissing(FileNotFoundError):
    """The serving DuckDB file does not exist: the warehouse was never built and published."""


def serving_path() -> Path:
    """The serving DuckDB file (CRM_SERVING_PATH, or crm_serving.duckdb beside CRM_DUCKDB_PATH)."""
    return default_paths()[1]


def read_sql(sql: str, params: Sequence | dict | None = None, path: Path | str | None = None) -> pd.DataFrame:
    """Run one query on the serving file, read-only, and close the connection at once."""
    path = Path(path) if path else serving_path()
    if not path.exists():
        raise ServingFileMissing(f"serving warehouse {path} does not exist: run `make build` first")
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql, params or []).df()


def parse_month(value: str | dt.date | None) -> dt.date | None:
    """'2025-12', '2025-12-01' or a date -> first day of that month; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    try:
        return dt.datetime.strptime(text[:7], "%Y-%m").date()
    except ValueError as error:
        raise ValueError(f"invalid month {value!r}: expected YYYY-MM") from error


def latest_month(path: Path | str | None = None) -> dt.date:
    """The latest report month of the customer snapshot, read from kpi_segment_summary (a row for every
    report month with a snapshot row: data test assert_kpi_marts_cover_every_report_month), so that no
    reader scans the snapshot for it."""
    frame = read_sql("select max(report_month) as m from kpi_segment_summary", path=path)
    value = frame["m"].iloc[0]
    if pd.isna(value):
        raise ValueError("the customer monthly snapshot is empty")
    return pd.Timestamp(value).date()
