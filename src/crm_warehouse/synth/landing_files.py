"""generate(): the raw landing folder of the personas' customers, with bad input unless clean."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from crm_warehouse.synth.bad_input import (
    CUSTOMER_BAD_CLASSES,
    PRODUCT_BAD_CLASSES,
    TX_BAD_CLASSES,
)
from crm_warehouse.synth.bad_rows import choose_bad_customers, count_bad_transaction_rows, spoiled_transaction_rows
from crm_warehouse.synth.basics import log_progress, random_stream
from crm_warehouse.synth.campaigns import simulate_campaigns
from crm_warehouse.synth.csv_writing import block_share, concatenate_parts, copy_to_csv, transaction_csv_sql
from crm_warehouse.synth.customer_parameters import calibrate_purchase_rates, draw_customer_parameters
from crm_warehouse.synth.customer_rows import write_customer_part
from crm_warehouse.synth.file_layouts import (
    CUSTOMER_COLUMNS,
    CUSTOMERS_FILE,
    PRODUCT_COLUMNS,
    PRODUCTS_FILE,
    TX_COLUMNS,
)
from crm_warehouse.synth.products import build_products
from crm_warehouse.synth.report_calendar import ReportCalendar
from crm_warehouse.synth.transactions import TransactionBlock


def generate(
    out_dir,
    customers: int = 3000,
    start_year: int = 2023,
    years: int = 3,
    lines: int | None = None,
    seed: int = 42,
    bad_share: float = 0.01,
    clean: bool = False,
    end_date=None,
    verbose: bool = True,
    block_customers: int | None = None,
    campaigns: bool = False,
    one_time_share: float = 0.0,
) -> dict:
    """Generate the raw landing files into ``out_dir`` and return a summary dict.

    ``block_customers`` (default: about 1M lines per block) only tunes memory; the output depends
    on it (each block has its own random stream), so keep it fixed for reproducible files.

    ``campaigns`` (default off; on for the demo data): record the demo campaigns (DEMO_CAMPAIGNS) in ``out/campaigns`` and
    append their simulated response lines to the year files (simulate_campaigns).

    ``one_time_share`` (default 0: none, output unchanged): that share of the identified customers
    are one-time buyers (one invoice, a second one within a year for about a third of them), as in
    retail data; the persona shares apply to the others and --lines calibrates the casual buyers."""
    t0 = time.time()
    log = log_progress if verbose else (lambda msg: None)
    customers = int(customers)
    if customers < 20:
        raise ValueError("--customers must be at least 20")
    lines = int(lines) if lines else customers * 20
    if end_date is None:
        end = dt.date(start_year + years - 1, 12, 31)
    else:
        end = end_date if isinstance(end_date, dt.date) else dt.date.fromisoformat(str(end_date))
        if end < dt.date(start_year, 1, 1):
            raise ValueError("--end-date is before the start year")
    cal = ReportCalendar(start_year, end)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    share = 0.0 if clean else float(bad_share)

    def n_bad(base: int, n_classes: int) -> int:
        return 0 if share <= 0 else max(2, int(round(share * base / n_classes)))

    tx_bad_total = {c: n_bad(lines, len(TX_BAD_CLASSES)) for c in TX_BAD_CLASSES}
    cust_bad = {c: n_bad(customers, len(CUSTOMER_BAD_CLASSES)) for c in CUSTOMER_BAD_CLASSES}
    n_stores = int(np.clip(round(customers / 100), 5, 999))
    catalogue = build_products(seed, {c: n_bad(120, len(PRODUCT_BAD_CLASSES)) for c in PRODUCT_BAD_CLASSES})
    if not 0.0 <= float(one_time_share) < 1.0:
        raise ValueError("--one-time-share must be in [0, 1)")
    customer_params = draw_customer_parameters(customers, cal, seed, n_stores, float(one_time_share))
    cas_mult, anon_mult, fixed = calibrate_purchase_rates(customer_params, cal.n_months, lines)
    inv_w = max(7, len(str(2 * lines + 100_000)))
    cust_w = max(7, len(str(customers + 1000)))
    orphan_base = 10**cust_w - 1000
    if orphan_base <= customers:
        cust_w += 1
        orphan_base = 10**cust_w - 1000
    lpc = max(1.0, lines / customers)
    block = int(min(customers, block_customers or max(2000, 1_000_000 / lpc)))
    n_chunks = -(-customers // block)
    log(
        f"{customers} customers, target {lines} lines, {cal.n_months} months "
        f"{cal.start.isoformat()}..{cal.end.isoformat()}, {n_chunks} block(s), seed {seed}"
        + (", clean" if clean else f", bad share {share}")
    )

    cust_cls, cust_var, dup_cust = choose_bad_customers(seed, customer_params["persona"], cust_bad)

    tmp = Path(tempfile.mkdtemp(prefix=".gen_parts_", dir=out))
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    tx_parts = {y: [] for y in cal.years}
    cust_parts = []
    rows_per_year = {y: 0 for y in cal.years}
    bad_tx = {c: 0 for c in TX_BAD_CLASSES}
    bad_tx_variants = {
        "invalid_invoice_date": {},
        "impossible_invoice_date": {},
        "non_numeric_quantity": {},
        "non_numeric_revenue": {},
        "unparsable_customer_id": {},
    }
    ref_counts = {
        "lines_ref_unknown_category_product": 0,
        "lines_ref_bad_unit_size_product": 0,
        "lines_ref_duplicated_product_id": 0,
    }
    dup_prod_nos = np.array([int(x[1:]) for x in catalogue["dup_ids"]], dtype=np.int64)
    good_lines = 0
    invoices = 0
    n_cust_rows = 0
    returns = 0
    inv_next = 1
    try:
        for block_index in range(n_chunks):
            lo, hi = block_index * block, min(customers, (block_index + 1) * block)
            rng = random_stream(seed, 100, block_index)
            customer_block = TransactionBlock(
                customer_params, lo, hi, cal, catalogue, rng, cas_mult, anon_mult, n_stores
            )
            n = len(customer_block.qty)
            inv = inv_next + customer_block.inv_rank
            inv_next += customer_block.n_invoices
            invoices += customer_block.n_invoices
            good_lines += n
            returns += int((customer_block.qty < 0).sum())
            ref_counts["lines_ref_duplicated_product_id"] += int(np.isin(customer_block.prod, dup_prod_nos).sum())
            sk = np.arange(n, dtype=np.float64)
            cls = np.zeros(n, dtype=np.int8)
            vr = np.zeros(n, dtype=np.int64)
            # ---- bad transaction rows of this block
            want = {c: block_share(tx_bad_total[c], n_chunks, block_index) for c in TX_BAD_CLASSES}
            refs = catalogue["bad_refs"] if block_index == 0 else []
            n_extra = sum(want.values()) + 2 * len(refs)
            if n_extra and n:
                extra, n_new_inv = spoiled_transaction_rows(
                    rng, customer_block, inv, inv_next, want, refs, orphan_base, ref_counts
                )
                inv_next += n_extra
                invoices += n_new_inv
                count_bad_transaction_rows(want, bad_tx, bad_tx_variants)
                lines_of_block = {
                    "inv": inv,
                    "cust": customer_block.cust,
                    "day": customer_block.day,
                    "prod": customer_block.prod,
                    "qty": customer_block.qty,
                    "rev": customer_block.rev,
                    "store": customer_block.store,
                    "sk": sk,
                    "cls": cls,
                    "vr": vr,
                }
                all_inv, all_cust, all_day, all_prod, all_qty, all_rev, all_store, all_sk, all_cls, all_vr = (
                    np.concatenate([lines_of_block[name], extra[name]])
                    for name in ("inv", "cust", "day", "prod", "qty", "rev", "store", "sk", "cls", "vr")
                )
            else:
                all_inv, all_cust, all_day, all_prod = inv, customer_block.cust, customer_block.day, customer_block.prod
                all_qty, all_rev, all_store, all_sk, all_cls, all_vr = (
                    customer_block.qty,
                    customer_block.rev,
                    customer_block.store,
                    sk,
                    cls,
                    vr,
                )
            year_of = np.searchsorted(cal.year_start_day, all_day, side="right") - 1
            sql = transaction_csv_sql(inv_w, cust_w)
            for yi, y in enumerate(cal.years):
                m = year_of == yi
                if not m.any():
                    continue
                part = tmp / f"tx_{y}_{block_index:05d}.csv"
                copy_to_csv(
                    con,
                    {
                        "inv": all_inv[m],
                        "cust": all_cust[m],
                        "day": all_day[m],
                        "prod": all_prod[m],
                        "qty": all_qty[m],
                        "rev": all_rev[m],
                        "store": all_store[m],
                        "sk": all_sk[m],
                        "cls": all_cls[m],
                        "vr": all_vr[m],
                    },
                    sql,
                    part,
                )
                tx_parts[y].append(part)
                rows_per_year[y] += int(m.sum())
            # ---- customers master rows of this block
            n_cust_rows += write_customer_part(
                con,
                tmp / f"cust_{block_index:05d}.csv",
                customer_params,
                lo,
                hi,
                customer_block,
                cal,
                rng,
                cust_cls,
                cust_var,
                dup_cust,
                block_share(cust_bad["missing_customer_id"], n_chunks, block_index),
                cust_w,
            )
            cust_parts.append(tmp / f"cust_{block_index:05d}.csv")
            log(
                f"block {block_index + 1}/{n_chunks}: customers {lo + 1}-{hi}, {n} lines, "
                f"{customer_block.n_invoices} invoices ({time.time() - t0:.1f}s)"
            )
            del customer_block
        # ---- final files
        for old in out.glob("sales_transactions_*.csv"):
            old.unlink()
        files = {}
        for y in cal.years:
            f = out / f"sales_transactions_{y}.csv"
            concatenate_parts(f, TX_COLUMNS, tx_parts[y])
            files[f.name] = rows_per_year[y]
        concatenate_parts(out / CUSTOMERS_FILE, CUSTOMER_COLUMNS, cust_parts)
        files[CUSTOMERS_FILE] = n_cust_rows
        import csv

        with open(out / PRODUCTS_FILE, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(PRODUCT_COLUMNS)
            for r in catalogue["file_rows"]:
                w.writerow(["" if v is None else v for v in r])
        files[PRODUCTS_FILE] = len(catalogue["file_rows"])
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)

    campaign_results, campaign_lines = simulate_campaigns(out, cal, seed) if campaigns else ([], {})
    for year, n in campaign_lines.items():
        files[f"sales_transactions_{year}.csv"] += n
        rows_per_year[year] += n
        good_lines += n
        invoices += n  # one invoice per response line
    if campaign_results:
        log(
            f"{len(campaign_results)} campaigns recorded in {out / 'campaigns'}, "
            f"{sum(campaign_lines.values())} simulated response lines appended"
        )

    cust_bad_counts = dict(cust_bad)
    cust_bad_counts["duplicate_customer_id"] = len(dup_cust)
    summary = {
        "out_dir": str(out),
        "args": {
            "customers": customers,
            "start_year": start_year,
            "years": len(cal.years),
            "lines": lines,
            "seed": seed,
            "bad_share": share,
            "clean": bool(clean),
            "end_date": cal.end.isoformat(),
            **({"one_time_share": float(one_time_share)} if one_time_share else {}),
        },
        "files": files,
        "transaction_lines": int(sum(rows_per_year.values())),
        "good_transaction_lines": good_lines,
        "return_lines": returns,
        "invoices": invoices,
        "period": [cal.start.isoformat(), cal.end.isoformat()],
        "personas": customer_params["persona_counts"],
        "stores": n_stores,
        "bad": {
            "transactions": bad_tx,
            "customers": cust_bad_counts,
            "products": catalogue["bad_counts"],
        },
        "bad_variants": {"transactions": bad_tx_variants},
        "references_to_bad_master_rows": ref_counts,
        "duplicated_product_ids": catalogue["dup_ids"],
        "duplicated_customer_ids": [f"C{int(i) + 1:0{cust_w}d}" for i in dup_cust],
        "campaigns": campaign_results,
        "campaign_response_lines": int(sum(campaign_lines.values())),
        "seconds": round(time.time() - t0, 2),
    }
    log(
        f"done in {summary['seconds']}s: {summary['transaction_lines']} transaction lines "
        f"({summary['invoices']} invoices), {files[CUSTOMERS_FILE]} customer rows, "
        f"{files[PRODUCTS_FILE]} product rows"
    )
    if not clean:
        log("bad rows: " + json.dumps(summary["bad"]))
    return summary
