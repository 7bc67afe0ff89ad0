"""Data access for the CRM app: read-only queries on the serving DuckDB file.

Every query opens the serving file read-only and closes it at once, so a rebuild can swap the file
(scripts/publish.py renames a new file over it). Results are cached per (file, modification time,
query): a new publish changes the modification time, so the app never shows stale marts.

Personal data (SPEC section 12) is not in the serving file: the pages identify customers by
customer_id. Only the Campaign lists page, when the user asks for contact details, reads them from
the build warehouse (crm_warehouse.pii.read_contacts: read-only, one query, closed at once), and
every download holding them is recorded in the export log (pii.log_export).

Every page reads marts shaped for it, filtered by report month (and segment), never aggregating
the snapshot, fct_sales or fct_customer_value at view time: the time of a page does not grow with
the number of customers. Customer lists (RFM by customer, campaign lists) are read a page at a time
with a server-side order and limit.

Segment filter: on the customer pages (segments, RFM by customer, lifecycle, customer value,
campaign lists) a segment selection restricts the page to the customers who are in that segment in
the selected report month (snapshot rfm_segment, `Not Active` for in-scope customers without a
segment, `Anonymous` for the anonymous walk-in customers of dim_customers). The sales pages (KPI
board, sales trend, categories) follow the customer's current segment (dim_customers.segment_label,
the key the BI marts kpi_monthly_board_by_segment, kpi_sales_by_period and kpi_sales_by_category are
split by, as the Power BI slicer); in the latest report month both rules are the same.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from crm_warehouse import campaign_list, pii, project_settings, safe_export, serving_file
from crm_warehouse import month_to_date as month_to_date_text
from crm_warehouse.constants import (
    ANONYMOUS,
    KPI_MEASURES,  # noqa: F401  (re-exported: app/views use data.KPI_MEASURES)
    NOT_ACTIVE,
    TIER_ORDER,  # noqa: F401  (re-exported: app/views use data.TIER_ORDER)
    add_months,
    month_end,
    or_not_active,
    segment_order,
)
from crm_warehouse.serving_file import ServingFileMissing  # noqa: F401  (re-exported for the app)

ALL_SEGMENTS = "All customers"
STATUS_ORDER = ["Active", NOT_ACTIVE]
EVENT_ORDER = ["New", "Reactivated", "Lost"]
PERIOD_TYPES = ["day", "month", "quarter", "year"]


# --------------------------------------------------------------------------------------------------
# Connection and cache


def serving_path() -> Path:
    return serving_file.serving_path()


def serving_file_state() -> tuple[str, int]:
    """(path, modification time in ns) of the serving file; raises ServingFileMissing."""
    path = serving_path()
    try:
        return str(path), path.stat().st_mtime_ns
    except FileNotFoundError as error:
        raise ServingFileMissing(f"serving warehouse {path} does not exist: run `make build` first") from error


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(path: str, mtime_ns: int, sql: str, params: tuple) -> pd.DataFrame:
    del mtime_ns  # part of the cache key only
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql, list(params)).df()


def query(sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run a read-only query on the serving file (cached per file version). Returns a copy."""
    path, mtime_ns = serving_file_state()
    return _cached_query(path, mtime_ns, sql, tuple(params)).copy()


def to_date(value) -> dt.date:
    return pd.Timestamp(value).date()


# --------------------------------------------------------------------------------------------------
# Reference lists


def report_months() -> list[dt.date]:
    """Report months of the customer snapshot, latest first (kpi_segment_summary has a row for every
    report month with a snapshot row: data test assert_kpi_marts_cover_every_report_month)."""
    frame = query("select distinct report_month from kpi_segment_summary order by report_month desc")
    return [to_date(value) for value in frame["report_month"]]


def incomplete_history() -> tuple[dt.date, dt.date] | None:
    """First and last report month whose windows still reach before the first month of data.

    Read from kpi_monthly_board.is_history_complete (the rule lives in int_report_months); None
    when every month has complete history.
    """
    frame = query(
        "select min(report_month) as first_month, max(report_month) as last_month "
        "from kpi_monthly_board where not is_history_complete"
    )
    if frame.empty or pd.isna(frame["first_month"][0]):
        return None
    return to_date(frame["first_month"][0]), to_date(frame["last_month"][0])


