#!/usr/bin/env python3
"""Campaign lists: customers of a report month filtered for a CRM campaign, as CSV or Excel.

    python scripts/campaign_list.py --out list.csv [--month YYYY-MM] [--status Active]
        [--tier Gold] [--event New] [--segment Champions] [--channel email|sms|phone]
        [--group Retail] [--city Nairobi] [--store S001] [--min-p-alive 0.5] [--max-p-alive 0.9]
        [--min-clv 100] [--include-pii [--build-db PATH]]

Every filter but --month, --channel and --include-pii can be repeated (values are OR-ed; the
filters are AND-ed). Rows are the customer monthly snapshot of the report month (default: the
latest), joined to dim_customers. Anonymous walk-in customers are never in the snapshot, so never in
a list.

- status, tier, segment: the snapshot's activity_status, value_tier and rfm_segment of that month.
  Customers without a tier or segment (Not Active) have the label `Not Active`.
- event: lifecycle_event of that month (New, Lost, Reactivated).
- group, city: dim_customers.customer_group / city, compared case-insensitively.
- store: customers with at least one purchase line (not a return) in that store, any time up to
  the end of the report month (fct_customer_stores: their first purchase there by the month's end).
- min-p-alive, max-p-alive, min-clv: the customer value of that month (fct_customer_value, SPEC
  section 9): P(alive) at least / at most, clv_12m at least. A customer without a core purchase
  has no customer value and is left out when one of them is given.
- channel: keeps only customers who consented to the channel (opt_email / opt_sms / opt_phone = 1).
  A list for a channel never contains a customer without that consent.
- PII (customer_name, email, mobile_number) is left out unless --include-pii is given. With a
  channel, only the name and that channel's contact column are added (email for email,
  mobile_number for sms and phone). Personal data is never in the serving file (SPEC section 12):
  these columns are read from the build warehouse (CRM_DUCKDB_PATH or --build-db, table
  restricted.dim_customer_contacts), read-only, in one query whose connection is closed at once; while
  a build holds that file the command stops with a message (try again after the build). A file
  with these columns is created owner-only (0600) on POSIX, and the export is recorded in the
  export log (warehouse/logs/pii_exports.log, or CRM_PII_EXPORT_LOG: time, OS user, command line,
  filters, row count, output file; never the personal data).

Recording a campaign (SPEC section 11): with --campaign-name (and --send-date, default today;
--holdout-share, default 0.10) the list is recorded as a campaign: its members are split
reproducibly into a contacted group and a held-out group (crm_warehouse/campaign_record.py: a SHA-256
hash of campaign id and customer id), the record is written as a CSV file into the campaigns folder
(CRM_CAMPAIGN_DIR, default the `campaigns` folder of CRM_RAW_DIR; --campaign-dir overrides it), and
the exported list holds only the contacted group. The next `make build` measures the response.

The data come from the serving DuckDB file (CRM_SERVING_PATH, default crm_serving.duckdb beside
CRM_DUCKDB_PATH), opened read-only; contact details (--include-pii) from the build warehouse, see
above. mobile_number is text: leading zeros are kept in CSV and Excel.

Exports are safe to open in a spreadsheet (crm_warehouse/safe_export.py): in .xlsx every text value is a
text cell, never a formula; in CSV a text value that a spreadsheet would evaluate (leading = + - @,
tab, carriage return, unless it is only a number such as +254712345678) gets a leading ' and text
fields are quoted; numbers are written as they are. --csv-raw writes the CSV values unchanged, for
machine imports only. In .xlsx a control character (other than tab and line breaks) in a text
value, which Excel files cannot hold, is replaced by the placeholder \ufffd and the command says
how many cells were changed; CSV keeps the value as it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from crm_warehouse import campaign_record, pii, project_settings, safe_export
from crm_warehouse.constants import month_end, or_not_active
from crm_warehouse.serving_file import (  # noqa: F401  (re-exported: older callers import them from here)
    ServingFileMissing,
    latest_month,
    parse_month,
    read_sql,
    serving_path,
)

# {channel: (consent column, contact column)}: var crm_contact_channels of dbt_project.yml
CHANNELS = {
    name: (columns["consent_column"], columns["contact_column"])
    for name, columns in project_settings.contact_channels().items()
}
PII_COLUMNS = ("customer_name", "email", "mobile_number")
TEXT_COLUMNS = ("customer_id", "mobile_number", "email", "customer_name", "rfm_cell")

# Non-PII columns of every list, in order.
BASE_COLUMNS = (
    "customer_id",
    "report_month",
    "customer_group",
    "city",
    "activity_status",
    "value_tier",
    "lifecycle_event",
    "rfm_segment",
    "rfm_cell",
    "recency_days",
    "frequency_orders",
    "monetary_value",
    "sales_12m",
    "tenure_months",
    "p_alive",
    "clv_12m",
    "opt_email",
    "opt_sms",
    "opt_phone",
)


def _values(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [item for item in value if item is not None and str(item).strip()]


def build_campaign_list(
    report_month: str | dt.date | None = None,
    *,
    activity_status: str | Iterable[str] | None = None,
    value_tier: str | Iterable[str] | None = None,
    lifecycle_event: str | Iterable[str] | None = None,
    segment: str | Iterable[str] | None = None,
    channel: str | None = None,
    customer_group: str | Iterable[str] | None = None,
    city: str | Iterable[str] | None = None,
    store: str | Iterable[str] | None = None,
    min_p_alive: float | None = None,
    max_p_alive: float | None = None,
    min_clv: float | None = None,
    include_pii: bool = False,
    path: Path | str | None = None,
    build_db: Path | str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The campaign list as a DataFrame (one row per customer, ordered by customer_id).

    Each filter takes one value or a list of values (OR); None or [] means no filter. path: the
    serving file (default CRM_SERVING_PATH). include_pii: add the contact columns, read from the
    build warehouse build_db (default CRM_DUCKDB_PATH; pii.read_contacts, which raises
    pii.ContactsUnavailable when it cannot be read). limit: the first rows only (the order and the
    limit run in DuckDB: a preview never reads the whole list).
    """
    month, conditions, params = _list_filters(
        report_month,
        activity_status=activity_status,
        value_tier=value_tier,
        lifecycle_event=lifecycle_event,
        segment=segment,
        channel=channel,
        customer_group=customer_group,
        city=city,
        store=store,
        min_p_alive=min_p_alive,
        max_p_alive=max_p_alive,
        min_clv=min_clv,
        path=path,
    )
    channel = channel.lower() if channel else None
    contact_columns: list[str] = []
    if include_pii:
        contact_columns = ["customer_name", CHANNELS[channel][1]] if channel else list(PII_COLUMNS)

    # The snapshot rows of the list first (filters, order and limit on the month's rows only), then
    # the customer attributes and the customer value of these rows.
    sql = f"""
        with listed as (
            select *
            from fct_customer_monthly_snapshot as snapshot
            where {" and ".join(conditions)}
            order by snapshot.customer_id
            {"" if limit is None else f"limit {int(limit)}"}
        )

        select
            listed.customer_id,
            strftime(listed.report_month, '%Y-%m') as report_month,
            customers.customer_group,
            customers.city,
            listed.activity_status,
            {or_not_active("listed.value_tier")} as value_tier,
            listed.lifecycle_event,
            {or_not_active("listed.rfm_segment")} as rfm_segment,
            listed.rfm_cell,
            listed.recency_days,
            listed.frequency_orders,
            cast(listed.monetary_value as double) as monetary_value,
            cast(listed.sales_12m as double) as sales_12m,
            listed.tenure_months,
            value.p_alive,
            cast(value.clv_12m as double) as clv_12m,
            customers.opt_email,
            customers.opt_sms,
            customers.opt_phone
        from listed
        inner join dim_customers as customers
            on listed.customer_id = customers.customer_id
        left join fct_customer_value as value
            on listed.customer_id = value.customer_id and value.report_month = ?
        order by listed.customer_id
    """
    params = [*params, month]
    frame = read_sql(sql, params, path=path)
    if contact_columns:
        contacts = pii.read_contacts(frame["customer_id"], contact_columns, build_db)
        frame = frame.merge(contacts, on="customer_id", how="left", validate="one_to_one")
    columns = ["customer_id", *contact_columns, *BASE_COLUMNS[1:]]
    frame = frame[columns]
    for column in TEXT_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("object")
    return frame


