"""Exports that are safe to open (issue 18): no spreadsheet / CSV formula injection.

A small warehouse is built once per session from a generated raw folder whose customers master holds
hostile text (names `=HYPERLINK(...)`, `+1+1`, `@SUM(1,1)`, a leading `-`, a leading tab, the city
`=2+3`) next to genuine `+254...` phone numbers and a customer whose 12-month sales are negative.
Every exporter is fed from it: the campaign list CLI (.xlsx, .csv, --csv-raw), the app's download
bytes (app/crm_data.py) and the Excel summary (scripts/excel_report.py). Workbooks are checked in
openpyxl (no formula cell) and in the raw sheet XML (no <f> element); CSV cells are checked as a
spreadsheet reads them (no cell starts with = + - @ tab CR unless it is only a number).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

import excel_report
import generate_data
from conftest import MODELS_ONLY, run_dbt, sql
from crm_warehouse import campaign_list, publish, safe_export

ROOT = Path(__file__).resolve().parent.parent

HYPERLINK = '=HYPERLINK("http://example.invalid","click")'
# customer attribute overrides, applied to the first buyers of the generated master (in id order)
HOSTILE = (
    {"customer_name": HYPERLINK, "city": "=2+3"},
    {"customer_name": "+1+1", "city": "=2+3"},
    {"customer_name": "@SUM(1,1)", "city": "=2+3"},
    {"customer_name": "-Dash Hostile", "email": "-dash@example.invalid"},
    {"customer_name": "\tTab Hostile"},
    {"customer_name": "Wanjiru Genuine", "mobile_number": "+254712345678"},
    {"customer_name": "Otieno Spaced", "mobile_number": "+254 722 000 111"},
)
HOSTILE_TEXT = {HYPERLINK, "+1+1", "@SUM(1,1)", "-Dash Hostile", "\tTab Hostile", "=2+3", "-dash@example.invalid"}
PHONES = {"+254712345678", "+254 722 000 111"}
NUMERIC = (
    "recency_days",
    "frequency_orders",
    "monetary_value",
    "sales_12m",
    "tenure_months",
    "opt_email",
    "opt_sms",
    "opt_phone",
)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Hostile:
    serving: Path
    build: Path  # the build warehouse: contact details (restricted.dim_customer_contacts)
    ids: dict[str, dict[str, str]]  # customer_id -> the overrides it got
    negative_id: str  # customer with negative sales_12m in the latest month


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> Hostile:
    """A small warehouse (60 customers, 2 years; models only, about 10 s) built and published once."""
    base = tmp_path_factory.mktemp("hostile")
    raw = base / "raw"
    generate_data.generate(raw, customers=60, start_year=2024, years=2, seed=11, clean=True, verbose=False)
    sales_files = sorted(raw.glob("sales_transactions_*.csv"))
    buyers: set[str] = set()
    for path in sales_files:
        with path.open(newline="", encoding="utf-8") as handle:
            buyers |= {row["customer_id"] for row in csv.DictReader(handle)}
    master = raw / "customers_master.csv"
    with master.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    with (ROOT / "seeds" / "anonymous_customer_groups.csv").open(newline="", encoding="utf-8") as handle:
        walk_in = {row["customer_group"].strip().lower() for row in csv.DictReader(handle)}
    chosen = sorted(
        row["customer_id"]
        for row in rows
        if row["customer_id"] in buyers and row["customer_group"].strip().lower() not in walk_in
    )[: len(HOSTILE)]
    ids = dict(zip(chosen, HOSTILE))
    for row in rows:
        if row["customer_id"] in ids:
            row.update(ids[row["customer_id"]], opt_email="1", opt_sms="1", opt_phone="1")
    with master.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    # A large return in the last month makes the genuine-phone customer's 12-month sales negative.
    negative_id = chosen[5]
    with sales_files[-1].open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    last = max(lines, key=lambda line: line["invoice_date"])
    with sales_files[-1].open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            ["RETHOSTILE1", negative_id, last["invoice_date"], last["product_id"], "-40", "-99999.50", last["store_id"]]
        )

    build_db = base / "wh" / "crm.duckdb"
    run_dbt(raw, build_db, *MODELS_ONLY)
    serving = base / "wh" / "crm_serving.duckdb"
    publish.publish(build_db, serving, base / "wh" / "parquet", log=lambda *args, **kwargs: None)
    names = dict(sql(build_db, "select customer_id, customer_name from restricted.dim_customer_contacts"))
    assert all(names[customer] == values["customer_name"] for customer, values in ids.items()), (
        "the hostile names did not reach dim_customers unchanged"
    )
    negative = sql(
        serving,
        "select sales_12m from fct_customer_monthly_snapshot where customer_id = ? "
        "and report_month = (select max(report_month) from fct_customer_monthly_snapshot)",
        [negative_id],
    )
    assert negative and negative[0][0] < 0, "the return did not make the 12-month sales negative"
    return Hostile(serving, build_db, ids, negative_id)


# --------------------------------------------------------------------------------------------------
# checks


def formula_cells(xlsx: bytes | Path) -> list[str]:
    """Formula cells of a workbook, as openpyxl reloads it and as the sheet XML holds them."""
    data = xlsx.read_bytes() if isinstance(xlsx, Path) else xlsx
    found = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        found += [
            f"{sheet.title}!{cell.coordinate}" for row in sheet.iter_rows() for cell in row if cell.data_type == "f"
        ]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                found += [f"{name}: <f>" for _ in re.finditer(r"<(?:\w+:)?f[ >/]", xml)]
    return found


def xlsx_rows(data: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]


def csv_cells(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def spreadsheet_evaluates(cell: str) -> bool:
    """Would a spreadsheet opening the CSV treat this cell as a formula (OWASP leading characters)?"""
    text = cell.lstrip(" ")
    return text[:1] in TRIGGERS and not re.fullmatch(r"[+-]?[0-9]+(?: [0-9]+)*(?:\.[0-9]+)?", text)


def check_safe_csv(data: bytes, frame: pd.DataFrame, hostile: Hostile) -> None:
    cells = csv_cells(data)
    assert cells[0] == list(frame.columns)
    assert len(cells) == len(frame) + 1
    evaluated = [cell for row in cells for cell in row if spreadsheet_evaluates(cell)]
    assert not evaluated, f"cells a spreadsheet would evaluate: {evaluated}"
    rows = [dict(zip(cells[0], row)) for row in cells[1:]]
    by_id = {row["customer_id"]: row for row in rows}
    expected = frame.set_index("customer_id")
    seen_text = 0
    for customer, overrides in hostile.ids.items():
        row = by_id[customer]
        for column, value in overrides.items():
            if column not in row:
                continue
            if value in HOSTILE_TEXT:
                assert row[column] == "'" + value, f"{column} of {customer} not neutralised: {row[column]!r}"
                seen_text += 1
            else:  # genuine names and phone numbers
                assert row[column] == value, f"{column} of {customer} changed: {row[column]!r}"
    assert seen_text, "no hostile text in this list"
    # numbers keep their values (including the negative 12-month sales) and stay unquoted numbers
    for row in rows:
        for column in NUMERIC:
            wanted = expected.loc[row["customer_id"], column]
            assert (row[column] == "" and pd.isna(wanted)) or float(row[column]) == pytest.approx(float(wanted))
    negative = float(by_id[hostile.negative_id]["sales_12m"])
    assert negative < 0
    text = data.decode("utf-8-sig")
    assert re.search(rf",{re.escape(by_id[hostile.negative_id]['sales_12m'])}(,|\n)", text), (
        "the negative amount is not an unquoted number"
    )


def check_safe_xlsx(data: bytes, frame: pd.DataFrame, hostile: Hostile) -> None:
    assert formula_cells(data) == []
    sheet = load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    by_id = {row[0].value: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)}
    assert len(by_id) == len(frame)
    seen = 0
    for customer, overrides in hostile.ids.items():
        for column, value in overrides.items():
            if column not in header:
                continue
            cell = by_id[customer][column]
            assert cell.value == value and cell.data_type == "s", (customer, column, cell.value)
            assert cell.quotePrefix == (value in HOSTILE_TEXT), f"{column} of {customer}: quote prefix"
            seen += value in HOSTILE_TEXT
    assert seen
    negative = by_id[hostile.negative_id]["sales_12m"]
    assert negative.data_type == "n" and negative.value < 0
    expected = frame.set_index("customer_id")
    for customer, cells in by_id.items():
        for column in NUMERIC:
            wanted = expected.loc[customer, column]
            assert (cells[column].value is None and pd.isna(wanted)) or cells[column].value == pytest.approx(
                float(wanted)
            )


# --------------------------------------------------------------------------------------------------
# the rules of scripts/safe_export.py


@pytest.mark.parametrize(
    "value",
    [
        HYPERLINK,
        "+1+1",
        "@SUM(1,1)",
        "-Dash",
        "\tTab",
        "\rCR",
        "=2+3",
        "-",
        "  =1+1",
        "+cmd|' /C calc'!A0",
        "-1+1",
        "+254 712 CALL",
        "=1",
    ],
)
def test_formula_looking_text(value):
    assert safe_export.looks_like_formula(value)
    assert safe_export.escape_csv_value(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["+254712345678", "+254 712 345 678", "0712345678", "-12.5", "-5", "Jane", "a=b", "", None, -12.5, 3]
)
def test_values_left_alone(value):
    assert not safe_export.looks_like_formula(value)
    assert safe_export.escape_csv_value(value) is value


def test_csv_safe_and_raw_modes():
    frame = pd.DataFrame(
        {
            "customer_name": [HYPERLINK, "+1+1", "x;=1+1", None, "Jane"],
            "mobile_number": ["+254712345678", "0712345678", "-dash", "+254 722 000 111", None],
            "sales_12m": [-1234.5, 0.0, 12.25, None, 3.0],
            "orders": [1, -2, 3, 4, 5],
        }
    )
    safe = safe_export.csv_bytes(frame)
    assert safe.startswith("\ufeff".encode())
    rows = csv_cells(safe)
    assert [row[0] for row in rows[1:]] == ["'" + HYPERLINK, "'+1+1", "x;=1+1", "", "Jane"]
    assert [row[1] for row in rows[1:]] == ["+254712345678", "0712345678", "'-dash", "+254 722 000 111", ""]
    text = safe.decode("utf-8-sig")
    assert '"x;=1+1"' in text  # text is quoted: a spreadsheet splitting on ; keeps it in one cell
    assert "\n" + '"\'+1+1","0712345678",0.0,-2\n' in text  # numbers bare, unchanged
    assert ",-1234.5,1\n" in text
    raw = csv_cells(safe_export.csv_bytes(frame, raw=True))
    assert [row[0] for row in raw[1:]] == [HYPERLINK, "+1+1", "x;=1+1", "", "Jane"]
    assert [row[1] for row in raw[1:]] == ["+254712345678", "0712345678", "-dash", "+254 722 000 111", ""]
    assert safe_export.csv_bytes(frame, raw=True) == frame.to_csv(index=False).encode("utf-8-sig")


def test_workbook_text_is_never_a_formula(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "amount"])
    sheet.append([HYPERLINK, -5.5])
    sheet["A3"] = "+1+1"
    sheet["A4"].value = "=2+3"  # set after creation: openpyxl types it as a formula
    assert sheet["A2"].data_type == "f" and sheet["A4"].data_type == "f"
    out = safe_export.save_workbook(workbook, tmp_path / "sub" / "book.xlsx")
    assert formula_cells(out) == []
    reloaded = load_workbook(out).active
    assert [reloaded[c].value for c in ("A2", "A3", "A4", "B2")] == [HYPERLINK, "+1+1", "=2+3", -5.5]
    assert all(reloaded[c].quotePrefix for c in ("A2", "A3", "A4"))
    assert not reloaded["A1"].quotePrefix and reloaded["B2"].data_type == "n"


# --------------------------------------------------------------------------------------------------
# every exporter, fed the hostile customers master


def test_issue_reproduction_campaign_list_email_pii(hostile, tmp_path):
    """`campaign_list.py --channel email --include-pii` to .xlsx and .csv: no formula anywhere."""
    frame = campaign_list.build_campaign_list(
        channel="email", include_pii=True, path=hostile.serving, build_db=hostile.build
    )
    assert set(hostile.ids) <= set(frame["customer_id"])
    for suffix in ("xlsx", "csv"):
        out = tmp_path / f"email.{suffix}"
        code = campaign_list.main(
            ["--channel", "email", "--include-pii", "--out", str(out), "--serving-db", str(hostile.serving)]
            + ["--build-db", str(hostile.build)]
        )
        assert code == 0
        if suffix == "xlsx":
            check_safe_xlsx(out.read_bytes(), frame, hostile)
        else:
            check_safe_csv(out.read_bytes(), frame, hostile)


def test_campaign_list_sms_keeps_phone_numbers(hostile, tmp_path):
    frame = campaign_list.build_campaign_list(
        channel="sms", include_pii=True, path=hostile.serving, build_db=hostile.build
    )
    check_safe_csv(campaign_list.to_csv_bytes(frame), frame, hostile)
    check_safe_xlsx(campaign_list.to_xlsx_bytes(frame), frame, hostile)
    phones = {
        row["mobile_number"]
        for row in csv.DictReader(io.StringIO(campaign_list.to_csv_bytes(frame).decode("utf-8-sig"), newline=""))
    }
    assert PHONES <= phones
    assert PHONES <= {row["mobile_number"].value for row in xlsx_rows(campaign_list.to_xlsx_bytes(frame))}


def test_campaign_list_csv_raw_keeps_every_value(hostile, tmp_path):
    frame = campaign_list.build_campaign_list(include_pii=True, path=hostile.serving, build_db=hostile.build)
    out = tmp_path / "raw.csv"
    argv = ["--include-pii", "--csv-raw", "--out", str(out), "--serving-db", str(hostile.serving)]
    assert campaign_list.main([*argv, "--build-db", str(hostile.build)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["customer_id"]: row for row in csv.DictReader(handle)}
    for customer, overrides in hostile.ids.items():
        for column, value in overrides.items():
            assert rows[customer][column] == value
    assert float(rows[hostile.negative_id]["sales_12m"]) < 0
    assert out.read_bytes() == frame.to_csv(index=False).encode("utf-8-sig")


def test_csv_raw_is_refused_for_xlsx(hostile, tmp_path, capsys):
    out = tmp_path / "raw.xlsx"
    assert campaign_list.main(["--csv-raw", "--out", str(out), "--serving-db", str(hostile.serving)]) == 2
    assert "--csv-raw applies to a .csv output only" in capsys.readouterr().err
    assert not out.exists()


def test_app_download_bytes(hostile, monkeypatch, pii_export_log):
    """The bytes behind the Campaign lists page's "Download CSV" / "Download Excel" buttons; each
    download with contact details is one line of the export log."""
    monkeypatch.setenv("CRM_SERVING_PATH", str(hostile.serving))
    monkeypatch.setenv("CRM_DUCKDB_PATH", str(hostile.build))
    import crm_data

    month = sql(hostile.serving, "select max(report_month) from fct_customer_monthly_snapshot")[0][0]
    frame = crm_data.campaign_list_frame(month, channel="email", include_pii=True)
    assert set(hostile.ids) <= set(frame["customer_id"])
    check_safe_csv(crm_data.campaign_csv_bytes(frame), frame, hostile)
    check_safe_xlsx(crm_data.campaign_xlsx_bytes(frame), frame, hostile)
    everyone = crm_data.campaign_list_frame(month, include_pii=True)
    download = {"page": "Campaign lists", "file_name": "campaign_all.xlsx", "filters": {"month": f"{month:%Y-%m}"}}
    check_safe_csv(crm_data.campaign_csv_bytes(everyone), everyone, hostile)
    check_safe_xlsx(crm_data.campaign_xlsx_bytes(everyone, download), everyone, hostile)
    lines = [json.loads(line) for line in pii_export_log.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4, "one log line per download holding personal data"
    assert lines[-1]["source"] == "app page Campaign lists" and lines[-1]["rows"] == len(everyone)
    assert lines[-1]["output"] == "browser download: campaign_all.xlsx"
    assert lines[-1]["filters"] == {"month": f"{month:%Y-%m}"}
    assert lines[-1]["pii_columns"] == ["customer_name", "email", "mobile_number"]
    crm_data.campaign_xlsx_bytes(crm_data.campaign_list_frame(month))  # no personal data: not logged
    assert len(pii_export_log.read_text(encoding="utf-8").splitlines()) == 4


def test_app_hides_streamlit_unprotected_table_csv_download():
    """st.dataframe's own "Download as CSV" writes cells as they are (no formula protection): the
    app's script-level config (app/.streamlit/config.toml) hides it."""
    from streamlit import config

    saved = config._main_script_path
    try:
        config._main_script_path = str(ROOT / "app" / "streamlit_app.py")
        config.get_config_options(force_reparse=True)
        assert config.get_option("client.disableDataExport") is True
    finally:
        config._main_script_path = saved
        config.get_config_options(force_reparse=True)