def month_to_date(month: dt.date) -> str | None:
    """'month to date, data up to YYYY-MM-DD' when `month` is partial (SPEC section 13), else None.

    Read from kpi_monthly_board.is_month_complete / data_as_of_date (the rule lives in int_report_months)."""
    return month_to_date_text.status(query(month_to_date_text.STATUS_SQL, month_to_date_text.month_param(month)))


def segments() -> pd.DataFrame:
    """dim_rfm_segments ordered by priority (RFM segments, then Not Active and Anonymous)."""
    return query("select * from dim_rfm_segments order by segment_priority, segment_label")


def score_options() -> list[int]:
    """The R, F, M and T scores of this build, best first (var crm_score_bins: 5 to 1 by default, 4 to 1
    with the bank's scheme), read from kpi_rfm_score_bands."""
    scores = query("select distinct cast(score as integer) as score from kpi_rfm_score_bands order by score desc")
    return [int(score) for score in scores["score"]]


def latest_build() -> pd.DataFrame:
    return query("select build_id, built_at from fct_data_quality order by built_at desc limit 1")


# --------------------------------------------------------------------------------------------------
# Segment filter


def segment_customers(month: dt.date, segment: str | None) -> int:
    """Customers of the segment in `month` (kpi_segment_summary; the anonymous walk-ins: dim_customers)."""
    if segment == ANONYMOUS:
        frame = query("select count(*) as n from dim_customers where is_anonymous")
    elif segment:
        frame = query(
            "select coalesce(sum(customers), 0) as n from kpi_segment_summary where report_month = ? and rfm_segment = ?",
            [month, segment],
        )
    else:
        frame = query(
            "select coalesce(sum(customers), 0) as n from kpi_segment_summary where report_month = ?", [month]
        )
    return int(frame["n"].iloc[0])


# --------------------------------------------------------------------------------------------------
# KPI board


def kpi_board(month: dt.date, segment: str | None) -> pd.DataFrame:
    """All months of the KPI board: the kpi_monthly_board mart, or kpi_monthly_board_by_segment for a
    segment (its customers by their current segment, dim_customers.segment_label, as the sales marts
    and the Power BI slicer). Measures and changes are defined in SQL only (macros/crm_kpi_board.sql)."""
    if segment:
        board = query(
            "select * exclude (segment_label) from kpi_monthly_board_by_segment "
            "where segment_label = ? order by report_month",
            [segment],
        )
    else:
        board = query("select * from kpi_monthly_board order by report_month")
    for column in board.columns:
        if column not in ("report_month", "data_as_of_date"):  # measures (and the flags) as numbers
            board[column] = board[column].astype("float64")
    return board


# --------------------------------------------------------------------------------------------------
# Segments


def _by_segment(mart: str, month: dt.date, segment_columns: str) -> pd.DataFrame:
    """The month's rows of a mart split by rfm_segment with segment_columns of dim_rfm_segments (alias
    segments), in segment order."""
    return query(
        f"""
        select summary.*, {segment_columns}
        from {mart} as summary
        left join dim_rfm_segments as segments on summary.rfm_segment = segments.segment_label
        where summary.report_month = ?
        order by {segment_order("segments")}, summary.rfm_segment
        """,
        [month],
    )


def segment_summary(month: dt.date) -> pd.DataFrame:
    return _by_segment(
        "kpi_segment_summary",
        month,
        "segments.segment_priority, segments.segment_description, segments.segment_suggested_action",
    )


def segment_history(month: dt.date) -> pd.DataFrame:
    """Customers per segment per report month, up to `month`."""
    return query(
        "select report_month, rfm_segment, customers, share_of_customers, sales_month "
        "from kpi_segment_summary where report_month <= ? order by report_month",
        [month],
    )


# --------------------------------------------------------------------------------------------------
# RFM by customer


RFM_PAGE_SIZE = 500
RFM_SCORE_COLUMNS = ("recency_score", "frequency_score", "monetary_score", "tenure_score")


