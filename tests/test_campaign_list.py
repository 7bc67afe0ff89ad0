"""Campaign lists (scripts/campaign_list.py): filters, consent, PII, CSV and Excel outputs, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import sql
from crm_warehouse import campaign_list, pii

ROOT = Path(__file__).resolve().parent.parent

PII = {"customer_name", "email", "mobile_number"}


def ids(path: Path, where: str, params=None, month: dt.date | None = None) -> set[str]:
    """customer_id of the snapshot of `month` (default: latest) joined to dim_customers, filtered."""
    month_sql = "?" if month else "(select max(report_month) from fct_customer_monthly_snapshot)"
    rows = sql(
        path,
        "select s.customer_id from fct_customer_monthly_snapshot s join dim_customers c using (customer_id) "
        f"where s.report_month = {month_sql} and ({where})",
        ([month] if month else []) + list(params or []),
    )
    return {row[0] for row in rows}


@pytest.fixture(autouse=True)
def contacts_of_the_demo_build(monkeypatch, build_db):
    """--include-pii reads the contact details from the build warehouse the serving file was published
    from (build_db: the demo built for this run when warehouse/ is not current), not from warehouse/."""
    monkeypatch.setenv("CRM_DUCKDB_PATH", str(build_db))


@pytest.fixture(scope="session")
def latest(serving_db) -> dt.date:
    return sql(serving_db, "select max(report_month) from fct_customer_monthly_snapshot")[0][0]


def build(serving_db, **filters):
    return campaign_list.build_campaign_list(path=serving_db, **filters)


def test_default_is_the_latest_month_without_pii(serving_db, latest):
    frame = build(serving_db)
    assert set(frame["report_month"]) == {f"{latest:%Y-%m}"}
    assert set(frame["customer_id"]) == ids(serving_db, "true")
    assert frame["customer_id"].is_unique
    assert not PII & set(frame.columns)


def test_report_month(serving_db):
    months = [
        row[0] for row in sql(serving_db, "select distinct report_month from fct_customer_monthly_snapshot order by 1")
    ]
    month = months[len(months) // 2]
    frame = build(serving_db, report_month=f"{month:%Y-%m}")
    assert set(frame["report_month"]) == {f"{month:%Y-%m}"}
    assert set(frame["customer_id"]) == ids(serving_db, "true", month=month)


@pytest.mark.parametrize(
    ("argument", "value", "where"),
    [
        ("activity_status", "Active", "s.activity_status = 'Active'"),
        ("activity_status", "Not Active", "s.activity_status = 'Not Active'"),
        ("value_tier", "Gold", "s.value_tier = 'Gold'"),
        ("value_tier", ["Diamond", "Platinum"], "s.value_tier in ('Diamond', 'Platinum')"),
        ("value_tier", "Not Active", "s.value_tier is null"),
        ("lifecycle_event", "Lost", "s.lifecycle_event = 'Lost'"),
        ("lifecycle_event", ["New", "Reactivated"], "s.lifecycle_event in ('New', 'Reactivated')"),
        ("segment", "Champions", "s.rfm_segment = 'Champions'"),
        ("segment", "Not Active", "s.rfm_segment is null"),
        ("customer_group", "retail", "lower(c.customer_group) = 'retail'"),
        ("city", "Nairobi", "c.city = 'Nairobi'"),
    ],
)
def test_each_filter(serving_db, argument, value, where):
    frame = build(serving_db, **{argument: value})
    expected = ids(serving_db, where)
    assert expected, f"the demo data hold no customer for {argument}={value}"
    assert set(frame["customer_id"]) == expected
    column = {"segment": "rfm_segment"}.get(argument, argument)
    if column not in ("customer_group", "city"):
        wanted = {value} if isinstance(value, str) else set(value)
        assert set(frame[column]) == wanted


def test_store_filter_uses_purchases_up_to_the_month_end(serving_db):
    months = [
        row[0] for row in sql(serving_db, "select distinct report_month from fct_customer_monthly_snapshot order by 1")
    ]
    store = sql(
        serving_db,
        "select store_id from fct_sales where store_id is not null group by 1 order by count(*) desc limit 1",
    )[0][0]
    for month in (months[0], months[-1]):
        frame = build(serving_db, report_month=month, store=store)
        expected = ids(
            serving_db,
            "s.customer_id in (select customer_id from fct_sales where store_id = ? "
            "and not is_return and invoice_date <= last_day(s.report_month))",
            [store],
            month=month,
        )
        assert expected and set(frame["customer_id"]) == expected


def test_filters_combine(serving_db):
    frame = build(
        serving_db, activity_status="Active", value_tier=["Gold", "Silver"], channel="sms", city=["Nairobi", "Mombasa"]
    )
    expected = ids(
        serving_db,
        "s.activity_status = 'Active' and s.value_tier in ('Gold', 'Silver') "
        "and c.opt_sms = 1 and c.city in ('Nairobi', 'Mombasa')",
    )
    assert expected and set(frame["customer_id"]) == expected


@pytest.mark.parametrize("channel", ["email", "sms", "phone"])
def test_channel_list_contains_only_consented_customers(serving_db, latest, channel):
    frame = build(serving_db, channel=channel)
    consented = sql(
        serving_db,
        "select count(*) from fct_customer_monthly_snapshot s join dim_customers c using (customer_id) "
        f"where s.report_month = ? and c.opt_{channel} = 1",
        [latest],
    )[0][0]
    assert len(frame) == consented > 0
    assert (frame[f"opt_{channel}"] == 1).all()
    not_consented = ids(serving_db, f"c.opt_{channel} is distinct from 1")
    assert not_consented, "the demo data should hold customers without consent"
    assert not set(frame["customer_id"]) & not_consented


def test_pii_only_on_request_and_only_the_channel_contact(serving_db):
    assert not PII & set(build(serving_db).columns)
    assert PII <= set(build(serving_db, include_pii=True).columns)
    email = build(serving_db, channel="email", include_pii=True)
    assert {"customer_name", "email"} <= set(email.columns) and "mobile_number" not in email.columns
    for channel in ("sms", "phone"):
        frame = build(serving_db, channel=channel, include_pii=True)
        assert {"customer_name", "mobile_number"} <= set(frame.columns) and "email" not in frame.columns


def mobile_numbers(build_db) -> dict[str, str]:
    """Mobile numbers of the build warehouse's restricted contacts (never in the serving file)."""
    rows = sql(
        build_db,
        "select customer_id, mobile_number from restricted.dim_customer_contacts where mobile_number is not null",
    )
    numbers = dict(rows)
    assert any(number.startswith("0") for number in numbers.values()), "demo mobile numbers have leading zeros"
    return numbers