def test_excel_summary_has_no_formula(hostile, tmp_path):
    """Segment texts come from seeds; a hostile description and action must stay text."""
    serving = tmp_path / "serving.duckdb"
    shutil.copy(hostile.serving, serving)
    with duckdb.connect(str(serving)) as connection:
        label = connection.execute(
            "select rfm_segment from kpi_segment_summary where report_month = "
            "(select max(report_month) from kpi_segment_summary) order by customers desc limit 1"
        ).fetchone()[0]
        connection.execute(
            "update dim_rfm_segments set segment_description = ?, segment_suggested_action = ? where segment_label = ?",
            [HYPERLINK, "@SUM(1,1)", label],
        )
    out = tmp_path / "report.xlsx"
    assert excel_report.main(["--out", str(out), "--serving-db", str(serving)]) == 0
    assert formula_cells(out) == []
    segments = load_workbook(out)["Segments"]
    header = [cell.value for cell in segments[1]]
    row = next(row for row in segments.iter_rows(min_row=2) if row[0].value == label)
    description, action = row[header.index("Description")], row[header.index("Suggested action")]
    assert (description.value, action.value) == (HYPERLINK, "@SUM(1,1)")
    assert description.data_type == action.data_type == "s" and description.quotePrefix and action.quotePrefix