def _rfm_conditions(
    alias: str,
    month: dt.date,
    segment: str | None,
    include_not_active: bool,
    tiers: list[str] | None,
    scores: dict[str, list[int]] | None,
) -> tuple[list[str], list]:
    """Where-conditions of the RFM page's filters on the snapshot (alias `snapshot`) or on the grid mart
    kpi_customer_grid (alias `grid`, whose segment and tier are already `Not Active` when missing)."""
    if alias == "snapshot":
        segment_column = or_not_active("snapshot.rfm_segment")
        tier_column = or_not_active("snapshot.value_tier")
    else:
        segment_column, tier_column = f"{alias}.rfm_segment", f"{alias}.value_tier"
    where, params = [f"{alias}.report_month = ?"], [month]
    if segment == ANONYMOUS:  # anonymous walk-ins are outside the CRM base: never in the snapshot
        where.append("false")
    elif segment:
        where.append(f"{segment_column} = ?")
        params.append(segment)
    if not include_not_active:
        where.append(f"{alias}.activity_status = 'Active'")
    if tiers:
        where.append(f"{tier_column} in ({', '.join('?' for _ in tiers)})")
        params += list(tiers)
    for column, values in (scores or {}).items():
        if column not in RFM_SCORE_COLUMNS:
            raise ValueError(f"unknown score column {column!r}")
        if values:
            where.append(f"{alias}.{column} in ({', '.join('?' for _ in values)})")
            params += [int(v) for v in values]
    return where, params