def test_csv_output_keeps_mobile_numbers_as_text(serving_db, build_db, tmp_path):
    frame = build(serving_db, channel="sms", include_pii=True)
    out = campaign_list.export(frame, tmp_path / "sms.csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(frame)
    assert list(rows[0]) == list(frame.columns)
    numbers = mobile_numbers(build_db)
    checked = [row for row in rows if row["mobile_number"]]
    assert checked
    for row in checked:
        assert row["mobile_number"] == numbers[row["customer_id"]]
    assert any(row["mobile_number"].startswith("0") for row in checked)


def test_xlsx_output_keeps_mobile_numbers_as_text(serving_db, build_db, tmp_path):
    from openpyxl import load_workbook

    frame = build(serving_db, include_pii=True, value_tier=["Gold", "Diamond"])
    out = campaign_list.export(frame, tmp_path / "list.xlsx")
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(frame.columns)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == len(frame) + 1
    numbers = mobile_numbers(build_db)
    id_column = header.index("customer_id") + 1
    mobile_column = header.index("mobile_number") + 1
    seen = 0
    for row in sheet.iter_rows(min_row=2):
        cell = row[mobile_column - 1]
        if cell.value is None:
            continue
        seen += 1
        assert cell.data_type == "s" and cell.number_format == "@"
        assert cell.value == numbers[row[id_column - 1].value]
    assert seen > 0


def test_cli_writes_csv_and_xlsx(serving_db, tmp_path, capsys):
    out = tmp_path / "gold_email.xlsx"
    code = campaign_list.main(
        ["--out", str(out), "--tier", "Gold", "--channel", "email", "--include-pii", "--serving-db", str(serving_db)]
    )
    assert code == 0 and out.exists()
    assert "customers written" in capsys.readouterr().out
    expected = ids(serving_db, "s.value_tier = 'Gold' and c.opt_email = 1")
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == expected

    csv_out = tmp_path / "lost.csv"
    assert campaign_list.main(["--out", str(csv_out), "--event", "Lost", "--serving-db", str(serving_db)]) == 0
    with csv_out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["customer_id"] for row in rows} == ids(serving_db, "s.lifecycle_event = 'Lost'")
    assert not PII & set(rows[0])


def test_cli_errors_are_messages(serving_db, tmp_path, capsys):
    assert campaign_list.main(["--out", str(tmp_path / "x.txt"), "--serving-db", str(serving_db)]) == 2
    assert "use a .csv or .xlsx" in capsys.readouterr().err
    assert (
        campaign_list.main(["--out", str(tmp_path / "x.csv"), "--month", "1999-01", "--serving-db", str(serving_db)])
        == 2
    )
    assert "not a report month" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert campaign_list.main(["--out", str(tmp_path / "x.csv"), "--serving-db", str(tmp_path / "none.duckdb")]) == 2
    assert "make build" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        campaign_list.main(["--out", str(tmp_path / "x.csv"), "--channel", "fax"])