# --------------------------------------------------------------------------------------------------
# control characters in a name or a city (issue 24): openpyxl refuses them; the .xlsx list is still
# written, each one replaced by a visible placeholder and counted; CSV keeps the value as it is


def test_xlsx_list_with_control_characters_is_written(hostile, tmp_path, capsys):
    frame = campaign_list.build_campaign_list(include_pii=True, path=hostile.serving, build_db=hostile.build)
    frame.loc[0, "customer_name"] = "Bell\x07Name\x00"
    frame.loc[1, "city"] = "Nai\x1brobi"
    frame.loc[2, "customer_name"] = "Tab\tand\nline breaks"  # allowed in .xlsx: unchanged, not counted
    with pytest.raises(Exception, match="cannot be used in worksheets"):  # what openpyxl does without the rule
        Workbook().active.append(["Bell\x07Name"])
    cleaned, changed = safe_export.replace_control_characters(frame)
    assert changed == 2 and frame.loc[0, "customer_name"] == "Bell\x07Name\x00", "the frame itself is unchanged"

    out = campaign_list.export(frame, tmp_path / "list.xlsx")
    message = capsys.readouterr().out
    assert "2 cell(s) held control characters" in message and "\ufffd" in message
    rows = xlsx_rows(out.read_bytes())
    assert rows[0]["customer_name"].value == "Bell\ufffdName\ufffd"
    assert rows[1]["city"].value == "Nai\ufffdrobi"
    assert rows[2]["customer_name"].value == "Tab\tand\nline breaks"
    assert len(rows) == len(frame) and formula_cells(out) == []

    raw = campaign_list.export(frame, tmp_path / "list.csv")
    assert "control characters" not in capsys.readouterr().out
    with raw.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert written[0]["customer_name"] == "Bell\x07Name\x00" and written[1]["city"] == "Nai\x1brobi"