def campaign_list_size(report_month: str | dt.date | None = None, *, path: Path | str | None = None, **filters) -> int:
    """How many customers build_campaign_list finds with these filters (include_pii and build_db
    change nothing), counted in DuckDB."""
    filters.pop("include_pii", None)
    filters.pop("build_db", None)
    _, conditions, params = _list_filters(report_month, path=path, **filters)
    frame = read_sql(
        f"select count(*) as n from fct_customer_monthly_snapshot as snapshot where {' and '.join(conditions)}",
        params,
        path=path,
    )
    return int(frame["n"].iloc[0])


def _list_filters(
    report_month: str | dt.date | None,
    *,
    activity_status=None,
    value_tier=None,
    lifecycle_event=None,
    segment=None,
    channel: str | None = None,
    customer_group=None,
    city=None,
    store=None,
    min_p_alive: float | None = None,
    max_p_alive: float | None = None,
    min_clv: float | None = None,
    path: Path | str | None = None,
) -> tuple[dt.date, list[str], list]:
    """(report month, where-conditions on the snapshot (alias `snapshot`), parameters) of a campaign
    list: the snapshot rows of the month; the filters on dim_customers, the customer value and the
    stores are semi-joins. Raises ValueError for a month that is not a report month or an unknown
    channel."""
    month = parse_month(report_month) or latest_month(path)
    known = read_sql("select count(*) as n from kpi_segment_summary where report_month = ?", [month], path=path)
    if not int(known["n"].iloc[0]):
        raise ValueError(f"{month:%Y-%m} is not a report month of the customer snapshot")
    if channel is not None:
        channel = channel.lower()
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")

    conditions = ["snapshot.report_month = ?"]
    params: list = [month]

    def add_in(expression: str, values: list[str], lower: bool = False) -> None:
        if not values:
            return
        if lower:
            expression = f"lower({expression})"
            values = [value.lower() for value in values]
        conditions.append(f"{expression} in ({', '.join('?' for _ in values)})")
        params.extend(values)

    add_in("snapshot.activity_status", _values(activity_status))
    add_in(or_not_active("snapshot.value_tier"), _values(value_tier))
    add_in("snapshot.lifecycle_event", _values(lifecycle_event))
    add_in(or_not_active("snapshot.rfm_segment"), _values(segment))
    customer_conditions: list[str] = []
    customer_params: list = []
    for column, values in (("customer_group", _values(customer_group)), ("city", _values(city))):
        if values:
            customer_conditions.append(f"lower(customers.{column}) in ({', '.join('?' for _ in values)})")
            customer_params.extend(value.lower() for value in values)
    if channel:
        customer_conditions.append(f"customers.{CHANNELS[channel][0]} = 1")
    if customer_conditions:
        conditions.append(
            "snapshot.customer_id in (select customers.customer_id from dim_customers as customers "
            f"where {' and '.join(customer_conditions)})"
        )
        params.extend(customer_params)
    stores = _values(store)
    if stores:
        conditions.append(
            "snapshot.customer_id in (select stores.customer_id from fct_customer_stores as stores "
            f"where stores.store_id in ({', '.join('?' for _ in stores)}) and stores.first_purchase_date <= ?)"
        )
        params.extend([*stores, month_end(month)])
    value_conditions: list[str] = []
    value_params: list = []
    for expression, bound in (
        ("value.p_alive >= ?", min_p_alive),
        ("value.p_alive <= ?", max_p_alive),
        ("value.clv_12m >= ?", min_clv),
    ):
        if bound is not None:
            value_conditions.append(expression)
            value_params.append(float(bound))
    if value_conditions:
        # a customer without a customer value in the month is left out (no value row to compare)
        conditions.append(
            "snapshot.customer_id in (select value.customer_id from fct_customer_value as value "
            f"where value.report_month = ? and {' and '.join(value_conditions)})"
        )
        params.extend([month, *value_params])
    return month, conditions, params


