"""Demo campaigns (SPEC section 11): recorded with a holdout, contacted customers buy a bit more."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from crm_warehouse import project_settings
from crm_warehouse.synth.basics import EPOCH, random_stream, sql_list
from crm_warehouse.synth.file_layouts import (
    CUSTOMER_COLUMNS,
    CUSTOMERS_FILE,
    PRODUCT_COLUMNS,
    PRODUCTS_FILE,
    TX_COLUMNS,
)
from crm_warehouse.synth.report_calendar import ReportCalendar

# (name, channel, send date as (months before the last month, day of month) or None = 10 days before
#  the end date, holdout share, extra purchase probability of a contacted member in the window)
DEMO_CAMPAIGNS = [
    ("Refill reminder", "email", (4, 5), 0.20, 0.25),
    ("Loyalty SMS", "sms", (3, 12), 0.20, 0.0),  # no simulated effect
    ("Year-end offer", "email", None, 0.10, 0.25),  # window not over at the end date: running
]
CAMPAIGN_WINDOW_DAYS = project_settings.campaign_response_window_days()  # var crm_campaign_response_window_days


def simulate_campaigns(
    out: Path, cal: ReportCalendar, seed: int, campaigns=DEMO_CAMPAIGNS
) -> tuple[list[dict], dict[int, int]]:
    """Record the demo campaigns in ``out/campaigns`` and append their simulated responses.

    Runs on the files already written, so the generated lines are unchanged and stay first: the
    response lines are appended at the end of the year files (own invoices, numbered after the
    highest invoice number). Members: customers of the master (not walk-ins) with the channel's
    consent (``1``) and a consumable purchase in the 12 months before the list's report month (the
    month before the send date) ended. Groups are drawn exactly as scripts/campaign_record.py draws
    them. A contacted member buys, with the campaign's extra probability, once more in the window
    (a repeat of their latest consumable line, on a day drawn uniformly in the 30 days after the send
    date; dropped when after the end date). Returns per campaign the members, the organic response
    rates and the simulated uplift (realised: the share of contacted members who respond only
    because of the extra purchase), in percentage points."""
    from crm_warehouse import campaign_record  # the same draw as scripts/campaign_list.py --campaign-name

    con = duckdb.connect()
    try:
        tx_files = sorted(str(p) for p in out.glob("sales_transactions_*.csv"))
        # read as text first, then typed (a cast in the same query is pushed into the CSV reader)
        con.execute(f"""
            CREATE TABLE tx_raw AS SELECT *
            FROM read_csv({sql_list(tx_files)}, header = true, auto_detect = false, quote = '"', escape = '"',
                          columns = {{{", ".join(f"'{c}': 'VARCHAR'" for c in TX_COLUMNS)}}})""")
        con.execute("""
            CREATE TABLE tx AS SELECT invoice_id, customer_id, try_cast(invoice_date AS DATE) AS d, product_id,
                   try_cast(quantity AS INTEGER) AS q, revenue, store_id
            FROM tx_raw""")
        con.execute(f"""
            CREATE TABLE cust AS SELECT customer_id, customer_group, opt_email, opt_sms, opt_phone
            FROM read_csv('{out / CUSTOMERS_FILE}', header = true, auto_detect = false, quote = '"', escape = '"',
                          columns = {{{", ".join(f"'{c}': 'VARCHAR'" for c in CUSTOMER_COLUMNS)}}})
            WHERE customer_id IS NOT NULL AND lower(customer_group) <> 'general'
            QUALIFY row_number() OVER (PARTITION BY customer_id) = 1""")
        con.execute(f"""
            CREATE TABLE cons AS SELECT DISTINCT product_id
            FROM read_csv('{out / PRODUCTS_FILE}', header = true, auto_detect = false, quote = '"', escape = '"',
                          columns = {{{", ".join(f"'{c}': 'VARCHAR'" for c in PRODUCT_COLUMNS)}}})
            WHERE category = 'consumable' AND try_cast(unit_size AS INTEGER) > 0""")
        con.execute("""
            CREATE TABLE core AS SELECT tx.* FROM tx JOIN cons USING (product_id)
            WHERE tx.d IS NOT NULL AND tx.q > 0 AND tx.customer_id IN (SELECT customer_id FROM cust)""")
        max_inv, inv_w = con.execute("""
            SELECT max(try_cast(substr(invoice_id, 4) AS BIGINT)), max(length(invoice_id)) - 3
            FROM tx WHERE invoice_id LIKE 'INV%'""").fetchone()
        rng = random_stream(seed, 900)
        results, extra_rows = [], []
        next_inv = int(max_inv or 0) + 1
        for name, channel, when, share, extra_p in campaigns:
            if when is None:
                send = cal.end - dt.timedelta(days=10)
            else:
                index = cal.n_months - 1 - when[0]
                if index < 1:
                    continue
                first = dt.date.fromordinal(EPOCH.toordinal() + int(cal.month_start[index]))
                send = first.replace(day=when[1])
            report_month = (send.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            month_end = send.replace(day=1) - dt.timedelta(days=1)
            consent = campaign_record.CONSENT_COLUMNS[channel]
            rows = con.execute(
                f"""
                SELECT customer_id, {consent} FROM cust
                WHERE customer_id IN (SELECT customer_id FROM core
                                      WHERE d <= ? AND d > ? - INTERVAL 12 MONTH)
                ORDER BY customer_id""",
                [month_end, month_end],
            ).fetchall()
            campaign = campaign_record.draw_campaign(
                [{"customer_id": c, consent: v} for c, v in rows],
                campaign_name=name,
                channel=channel,
                send_date=send,
                report_month=report_month,
                holdout_share=share,
            )
            campaign_record.write_campaign(campaign, out / "campaigns")
            window_end = send + dt.timedelta(days=CAMPAIGN_WINDOW_DAYS)
            responders = {
                c
                for (c,) in con.execute(
                    "SELECT DISTINCT customer_id FROM core WHERE d > ? AND d <= ? AND d <= ?",
                    [send, window_end, cal.end],
                ).fetchall()
            }
            latest = dict(
                (c, (p, q, r, st))
                for c, p, q, r, st in con.execute(
                    """
                SELECT customer_id, arg_max(product_id, d), arg_max(q, d), arg_max(revenue, d), arg_max(store_id, d)
                FROM core WHERE d <= ? GROUP BY customer_id""",
                    [send],
                ).fetchall()
            )
            contacted = campaign.contacted
            draws = rng.random(len(contacted))
            days = rng.integers(1, CAMPAIGN_WINDOW_DAYS + 1, len(contacted))
            caused = 0
            for customer, u, k in zip(contacted, draws, days):
                day = send + dt.timedelta(days=int(k))
                if u >= extra_p or day > cal.end or customer not in latest:
                    continue
                product, qty, revenue, store = latest[customer]
                extra_rows.append(
                    [f"INV{next_inv:0{inv_w}d}", customer, day.isoformat(), product, str(qty), revenue, store or ""]
                )
                next_inv += 1
                caused += customer not in responders
            n_c, n_h = len(contacted), len(campaign.holdout)
            organic_c = sum(c in responders for c in contacted)
            organic_h = sum(c in responders for c in campaign.holdout)
            results.append(
                {
                    "campaign_id": campaign.campaign_id,
                    "campaign_name": name,
                    "channel": channel,
                    "send_date": send.isoformat(),
                    "holdout_share": share,
                    "extra_purchase_probability": extra_p,
                    "members": len(campaign.members),
                    "contacted": n_c,
                    "holdout": n_h,
                    "organic_contacted_response_rate": organic_c / n_c if n_c else None,
                    "organic_holdout_response_rate": organic_h / n_h if n_h else None,
                    "simulated_uplift_pp": 100.0 * caused / n_c if n_c else None,
                    "window_complete": window_end <= cal.end,
                }
            )
        import csv

        by_year: dict[int, list] = {}
        for row in sorted(extra_rows, key=lambda r: (r[2], r[0])):
            by_year.setdefault(int(row[2][:4]), []).append(row)
        for year, rows in by_year.items():
            with open(out / f"sales_transactions_{year}.csv", "a", newline="", encoding="utf-8") as f:
                csv.writer(f, lineterminator="\n").writerows(rows)
        return results, {year: len(rows) for year, rows in by_year.items()}
    finally:
        con.close()
