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
    BAD_IMPOSSIBLE_DATES,
    BAD_INVALID_DATES,
    BAD_QUANTITIES,
    BAD_REVENUES,
    CUSTOMER_BAD_CLASSES,
    PRODUCT_BAD_CLASSES,
    TX_BAD_CLASSES,
    TX_REF_UNKNOWN_CATEGORY,
    TXB_DUP,
    TXB_MISSING_INV,
    TXB_ORPHAN_CUST,
    TXB_ORPHAN_PROD,
)
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
from crm_warehouse.synth.personas import P_ANON
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
) -> dict:
    """Generate the raw landing files into ``out_dir`` and return a summary dict.

    ``block_customers`` (default: about 1M lines per block) only tunes memory; the output depends
    on it (each block has its own random stream), so keep it fixed for reproducible files.

    ``campaigns`` (default off; on for the demo data): record the demo campaigns (DEMO_CAMPAIGNS) in ``out/campaigns`` and
    append their simulated response lines to the year files (simulate_campaigns)."""
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
    prod = build_products(seed, {c: n_bad(120, len(PRODUCT_BAD_CLASSES)) for c in PRODUCT_BAD_CLASSES})
    customer_params = draw_customer_parameters(customers, cal, seed, n_stores)
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

    # customers chosen for the bad customer-master classes (identified customers only)
    rng_bad = random_stream(seed, 3)
    ident = np.flatnonzero(customer_params["persona"] != P_ANON)
    need = cust_bad["duplicate_customer_id"] + cust_bad["invalid_consent_flag"] + cust_bad["invalid_created_date"]
    chosen = rng_bad.choice(ident, size=min(need, len(ident)), replace=False) if need else np.zeros(0, np.int64)
    cust_cls = np.zeros(customers, dtype=np.int8)
    cust_var = np.zeros(customers, dtype=np.int64)
    k1 = cust_bad["duplicate_customer_id"]
    k2 = k1 + cust_bad["invalid_consent_flag"]
    dup_cust = np.sort(chosen[:k1])
    cust_cls[chosen[k1:k2]] = 3
    cust_var[chosen[k1:k2]] = np.arange(k2 - k1)
    cust_cls[chosen[k2:]] = 4
    cust_var[chosen[k2:]] = np.arange(len(chosen) - k2)

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
    dup_prod_nos = np.array([int(x[1:]) for x in prod["dup_ids"]], dtype=np.int64)
    good_lines = 0
    invoices = 0
    n_cust_rows = 0
    returns = 0
    inv_next = 1
    try:
        for ci in range(n_chunks):
            lo, hi = ci * block, min(customers, (ci + 1) * block)
            rng = random_stream(seed, 100, ci)
            b = TransactionBlock(customer_params, lo, hi, cal, prod, rng, cas_mult, anon_mult, n_stores)
            n = len(b.qty)
            inv = inv_next + b.inv_rank
            inv_next += b.n_invoices
            invoices += b.n_invoices
            good_lines += n
            returns += int((b.qty < 0).sum())
            ref_counts["lines_ref_duplicated_product_id"] += int(np.isin(b.prod, dup_prod_nos).sum())
            sk = np.arange(n, dtype=np.float64)
            cls = np.zeros(n, dtype=np.int8)
            vr = np.zeros(n, dtype=np.int64)
            # ---- bad transaction rows of this block
            want = {c: block_share(tx_bad_total[c], n_chunks, ci) for c in TX_BAD_CLASSES}
            refs = prod["bad_refs"] if ci == 0 else []
            n_extra = sum(want.values()) + 2 * len(refs)
            if n_extra and n:
                src = rng.choice(n, size=n_extra, replace=n_extra > n)
                e_cls = np.concatenate(
                    [np.full(want[c], i + 1, dtype=np.int8) for i, c in enumerate(TX_BAD_CLASSES)]
                    + [np.full(2, r[1], dtype=np.int8) for r in refs]
                ).astype(np.int8)
                e_vr = np.concatenate(
                    [np.arange(want[c]) for c in TX_BAD_CLASSES] + [np.arange(2) for _ in refs]
                ).astype(np.int64)
                e_inv = inv_next + np.arange(n_extra)
                e_cust = b.cust[src].copy()
                e_prod = b.prod[src].copy()
                e_qty = b.qty[src].copy()
                e_rev = b.rev[src].copy()
                e_sk = src + rng.uniform(0.1, 0.9, n_extra)
                is_dup = e_cls == TXB_DUP
                e_inv[is_dup] = inv[src[is_dup]]
                far = is_dup & (rng.random(n_extra) < 0.5)
                e_sk[far] = np.minimum(src[far] + rng.integers(2, 200, int(far.sum())), n - 1) + 0.5
                m = e_cls == TXB_ORPHAN_CUST
                e_cust[m] = orphan_base + rng.integers(0, 1000, int(m.sum()))
                m = e_cls == TXB_ORPHAN_PROD
                e_prod[m] = 9000 + rng.integers(0, 1000, int(m.sum()))
                pos = 2 * len(refs)
                if refs:
                    tail = np.arange(n_extra - pos, n_extra)
                    e_prod[tail] = np.repeat([r[0] for r in refs], 2)
                    e_qty[tail] = 1 + (np.arange(pos) % 2)
                    e_rev[tail] = e_qty[tail] * np.repeat([r[2] for r in refs], 2)
                    for r in refs:
                        key = (
                            "lines_ref_unknown_category_product"
                            if r[1] == TX_REF_UNKNOWN_CATEGORY
                            else "lines_ref_bad_unit_size_product"
                        )
                        ref_counts[key] += 2
                n_new_inv = int((~is_dup & (e_cls != TXB_MISSING_INV)).sum())
                inv_next += n_extra
                invoices += n_new_inv
                for c in TX_BAD_CLASSES:
                    bad_tx[c] += want[c]
                for c, opts in (
                    ("invalid_invoice_date", BAD_INVALID_DATES),
                    ("impossible_invoice_date", BAD_IMPOSSIBLE_DATES),
                    ("non_numeric_quantity", BAD_QUANTITIES),
                    ("non_numeric_revenue", BAD_REVENUES),
                    ("unparsable_customer_id", ["C <number>#", "C#<padded number>", "C<3 digits> <rest>"]),
                ):
                    for j in range(want[c]):
                        v = opts[j % len(opts)]
                        bad_tx_variants[c][v] = bad_tx_variants[c].get(v, 0) + 1
                all_inv = np.concatenate([inv, e_inv])
                all_cust = np.concatenate([b.cust, e_cust])
                all_day = np.concatenate([b.day, b.day[src]])
                all_prod = np.concatenate([b.prod, e_prod])
                all_qty = np.concatenate([b.qty, e_qty])
                all_rev = np.concatenate([b.rev, e_rev])
                all_store = np.concatenate([b.store, b.store[src]])
                all_sk = np.concatenate([sk, e_sk])
                all_cls = np.concatenate([cls, e_cls])
                all_vr = np.concatenate([vr, e_vr])
            else:
                all_inv, all_cust, all_day, all_prod = inv, b.cust, b.day, b.prod
                all_qty, all_rev, all_store, all_sk, all_cls, all_vr = b.qty, b.rev, b.store, sk, cls, vr
            year_of = np.searchsorted(cal.year_start_day, all_day, side="right") - 1
            sql = transaction_csv_sql(inv_w, cust_w)
            for yi, y in enumerate(cal.years):
                m = year_of == yi
                if not m.any():
                    continue
                part = tmp / f"tx_{y}_{ci:05d}.csv"
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
                tmp / f"cust_{ci:05d}.csv",
                customer_params,
                lo,
                hi,
                b,
                cal,
                rng,
                cust_cls,
                cust_var,
                dup_cust,
                block_share(cust_bad["missing_customer_id"], n_chunks, ci),
                cust_w,
            )
            cust_parts.append(tmp / f"cust_{ci:05d}.csv")
            log(
                f"block {ci + 1}/{n_chunks}: customers {lo + 1}-{hi}, {n} lines, "
                f"{b.n_invoices} invoices ({time.time() - t0:.1f}s)"
            )
            del b
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
            for r in prod["file_rows"]:
                w.writerow(["" if v is None else v for v in r])
        files[PRODUCTS_FILE] = len(prod["file_rows"])
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
            "products": prod["bad_counts"],
        },
        "bad_variants": {"transactions": bad_tx_variants},
        "references_to_bad_master_rows": ref_counts,
        "duplicated_product_ids": prod["dup_ids"],
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
