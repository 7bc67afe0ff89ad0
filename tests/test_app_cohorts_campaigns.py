"""The app's cohort and campaign pages (AppTest on the published demo serving file): the figures are
the marts' (kpi_cohort_retention, kpi_campaign_response), and the campaign list page records a
campaign into the campaigns folder."""

from __future__ import annotations

import csv

import pytest

from test_app_streamlit import decode, figures, goto, latest, new_app, serving_env, sql  # noqa: F401


def test_cohort_heatmap_is_the_mart(serving_db, latest):
    at = goto(new_app(), "views/cohorts.py")
    heatmap = figures(at)[0]["data"][0]
    rows = sql(
        serving_db,
        "select cohort_month, months_since_acquisition, retention_rate, cohort_customers "
        "from kpi_cohort_retention where report_month <= ? order by 1, 2",
        [latest],
    )
    cohorts = sorted({row[0] for row in rows})
    assert heatmap["type"] == "heatmap" and len(heatmap["y"]) == len(cohorts)
    z = heatmap["z"]
    if isinstance(z, dict):  # a typed 2-D array: flat values and a shape "rows, columns"
        columns = int(str(z["shape"]).split(",")[1])
        z = [decode(z)[:columns]]
    first_row = [value for value in decode(z[0]) if value is not None and value == value]
    expected = [100 * row[2] for row in rows if row[0] == cohorts[0]]
    assert first_row == pytest.approx(expected)
    assert heatmap["y"][0].startswith(f"{cohorts[0]:%Y-%m} ({rows[0][3]:,})")
    # the retention curves are drawn for the chosen cohorts
    assert figures(at)[1]["data"], "no retention curve"
    # switching the cell value to revenue per customer
    at.radio(key="cohort_measure").set_value("Cumulative revenue per customer").run()
    assert not at.exception


def test_campaign_results_page_shows_the_mart(serving_db):
    campaigns = sql(
        serving_db,
        "select campaign_name, uplift_pp, uplift_ci_lower_pp, uplift_ci_upper_pp, "
        "campaign_status from kpi_campaign_response",
    )
    assert campaigns, "the serving file has no campaign (the demo data has three, data/demo/campaigns/)"
    at = goto(new_app(), "views/campaign_results.py")
    uplift = figures(at)[0]
    shown = {}
    for trace in uplift["data"]:
        for label, x, plus in zip(trace["y"], decode(trace["x"]), decode(trace["error_x"]["array"])):
            shown[label.rsplit(" (", 1)[0]] = (x, x + plus, trace["name"])
    for name, value, _, upper, status in campaigns:
        assert shown[name][0] == pytest.approx(value)
        assert shown[name][1] == pytest.approx(upper)
        assert shown[name][2] == status


def test_campaign_page_records_a_campaign(tmp_path, monkeypatch, serving_db, latest):
    monkeypatch.setenv("CRM_CAMPAIGN_DIR", str(tmp_path / "campaigns"))
    at = goto(new_app(), "views/campaigns.py")
    at.selectbox(key="camp_channel").set_value("email").run()
    # form widgets: the values are sent with the submit button
    at.text_input(key="camp_record_name").input("App test")
    at.date_input(key="camp_record_send_date").set_value(latest.replace(day=20))
    submit = [button for button in at.get("form_submit_button") if button.proto.label == "Record campaign"]
    submit[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (record,) = (tmp_path / "campaigns").glob("*.csv")
    with open(record, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["channel"] for row in rows} == {"email"}
    assert {row["campaign_id"] for row in rows} == {f"{latest.replace(day=20):%Y%m%d}_app_test"}
    members = [row["customer_id"] for row in rows]
    assert (
        sql(
            serving_db,
            "select count(*) from dim_customers where coalesce(opt_email, 0) <> 1 and list_contains(?, customer_id)",
            [members],
        )[0][0]
        == 0
    )
    assert any("recorded" in success.value for success in at.success)