def test_customer_value_filters(serving_db, latest):
    value = "select customer_id from fct_customer_value where report_month = s.report_month and {}"
    frame = build(serving_db, min_p_alive=0.8)
    expected = ids(serving_db, f"s.customer_id in ({value.format('p_alive >= 0.8')})")
    assert set(frame["customer_id"]) == expected and expected
    assert (frame["p_alive"] >= 0.8).all()
    leaving = build(serving_db, max_p_alive=0.3, min_clv=10)
    expected = ids(serving_db, f"s.customer_id in ({value.format('p_alive <= 0.3 and clv_12m >= 10')})")
    assert set(leaving["customer_id"]) == expected and expected
    # a customer without a core purchase has no value: left out by a value filter, kept without one
    never_bought = ids(serving_db, f"s.customer_id not in ({value.format('true')})")
    assert never_bought and never_bought <= set(build(serving_db)["customer_id"])
    assert not never_bought & set(build(serving_db, max_p_alive=1.0)["customer_id"])


def test_customer_value_filters_on_the_command_line(serving_db, tmp_path):
    out = tmp_path / "leaving.csv"
    assert (
        campaign_list.main(
            ["--out", str(out), "--max-p-alive", "0.3", "--min-clv", "10", "--serving-db", str(serving_db)]
        )
        == 0
    )
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(float(row["p_alive"]) <= 0.3 and float(row["clv_12m"]) >= 10 for row in rows)


# --------------------------------------------------------------------------------------------------
# personal data (issue 24, SPEC section 12): contact details from the build warehouse, owner-only
# files, the export log


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_include_pii_reads_the_build_warehouse_writes_owner_only_and_logs(
    serving_db, build_db, tmp_path, pii_export_log, capsys
):
    out = tmp_path / "gold_email.csv"
    argv = ["--out", str(out), "--tier", "Gold", "--channel", "email", "--include-pii", "--serving-db", str(serving_db)]
    assert campaign_list.main([*argv, "--build-db", str(build_db)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    contacts = {
        customer: (name or "", email or "")  # CSV writes NULL as an empty field
        for customer, name, email in sql(
            build_db, "select customer_id, customer_name, email from restricted.dim_customer_contacts"
        )
    }
    assert rows and all((row["customer_name"], row["email"]) == contacts[row["customer_id"]] for row in rows)
    assert any(row["email"] for row in rows)
    if os.name != "nt":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, "a list with contact details is owner-only"
        assert stat.S_IMODE(pii_export_log.stat().st_mode) == 0o600

    (line,) = log_lines(pii_export_log)
    assert line["user"] == getpass.getuser() and line["host"]
    assert dt.datetime.fromisoformat(line["time"]).tzinfo is not None
    assert line["source"].startswith("scripts/campaign_list.py ") and "--include-pii" in line["source"]
    assert line["filters"] == {"value_tier": ["Gold"], "channel": "email"}
    assert line["rows"] == len(rows) and line["output"] == str(out.resolve())
    assert line["pii_columns"] == ["customer_name", "email"]
    text = pii_export_log.read_text(encoding="utf-8")
    assert not any(value and value in text for row in rows for value in (row["customer_name"], row["email"])), (
        "the export log holds personal data"
    )
    # a list without contact details: no log line, ordinary permissions
    plain = tmp_path / "gold.csv"
    assert campaign_list.main(["--out", str(plain), "--tier", "Gold", "--serving-db", str(serving_db)]) == 0
    assert len(log_lines(pii_export_log)) == 1
    # a second export of personal data appends a second line
    xlsx = tmp_path / "gold_sms.xlsx"
    argv = ["--out", str(xlsx), "--channel", "sms", "--include-pii", "--serving-db", str(serving_db)]
    assert campaign_list.main([*argv, "--build-db", str(build_db)]) == 0
    assert [line["pii_columns"] for line in log_lines(pii_export_log)] == [
        ["customer_name", "email"],
        ["customer_name", "mobile_number"],
    ]
    assert log_lines(pii_export_log)[1]["output"] == str(xlsx.resolve())
    capsys.readouterr()


def test_an_export_that_cannot_be_logged_is_withdrawn(serving_db, build_db, tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "log_is_a_folder"
    blocked.mkdir()
    monkeypatch.setenv("CRM_PII_EXPORT_LOG", str(blocked))
    out = tmp_path / "list.csv"
    argv = ["--out", str(out), "--include-pii", "--serving-db", str(serving_db), "--build-db", str(build_db)]
    assert campaign_list.main(argv) == 2
    assert "always logged" in capsys.readouterr().err
    assert not out.exists()


def test_contact_details_while_a_build_holds_the_warehouse(serving_db, build_db, tmp_path):
    """Another process holds the build file for writing (as dbt does during a build): the list stops
    with a message, it never waits for the build."""
    copy = tmp_path / "crm.duckdb"
    shutil.copy(build_db, copy)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(copy),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(pii.ContactsUnavailable, match="running build"):
            build(serving_db, include_pii=True, build_db=copy)
    finally:
        holder.stdin.close()
        holder.wait()
    assert PII <= set(build(serving_db, include_pii=True, build_db=copy).columns)
    with pytest.raises(pii.ContactsUnavailable, match="make build"):
        build(serving_db, include_pii=True, build_db=tmp_path / "missing.duckdb")