def to_csv_bytes(frame: pd.DataFrame, *, raw: bool = False) -> bytes:
    """UTF-8 CSV with a BOM (so Excel detects the encoding), safe to open in a spreadsheet: formula-
    looking text gets a leading ' (safe_export.csv_bytes). raw=True: every value as is, for machine
    imports."""
    return safe_export.csv_bytes(frame, raw=raw)


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "Campaign list") -> bytes:
    """An .xlsx workbook: bold frozen header, text cells for ids and phone numbers; every text value
    stored as text, never as a formula (safe_export.workbook_bytes); control characters replaced by
    a placeholder (xlsx_bytes_and_changes)."""
    return xlsx_bytes_and_changes(frame, sheet_name)[0]


def xlsx_bytes_and_changes(frame: pd.DataFrame, sheet_name: str = "Campaign list") -> tuple[bytes, int]:
    """(the .xlsx workbook of to_xlsx_bytes, how many cells had control characters replaced by
    safe_export.CONTROL_PLACEHOLDER)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    frame, changed = safe_export.replace_control_characters(frame)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        sheet.append([None if _is_missing(value) else _plain(value) for value in row])
    for index, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        if column in TEXT_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "@"
                if cell.value is not None:
                    cell.value = str(cell.value)
        elif column in ("monetary_value", "sales_12m"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "#,##0.00"
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(500) if not _is_missing(v)])
        sheet.column_dimensions[letter].width = min(max(width + 2, 8), 50)
    sheet.freeze_panes = "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    return safe_export.workbook_bytes(workbook), changed


def _is_missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value):
    """numpy scalars -> Python scalars for openpyxl."""
    return value.item() if hasattr(value, "item") else value


def pii_columns_of(frame: pd.DataFrame) -> list[str]:
    """The personal-data columns (customer_name, email, mobile_number) a list holds."""
    return [column for column in frame.columns if column in PII_COLUMNS]


def export(
    frame: pd.DataFrame,
    out: Path | str,
    *,
    csv_raw: bool = False,
    filters: dict | None = None,
    source: str | None = None,
    log=print,
) -> Path:
    """Write the list to out: .csv or .xlsx, chosen by the extension. csv_raw (CSV only): values
    unchanged, for machine imports (see to_csv_bytes).

    A list with personal-data columns is written owner-only (0600 on POSIX) and recorded in the
    export log (pii.log_export: source, default the command line, filters, rows, output); if the log
    cannot be written the file is removed again and the error raised. In .xlsx, cells with control
    characters are reported through log."""
    out = Path(out)
    suffix = out.suffix.lower()
    if csv_raw and suffix != ".csv":
        raise ValueError(f"--csv-raw applies to a .csv output only, not {out.name}")
    changed = 0
    if suffix == ".csv":
        data = to_csv_bytes(frame, raw=csv_raw)
    elif suffix == ".xlsx":
        data, changed = xlsx_bytes_and_changes(frame)
    else:
        raise ValueError(f"unsupported output {out.name}: use a .csv or .xlsx file name")
    personal = pii_columns_of(frame)
    if not personal:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    else:
        pii.write_private_bytes(out, data)
        try:
            pii.log_export(
                source=source or "crm_warehouse.campaign_list.export (Python)",
                filters=filters or {},
                rows=len(frame),
                output=out.resolve(),
                pii_columns=personal,
            )
        except OSError as error:
            out.unlink(missing_ok=True)  # an export of personal data that is not logged is not kept
            raise pii.ExportNotLogged(
                f"the export log {pii.export_log_path()} cannot be written ({error}); {out} was removed: "
                "an export of personal data is always logged"
            ) from error
    if changed:
        log(
            f"[crm] {changed} cell(s) held control characters that .xlsx files cannot store; each was "
            f"replaced by {safe_export.CONTROL_PLACEHOLDER} in {out.name} (a .csv keeps them as they are)"
        )
    return out


def record_list_as_campaign(
    frame: pd.DataFrame,
    report_month: str | dt.date,
    *,
    campaign_name: str,
    channel: str | None,
    send_date: str | dt.date | None = None,
    holdout_share: float = campaign_record.DEFAULT_HOLDOUT_SHARE,
    folder: Path | str | None = None,
) -> tuple[pd.DataFrame, campaign_record.Campaign, Path]:
    """Record a list (build_campaign_list) as a campaign: write the record into the campaigns folder
    and return (the contacted part of the list, the campaign, the record file)."""
    campaign = campaign_record.draw_campaign(
        frame.to_dict("records"),
        campaign_name=campaign_name,
        channel=channel,
        send_date=send_date or dt.date.today(),
        report_month=parse_month(report_month),
        holdout_share=holdout_share,
    )
    path = campaign_record.write_campaign(campaign, folder)
    contacted = frame[frame["customer_id"].astype(str).isin(set(campaign.contacted))].reset_index(drop=True)
    return contacted, campaign, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--out", required=True, type=Path, help="output file, .csv or .xlsx")
    parser.add_argument("--month", help="report month YYYY-MM (default: the latest)")
    parser.add_argument("--status", action="append", help="activity status: Active, Not Active")
    parser.add_argument(
        "--tier", action="append", help="value tier: Diamond, Platinum, Gold, Silver, Bronze, Passive, Not Active"
    )
    parser.add_argument("--event", action="append", help="lifecycle event: New, Lost, Reactivated")
    parser.add_argument("--segment", action="append", help="RFM segment, e.g. Champions, or Not Active")
    parser.add_argument("--channel", choices=sorted(CHANNELS), help="keep only customers consenting to it")
    parser.add_argument("--group", action="append", help="customer group (case-insensitive)")
    parser.add_argument("--city", action="append", help="city (case-insensitive)")
    parser.add_argument("--store", action="append", help="store id: customers who bought there")
    parser.add_argument("--min-p-alive", type=float, help="P(alive) at least (0-1; customer value)")
    parser.add_argument("--max-p-alive", type=float, help="P(alive) at most (0-1), e.g. to win back leaving customers")
    parser.add_argument("--min-clv", type=float, help="clv_12m at least (expected discounted value, 12 months)")
    parser.add_argument(
        "--include-pii", action="store_true", help="add customer_name and contact columns (email, mobile_number)"
    )
    parser.add_argument(
        "--csv-raw",
        action="store_true",
        help="CSV for machine imports: values written unchanged, without the ' that keeps "
        "formula-looking text (= + - @ ...) from running in a spreadsheet; never open "
        "such a file in Excel",
    )
    parser.add_argument("--serving-db", type=Path, help="serving DuckDB file (default: CRM_SERVING_PATH)")
    parser.add_argument(
        "--build-db",
        type=Path,
        help="build warehouse the contact details of --include-pii are read from (default: CRM_DUCKDB_PATH)",
    )
    parser.add_argument(
        "--campaign-name",
        help="record the list as a campaign with a holdout (the file written then holds only the contacted group)",
    )
    parser.add_argument("--send-date", help="campaign send date YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--holdout-share",
        type=float,
        default=campaign_record.DEFAULT_HOLDOUT_SHARE,
        help="share of the members held out, not contacted (default 0.10)",
    )
    parser.add_argument(
        "--campaign-dir", type=Path, help="campaigns folder (default: CRM_CAMPAIGN_DIR, or campaigns/ in CRM_RAW_DIR)"
    )
    args = parser.parse_args(argv)
    if not args.campaign_name and (args.send_date or args.campaign_dir):
        parser.error("--send-date and --campaign-dir need --campaign-name")
    try:
        if args.csv_raw and args.out.suffix.lower() != ".csv":
            raise ValueError(f"--csv-raw applies to a .csv output only, not {args.out.name}")
        filters = dict(
            activity_status=args.status,
            value_tier=args.tier,
            lifecycle_event=args.event,
            segment=args.segment,
            channel=args.channel,
            customer_group=args.group,
            city=args.city,
            store=args.store,
            min_p_alive=args.min_p_alive,
            max_p_alive=args.max_p_alive,
            min_clv=args.min_clv,
        )
        frame = build_campaign_list(
            args.month, **filters, include_pii=args.include_pii, path=args.serving_db, build_db=args.build_db
        )
        campaign = None
        if args.campaign_name:
            frame, campaign, record = record_list_as_campaign(
                frame,
                args.month or latest_month(args.serving_db),
                campaign_name=args.campaign_name,
                channel=args.channel,
                send_date=args.send_date,
                holdout_share=args.holdout_share,
                folder=args.campaign_dir,
            )
        filters = {"month": args.month, **filters}
        if args.campaign_name:
            filters["campaign_name"] = args.campaign_name
        command = shlex.join(["scripts/campaign_list.py", *(sys.argv[1:] if argv is None else argv)])
        out = export(frame, args.out, csv_raw=args.csv_raw, filters=filters, source=command)
    except (ServingFileMissing, ValueError, pii.ContactsUnavailable, pii.ExportNotLogged) as error:
        print(f"[crm] {error}", file=sys.stderr)
        return 2
    if campaign is not None:
        print(
            f"[crm] campaign {campaign.campaign_id} recorded in {record}: {len(campaign.members)} members, "
            f"{len(campaign.contacted)} contacted, {len(campaign.holdout)} held out "
            f"(holdout share {campaign.holdout_share:.2f}, send date {campaign.send_date})"
        )
    print(f"[crm] {len(frame)} customers written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
