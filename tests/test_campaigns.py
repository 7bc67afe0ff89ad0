"""Campaigns with a holdout (SPEC section 11): recording (scripts/campaign_record.py and
scripts/campaign_list.py --campaign-name), reading the campaigns folder (staging, rejects, header
check, absent folder) and measuring the response (fct_campaign_members, kpi_campaign_response) on a
large generated set with simulated campaigns."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import generate_data
from conftest import query, run_dbt, sql
from crm_warehouse import campaign_list, campaign_record

ROOT = Path(__file__).resolve().parent.parent


def read_record(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------------------------------
# recording


def test_holdout_draw_is_a_sha256_of_campaign_and_customer():
    digest = hashlib.sha256(b"20251201_x|C0000001").digest()
    assert campaign_record.holdout_score("20251201_x", "C0000001") == int.from_bytes(digest[:8], "big") / 2**64
    # the same in another process with another hash seed (Python's hash() would differ)
    code = "from crm_warehouse import campaign_record as c; print(repr(c.holdout_score('20251201_x', 'C0000001')))"
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        assert float(out) == campaign_record.holdout_score("20251201_x", "C0000001")


def test_holdout_share_is_respected_and_groups_are_reproducible():
    customers = [{"customer_id": f"C{i:07d}", "opt_email": 1} for i in range(20_000)]
    first = campaign_record.draw_campaign(
        customers,
        campaign_name="Spring",
        channel="email",
        send_date="2026-03-02",
        report_month=campaign_list.parse_month("2026-02"),
    )
    again = campaign_record.draw_campaign(
        list(reversed(customers)),
        campaign_name="Spring",
        channel="email",
        send_date="2026-03-02",
        report_month=campaign_list.parse_month("2026-02"),
    )
    assert first.members == again.members
    assert first.campaign_id == "20260302_spring"
    assert abs(len(first.holdout) / len(first.members) - 0.10) < 0.01
    other = campaign_record.draw_campaign(
        customers,
        campaign_name="Spring",
        channel="email",
        send_date="2026-03-02",
        report_month=campaign_list.parse_month("2026-02"),
        holdout_share=0.3,
    )
    assert abs(len(other.holdout) / len(other.members) - 0.30) < 0.015
    # a larger share only adds members to the holdout (the same score is compared with the share)
    assert set(first.holdout) <= set(other.holdout)


def test_a_channel_campaign_never_records_a_customer_without_consent():
    customers = [
        {"customer_id": f"C{i}", "opt_sms": value} for i, value in enumerate([1, 0, None, "1", "", 2, "yes", 1.0] * 50)
    ]
    campaign = campaign_record.draw_campaign(
        customers,
        campaign_name="SMS",
        channel="sms",
        send_date="2026-01-10",
        report_month=campaign_list.parse_month("2026-01"),
        holdout_share=0.5,
    )
    consenting = {row["customer_id"] for row in customers if row["opt_sms"] in (1, "1", 1.0)}
    assert {customer for customer, _ in campaign.members} == consenting
    assert campaign.holdout and campaign.contacted  # both groups exist, both consented
    assert campaign.excluded_without_consent == len(customers) - len(consenting)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"campaign_name": " "}, "needs a name"),
        ({"holdout_share": 1.0}, "holdout share"),
        ({"channel": "fax"}, "unknown channel"),
        ({"send_date": "2026-13-01"}, "invalid send date"),
        ({"send_date": "2025-12-31"}, "before the list's report month"),
    ],
)
def test_recording_errors_are_messages(kwargs, message):
    arguments = {
        "campaign_name": "X",
        "channel": "email",
        "send_date": "2026-01-10",
        "report_month": campaign_list.parse_month("2026-01"),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        campaign_record.draw_campaign([{"customer_id": "C1", "opt_email": 1}], **arguments)


def test_cli_records_the_campaign_and_exports_only_the_contacted_group(serving_db, tmp_path, capsys):
    folder = tmp_path / "campaigns"
    arguments = [
        "--status",
        "Active",
        "--channel",
        "sms",
        "--campaign-name",
        "Winter SMS",
        "--send-date",
        "2026-01-05",
        "--campaign-dir",
        str(folder),
        "--serving-db",
        str(serving_db),
    ]
    assert campaign_list.main(["--out", str(tmp_path / "list.csv"), *arguments]) == 0
    assert "recorded in" in capsys.readouterr().out
    (record,) = folder.glob("*.csv")
    rows = read_record(record)
    assert list(rows[0]) == campaign_record.RECORD_COLUMNS
    assert {row["member_group"] for row in rows} == {"contacted", "holdout"}
    assert {(row["campaign_id"], row["channel"], row["send_date"]) for row in rows} == {
        ("20260105_winter_sms", "sms", "2026-01-05")
    }
    contacted = {row["customer_id"] for row in rows if row["member_group"] == "contacted"}
    with open(tmp_path / "list.csv", newline="", encoding="utf-8-sig") as handle:
        exported = {row["customer_id"] for row in csv.DictReader(handle)}
    assert exported == contacted
    members = [row["customer_id"] for row in rows]
    without_consent = sql(
        serving_db,
        "select count(*) from dim_customers where coalesce(opt_sms, 0) <> 1 and list_contains(?, customer_id)",
        [members],
    )[0][0]
    assert without_consent == 0
    first = record.read_bytes()
    assert campaign_list.main(["--out", str(tmp_path / "again.csv"), *arguments]) == 0
    assert record.read_bytes() == first  # the same command twice gives the same groups


def test_campaign_dir_defaults_to_campaigns_in_the_raw_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_CAMPAIGN_DIR", raising=False)
    monkeypatch.setenv("CRM_RAW_DIR", str(tmp_path / "raw"))
    assert campaign_record.campaign_dir() == tmp_path / "raw" / "campaigns"
    monkeypatch.setenv("CRM_CAMPAIGN_DIR", str(tmp_path / "elsewhere"))
    assert campaign_record.campaign_dir() == tmp_path / "elsewhere"


# --------------------------------------------------------------------------------------------------
# reading and measuring


def test_no_campaign_folder_means_no_campaigns(clean_warehouse):
    """clean_raw has no campaigns folder: the build succeeds and the campaign marts are empty."""
    assert query(clean_warehouse, "select count(*) as n from marts.kpi_campaign_response")["n"][0] == 0
    assert query(clean_warehouse, "select count(*) as n from marts.fct_campaign_members")["n"][0] == 0


BAD_CAMPAIGN = """campaign_id,campaign_name,channel,send_date,report_month,customer_id,member_group
bad_rows,Bad rows,,2025-06-02,2025-05-01,C0000001,contacted
bad_rows,Bad rows,,2025-06-02,2025-05-01,C0000001,holdout
bad_rows,Bad rows,,2025-06-02,2025-05-01,C0999999,contacted
bad_rows,Bad rows,,2025-06-02,2025-05-01,C0000002,control
bad_rows,Bad rows,,2025-06-02,2025-05-01,C0000003,holdout
"""
DISAGREEING_CAMPAIGN = """campaign_id,campaign_name,channel,send_date,report_month,customer_id,member_group
mixed,Mixed,email,2025-06-02,2025-05-01,C0000004,contacted
mixed,Mixed,email,2025-06-03,2025-05-01,C0000005,holdout
bad_date,Bad date,email,2025-06-31,2025-05-01,C0000006,contacted
"""


@pytest.fixture(scope="module")
def campaign_build(tmp_path_factory):
    """A large clean generated set with the demo campaigns (and two hand-made files with bad rows),
    built with its tests by dbt."""
    raw = tmp_path_factory.mktemp("raw_campaigns")
    summary = generate_data.generate(
        raw, customers=9000, start_year=2024, years=2, seed=23, clean=True, verbose=False, campaigns=True
    )
    (raw / "campaigns" / "zz_bad_rows.csv").write_text(BAD_CAMPAIGN)
    (raw / "campaigns" / "zz_disagreeing.csv").write_text(DISAGREEING_CAMPAIGN)
    db_path = tmp_path_factory.mktemp("wh_campaigns") / "crm.duckdb"
    # the data tests read these rows; the unit tests read none (they run in make test's main build)
    result = run_dbt(raw, db_path, "build", "--full-refresh", "--exclude-resource-type", "unit_test", check=False)
    return raw, db_path, summary, result


def test_campaign_build_and_its_data_tests_pass(campaign_build):
    _, _, _, result = campaign_build
    assert result.returncode == 0, result.stdout[-6000:]


def test_confidence_interval_contains_the_simulated_uplift(campaign_build):
    _, db_path, summary, _ = campaign_build
    marts = query(db_path, "select * from marts.kpi_campaign_response").set_index("campaign_id")
    simulated = {item["campaign_id"]: item for item in summary["campaigns"]}
    assert set(simulated) <= set(marts.index)
    for campaign_id, truth in simulated.items():
        row = marts.loc[campaign_id]
        assert row["contacted_members"] == truth["contacted"] and row["holdout_members"] == truth["holdout"]
        # the holdout is untouched by the simulation: its rate is the organic one
        assert row["holdout_response_rate"] == pytest.approx(truth["organic_holdout_response_rate"])
        assert row["uplift_ci_lower_pp"] <= truth["simulated_uplift_pp"] <= row["uplift_ci_upper_pp"], (
            campaign_id,
            row,
        )
        expected_status = "completed" if truth["window_complete"] else "running"
        assert row["campaign_status"] == expected_status
        if truth["extra_purchase_probability"] > 0 and truth["window_complete"]:
            assert row["is_uplift_significant"] and row["uplift_ci_lower_pp"] > 0
        if truth["extra_purchase_probability"] == 0:
            assert not row["is_uplift_significant"], row  # no simulated effect: not significant


def test_bad_campaign_rows_are_rejected_with_their_reason(campaign_build):
    _, db_path, _, _ = campaign_build
    rejects = query(
        db_path,
        "select source_file, source_row_number, reject_reason "
        "from staging.stg_crm__campaign_members_rejects order by 1, 2",
    )
    assert [tuple(row) for row in rejects.itertuples(index=False)] == [
        ("zz_bad_rows.csv", 2, "duplicate_member"),
        ("zz_bad_rows.csv", 3, "unknown_customer_id"),
        ("zz_bad_rows.csv", 4, "unknown_member_group"),
        ("zz_disagreeing.csv", 1, "inconsistent_campaign_fields"),
        ("zz_disagreeing.csv", 2, "inconsistent_campaign_fields"),
        ("zz_disagreeing.csv", 3, "invalid_send_date"),
    ]
    bad = query(db_path, "select * from marts.kpi_campaign_response where campaign_id = 'bad_rows'").iloc[0]
    assert (bad["contacted_members"], bad["holdout_members"]) == (1, 1)
    quality = query(
        db_path,
        "select reason, sum(row_count) as n from marts.fct_data_quality "
        "where raw_source = 'campaign_members' and disposition = 'rejected' group by 1",
    )
    assert dict(zip(quality["reason"], quality["n"])) == {
        "duplicate_member": 1,
        "unknown_customer_id": 1,
        "unknown_member_group": 1,
        "inconsistent_campaign_fields": 2,
        "invalid_send_date": 1,
    }


def test_a_wrong_campaign_header_stops_the_build_naming_the_file(campaign_build, tmp_path):
    raw, _, _, _ = campaign_build
    copy = tmp_path / "raw"
    shutil.copytree(raw, copy)
    broken = copy / "campaigns" / "broken.csv"
    broken.write_text("campaign_id,name,channel,send_date,report_month,customer_id,member_group\n")
    result = run_dbt(copy, tmp_path / "wh" / "crm.duckdb", "run", "-s", "base_crm__campaign_members", check=False)
    assert result.returncode != 0
    assert f"{broken.as_posix()}: wrong header" in result.stdout
    assert "(missing: campaign_name) (unexpected: name)" in result.stdout