def customer_rfm(
    month: dt.date,
    segment: str | None,
    search: str = "",
    include_not_active: bool = False,
    tiers: list[str] | None = None,
    scores: dict[str, list[int]] | None = None,
    limit: int | None = RFM_PAGE_SIZE,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of the month's customers with their RFM(T) measures and scores, filtered, ordered by
    monetary value (highest first), then customer_id. The order and the limit run in DuckDB on the
    snapshot's rows of the month: only the page's rows reach pandas (and are joined to dim_customers).
    limit None: every row (tests)."""
    where, params = _rfm_conditions("snapshot", month, segment, include_not_active, tiers, scores)
    if search and search.strip():
        where.append("snapshot.customer_id ilike ?")
        params.append(f"%{search.strip()}%")
    page = "" if limit is None else f"limit {int(limit)} offset {max(int(offset), 0)}"
    return query(
        f"""
        with page as (
            select
                snapshot.customer_id,
                snapshot.activity_status,
                {or_not_active("snapshot.value_tier")} as value_tier,
                snapshot.lifecycle_event,
                {or_not_active("snapshot.rfm_segment")} as rfm_segment,
                snapshot.rfm_cell,
                snapshot.recency_score,
                snapshot.frequency_score,
                snapshot.monetary_score,
                snapshot.tenure_score,
                snapshot.recency_days,
                snapshot.frequency_orders,
                cast(snapshot.monetary_value as double) as monetary_value,
                snapshot.tenure_months,
                cast(snapshot.sales_12m as double) as sales_12m
            from fct_customer_monthly_snapshot as snapshot
            where {" and ".join(where)}
            order by snapshot.monetary_value desc nulls last, snapshot.customer_id
            {page}
        )
        select
            page.customer_id,
            customers.customer_group,
            customers.city,
            page.* exclude (customer_id)
        from page
        inner join dim_customers as customers on page.customer_id = customers.customer_id
        order by page.monetary_value desc nulls last, page.customer_id
        """,
        params,
    )


def customer_rfm_count(
    month: dt.date,
    segment: str | None,
    search: str = "",
    include_not_active: bool = False,
    tiers: list[str] | None = None,
    scores: dict[str, list[int]] | None = None,
) -> int:
    """How many customers customer_rfm finds over all its pages: a sum of the grid mart
    kpi_customer_grid; with a search text (a part of the customer id, which no mart can hold), a count
    of the month's matching snapshot rows."""
    if search and search.strip():
        where, params = _rfm_conditions("snapshot", month, segment, include_not_active, tiers, scores)
        where.append("snapshot.customer_id ilike ?")
        params.append(f"%{search.strip()}%")
        sql = f"select count(*) as n from fct_customer_monthly_snapshot as snapshot where {' and '.join(where)}"
    else:
        where, params = _rfm_conditions("grid", month, segment, include_not_active, tiers, scores)
        sql = f"select coalesce(sum(grid.customers), 0) as n from kpi_customer_grid as grid where {' and '.join(where)}"
    return int(query(sql, params)["n"].iloc[0])


def rfm_grid(
    month: dt.date,
    segment: str | None,
    include_not_active: bool = False,
    tiers: list[str] | None = None,
    scores: dict[str, list[int]] | None = None,
) -> pd.DataFrame:
    """The filtered customers by R, F, M and T score (customers, sales_12m), from kpi_customer_grid."""
    where, params = _rfm_conditions("grid", month, segment, include_not_active, tiers, scores)
    return query(
        f"""
        select recency_score, frequency_score, monetary_score, tenure_score,
            sum(customers) as customers, cast(sum(sales_12m) as double) as sales_12m
        from kpi_customer_grid as grid
        where {" and ".join(where)}
        group by all
        order by all
        """,
        params,
    )


def score_bands(month: dt.date) -> pd.DataFrame:
    return query(
        "select dimension, measure_name, score, cast(lowest_measure as double) as lowest_measure, "
        "cast(highest_measure as double) as highest_measure, customers from kpi_rfm_score_bands "
        "where report_month = ? order by dimension, score desc",
        [month],
    )


# --------------------------------------------------------------------------------------------------
# Sales


def _period_cutoff(period_type: str, month: dt.date) -> dt.date:
    """The last period_start the sales trend shows for `month`: periods up to the end of the month; a
    quarter or year still running after the month (an earlier report month) is left out, since its
    row in kpi_sales_by_period holds the later months too. In the latest report month the data end
    with the month, so its period shows (partial)."""
    last = month_end(month)
    if period_type not in ("quarter", "year") or month == report_months()[0]:
        return last
    months = 3 if period_type == "quarter" else 12
    start = dt.date(month.year, 1 if months == 12 else (month.month - 1) // 3 * 3 + 1, 1)
    if month_end(add_months(start, months - 1)) > last:
        return start - dt.timedelta(days=1)
    return last


def sales_trend(period_type: str, month: dt.date, segment: str | None) -> pd.DataFrame:
    """Sales per period (day, month, quarter, year) up to the end of `month`, read from the
    kpi_sales_by_period mart (orders and customers counted there: macros/crm_orders.sql), of the
    segment's customers by their current segment (segment_label) or of everybody (summed over
    segment_label). Days cover the three months up to the report month; other periods the whole
    history (see _period_cutoff for a quarter or year still running after the month)."""
    if period_type not in PERIOD_TYPES:
        raise ValueError(f"unknown period type {period_type!r}")
    first_day = add_months(month, -2) if period_type == "day" else dt.date.min
    condition, params = ("segment_label = ?", [segment]) if segment else ("true", [])
    return query(
        f"""
        select
            period_start,
            cast(sum(sales) as double) as sales,
            cast(sum(returns_revenue) as double) as returns_revenue,
            cast(sum(quantity) as double) as quantity,
            cast(sum(units) as double) as units,
            sum(orders) as orders,
            sum(customers) as customers,
            sum(lines) as lines
        from kpi_sales_by_period
        where period_type = ? and period_start between ? and ? and {condition}
        group by period_start
        order by period_start
        """,
        [period_type, first_day, _period_cutoff(period_type, month), *params],
    )


SALES_WINDOWS = {
    "month": "Report month",
    "12m": "Last 12 months",
    "all": "All history",
}


def sales_window(month: dt.date, window: str) -> tuple[dt.date, dt.date]:
    first = {"month": month, "12m": add_months(month, -11), "all": dt.date.min}[window]
    return first, month_end(month)


def sales_by_category(month: dt.date, segment: str | None, window: str = "12m") -> pd.DataFrame:
    """Sales by category, brand and CRM role over the window ending with the report month, read from
    kpi_sales_by_category (per month; the segment's customers by their current segment_label).
    Orders are the group's distinct invoices of each month (macros/crm_orders.sql), which add up over
    months; buying customers are distinct per month, so they are given for the one-month window only
    (customers is null for longer windows)."""
    first, _ = sales_window(month, window)
    condition, params = ("segment_label = ?", [segment]) if segment else ("true", [])
    customers = "sum(customers)" if window == "month" else "cast(null as bigint)"
    return query(
        f"""
        select
            category,
            coalesce(brand, '(no brand)') as brand,
            crm_role,
            cast(sum(sales) as double) as sales,
            cast(sum(quantity) as double) as quantity,
            cast(sum(units) as double) as units,
            sum(orders) as orders,
            {customers} as customers
        from kpi_sales_by_category
        where invoice_month between ? and ? and {condition}
        group by all
        order by sales desc
        """,
        [first, month, *params],
    )


def category_trend(month: dt.date, segment: str | None) -> pd.DataFrame:
    """Monthly sales by category over the 24 months up to the report month (kpi_sales_by_category)."""
    condition, params = ("segment_label = ?", [segment]) if segment else ("true", [])
    return query(
        f"""
        select invoice_month as sales_month, category, cast(sum(sales) as double) as sales
        from kpi_sales_by_category
        where invoice_month between ? and ? and {condition}
        group by all
        order by 1, 2
        """,
        [add_months(month, -23), month, *params],
    )


# --------------------------------------------------------------------------------------------------
# Lifecycle and tiers


def lifecycle_counts(month: dt.date, segment: str | None) -> pd.DataFrame:
    """Per report month up to `month`: customers by status, tier and lifecycle event (long form), sums
    of kpi_customer_grid; with a segment, the customers who are in that segment in each month."""
    if segment == ANONYMOUS:  # outside the CRM base: never in the snapshot
        condition, params = "false", []
    elif segment:
        condition, params = "rfm_segment = ?", [segment]
    else:
        condition, params = "true", []
    return query(
        f"""
        with grid as (
            select report_month, activity_status, value_tier, lifecycle_event, customers
            from kpi_customer_grid
            where report_month <= ? and {condition}
        )
        select report_month, 'status' as dimension, activity_status as label, sum(customers) as customers
        from grid group by all
        union all
        select report_month, 'tier', value_tier, sum(customers) from grid group by all
        union all
        select report_month, 'event', lifecycle_event, sum(customers)
        from grid where lifecycle_event is not null group by all
        order by 1, 2, 3
        """,
        [month, *params],
    )


def migration(column: str, month: dt.date, segment: str | None) -> pd.DataFrame:
    """From -> to customers of the month for value_tier or rfm_segment, read from the marts
    (kpi_tier_migration / kpi_segment_migration). For a segment: its members in `month`, i.e. the
    segment migration into that segment, or kpi_tier_migration_by_segment."""
    if column not in ("value_tier", "rfm_segment"):
        raise ValueError(column)
    if column == "rfm_segment":
        sql = (
            "select from_rfm_segment as from_state, to_rfm_segment as to_state, customers "
            "from kpi_segment_migration where report_month = ?"
        )
        params: list = [month]
        if segment:
            sql += " and to_rfm_segment = ?"
            params.append(segment)
    elif segment:
        sql = (
            "select from_value_tier as from_state, to_value_tier as to_state, customers "
            "from kpi_tier_migration_by_segment where report_month = ? and rfm_segment = ?"
        )
        params = [month, segment]
    else:
        sql = (
            "select from_value_tier as from_state, to_value_tier as to_state, customers "
            "from kpi_tier_migration where report_month = ?"
        )
        params = [month]
    return query(sql + " order by 1, 2", params)


# --------------------------------------------------------------------------------------------------
# Data quality


def data_quality(build_id: str | None = None) -> pd.DataFrame:
    """fct_data_quality rows of one build (default: the latest)."""
    if build_id is None:
        return query(
            "select * from fct_data_quality where build_id = "
            "(select build_id from fct_data_quality order by built_at desc limit 1) "
            "order by raw_source, disposition, reason"
        )
    return query(
        "select * from fct_data_quality where build_id = ? order by raw_source, disposition, reason", [build_id]
    )


def builds() -> pd.DataFrame:
    return query(
        "select build_id, max(built_at) as built_at, sum(row_count) as rows from fct_data_quality "
        "group by build_id order by built_at desc"
    )


# --------------------------------------------------------------------------------------------------
# Campaign lists (same function as scripts/campaign_list.py)


def campaign_options() -> dict[str, list[str]]:
    """The choices of the list filters: customer groups and cities of dim_customers, the stores of
    dim_stores."""
    frame = query(
        "select 'group' as kind, customer_group as value from dim_customers where not is_anonymous "
        "union select 'city', city from dim_customers where not is_anonymous "
        "union select 'store', store_id from dim_stores"
    ).dropna()
    options = {}
    for kind, values in frame.groupby("kind")["value"]:
        if kind == "group":
            # customer_group holds mixed-case duplicates in the raw data; the list compares case-insensitively
            seen: dict[str, str] = {}
            for value in sorted(values):
                seen.setdefault(value.lower(), value)
            options[kind] = sorted(seen.values())
        else:
            options[kind] = sorted(values)
    return options


CAMPAIGN_PREVIEW_ROWS = 500


def _filter_key(filters: dict) -> tuple:
    return tuple(sorted((name, tuple(value) if isinstance(value, list) else value) for name, value in filters.items()))


def _filters_of(key: tuple) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in key}


def campaign_list_frame(month: dt.date, **filters) -> pd.DataFrame:
    """scripts/campaign_list.build_campaign_list on the serving file, cached per file version (with
    include_pii, the contact columns come from the build warehouse; pii.ContactsUnavailable when it
    is held by a running build). The whole list: for the downloads and the campaign record, built
    when they are asked for; the page shows campaign_list_preview and campaign_list_size."""
    path, mtime_ns = serving_file_state()
    return _cached_campaign_list(path, mtime_ns, month, _filter_key(filters), None).copy()


def campaign_list_preview(month: dt.date, rows: int = CAMPAIGN_PREVIEW_ROWS, **filters) -> pd.DataFrame:
    """The first `rows` rows of the campaign list (order and limit in DuckDB)."""
    path, mtime_ns = serving_file_state()
    return _cached_campaign_list(path, mtime_ns, month, _filter_key(filters), int(rows)).copy()


def campaign_list_size(month: dt.date, **filters) -> int:
    """The number of customers in the campaign list, counted in DuckDB."""
    path, mtime_ns = serving_file_state()
    return _cached_campaign_list_size(path, mtime_ns, month, _filter_key(filters))


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_campaign_list(path: str, mtime_ns: int, month: dt.date, key: tuple, limit: int | None) -> pd.DataFrame:
    del mtime_ns
    return campaign_list.build_campaign_list(month, path=path, limit=limit, **_filters_of(key))


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_campaign_list_size(path: str, mtime_ns: int, month: dt.date, key: tuple) -> int:
    del mtime_ns
    return campaign_list.campaign_list_size(month, path=path, **_filters_of(key))


def campaign_csv_bytes(frame: pd.DataFrame, download: dict | None = None) -> bytes:
    """The "Download CSV" file: safe to open in a spreadsheet (formula-looking text gets a leading ';
    scripts/safe_export.py). The app offers no raw CSV: a raw file is for machine imports (CLI
    --csv-raw), and people who download from the app open the file in Excel. download: see
    log_download."""
    data = campaign_list.to_csv_bytes(frame)
    log_download(frame, download)
    return data


def campaign_xlsx_bytes(frame: pd.DataFrame, download: dict | None = None) -> bytes:
    """The "Download Excel" file: every text value a text cell, never a formula; control characters
    replaced by a placeholder (control_character_cells counts them beforehand)."""
    data = campaign_list.to_xlsx_bytes(frame)
    log_download(frame, download)
    return data


def control_character_cells(frame: pd.DataFrame) -> int:
    """Cells the Excel download changes (control characters replaced, safe_export)."""
    return safe_export.replace_control_characters(frame)[1]


def log_download(frame: pd.DataFrame, download: dict | None) -> None:
    """Record a download that holds personal data in the export log (pii.log_export). download:
    {"page": the app page, "file_name": the file offered, "filters": the filters of the list}. The
    file goes to the browser: its output is written `browser download: <file name>`."""
    personal = campaign_list.pii_columns_of(frame)
    if not personal:
        return
    download = download or {}
    pii.log_export(
        source=f"app page {download.get('page', 'Campaign lists')}",
        filters=download.get("filters") or {},
        rows=len(frame),
        output=f"browser download: {download.get('file_name', '')}",
        pii_columns=personal,
    )


# --------------------------------------------------------------------------------------------------
# Cohorts and campaigns (SPEC sections 10 and 11): read from their marts, nothing recomputed


def cohort_retention(month: dt.date) -> pd.DataFrame:
    """kpi_cohort_retention up to the selected report month (the triangle as it stood then)."""
    return query(
        "select * from kpi_cohort_retention where report_month <= ? order by cohort_month, months_since_acquisition",
        [month],
    )


def campaign_results() -> pd.DataFrame:
    """kpi_campaign_response, latest send date first."""
    return query("select * from kpi_campaign_response order by send_date desc, campaign_id")


# --------------------------------------------------------------------------------------------------
# Customer value (SPEC section 9)


def value_by_segment(month: dt.date) -> pd.DataFrame:
    return _by_segment("kpi_customer_value_by_segment", month, "segments.segment_priority")


def value_by_tier(month: dt.date) -> pd.DataFrame:
    return query("select * from kpi_customer_value_by_tier where report_month = ? order by clv_12m desc", [month])


def value_model_fits(month: dt.date) -> pd.DataFrame:
    return query("select * from fct_customer_value_model_fits where report_month = ? order by model", [month])


def _value_segment_condition(segment: str | None) -> tuple[str, list]:
    """The customer value marts' segment is the snapshot's rfm_segment of the month (or Not Active);
    the anonymous walk-ins have no customer value."""
    if segment == ANONYMOUS:
        return "false", []
    if segment:
        return "rfm_segment = ?", [segment]
    return "true", []


# The width of the customer value page's P(alive) bands (var crm_p_alive_bands: 0.05); the band rule
# is the models' macro crm_p_alive_band.
P_ALIVE_BAND = 1 / project_settings.p_alive_bands()


def p_alive_distribution(month: dt.date, segment: str | None) -> pd.DataFrame:
    """Customers per P(alive) band (width P_ALIVE_BAND) in `month` (the segment's members only), read
    from kpi_customer_value_p_alive_bands (the band rule lives there)."""
    condition, params = _value_segment_condition(segment)
    return query(
        f"""
        select p_alive_band_from as p_alive_from, sum(customers) as customers, sum(clv_12m) as clv_12m
        from kpi_customer_value_p_alive_bands
        where report_month = ? and {condition}
        group by 1 order by 1
        """,
        [month, *params],
    )


LEAVING_LIMIT = project_settings.leaving_customers()  # rows per band kept by kpi_customer_value_leaving


def leaving_customers(
    month: dt.date, segment: str | None, max_p_alive: float, limit: int = LEAVING_LIMIT
) -> pd.DataFrame:
    """High value but leaving: customers of `month` with P(alive) at most max_p_alive, ranked by the
    highest clv_12m they had in the 12 months up to `month`, with their P(alive) 3 months earlier.
    Read from kpi_customer_value_leaving (which keeps the best rows of every segment and P(alive) band)
    with a server-side order and limit; city and current segment from dim_customers for these rows."""
    if limit > LEAVING_LIMIT:
        raise ValueError(f"kpi_customer_value_leaving keeps the best {LEAVING_LIMIT} customers per band")
    condition, params = _value_segment_condition(segment)
    return query(
        f"""
        with page as (
            select * from kpi_customer_value_leaving
            where report_month = ? and p_alive <= ? and {condition}
            order by peak_clv_12m desc nulls last, customer_id
            limit {int(limit)}
        )
        select page.customer_id, customers.city, customers.segment_label,
            page.p_alive, page.p_alive_3m_ago, page.clv_12m, page.peak_clv_12m,
            page.repeat_occasions, page.weeks_since_last_purchase
        from page
        left join dim_customers as customers on page.customer_id = customers.customer_id
        order by page.peak_clv_12m desc nulls last, page.customer_id
        """,
        [month, max_p_alive, *params],
    )


def value_validation() -> pd.DataFrame:
    return query("select * from kpi_customer_value_validation order by months_ahead, x_group_order")
