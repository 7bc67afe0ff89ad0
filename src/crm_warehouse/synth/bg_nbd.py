"""--bgnbd-params: customers simulated from the BG/NBD generative process (SPEC section 9)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import numpy as np

from crm_warehouse.synth.basics import day_number, log_progress, random_stream
from crm_warehouse.synth.file_layouts import CUSTOMERS_FILE, PRODUCT_COLUMNS, PRODUCTS_FILE

BGNBD_PRODUCT = "P0001"


def generate_bg_nbd(
    out_dir,
    customers: int,
    bgnbd_params,
    gamma_gamma_params=None,
    model: str = "bg_nbd",
    start_year: int = 2023,
    years: int = 2,
    end_date=None,
    cohort_weeks: float = 52.0,
    seed: int = 42,
    verbose: bool = True,
) -> dict:
    """Raw landing files of customers that follow the BG/NBD (or MBG/NBD) process with known
    parameters, for the recovery test of the customer value models.

    ``bgnbd_params`` = (r, alpha, a, b), alpha in weeks (the warehouse's unit). Each customer's
    first purchase falls on a day drawn uniformly from the first ``cohort_weeks`` weeks from
    Jan 1 of ``start_year`` (so T varies); the repeat purchases follow the process
    (crm_warehouse.customer_value.simulate_bg_nbd_purchases) up to the end date. Spend per occasion follows
    the Gamma-Gamma model when ``gamma_gamma_params`` = (p, q, gamma) is given (each customer's
    nu ~ Gamma(q, rate gamma), each occasion's spend ~ Gamma(p, rate nu), in cents, at least 0.01),
    else 10.00 per occasion.

    How the process maps onto the warehouse's definitions (int_customer_value__inputs): time 0 is
    the end of the first purchase day d0 and a purchase at t weeks falls on day d0 + ceil(7 t),
    so the observation window of T = (end date - d0) days is exactly the warehouse's T (to the end
    of the report month = the end date; so let the end date be a month's last day, as the default
    Dec 31 is), and t_x is the process's recency rounded up to a whole
    day (what a daily record can tell). A purchase occasion is a distinct day: each simulated
    purchase is one invoice with one line of the one core product (quantity 1); the rare second
    purchase on the same day is moved to the next free day (``purchases_moved`` in the summary),
    and dropped when that is after the end date (``purchases_dropped``), so every occasion the
    warehouse counts is one purchase of the process. No bad rows, no returns, no walk-ins: every
    customer is in scope. Deterministic for a seed."""
    from crm_warehouse import customer_value as cv

    t0 = time.time()
    log = log_progress if verbose else (lambda msg: None)
    customers = int(customers)
    r, alpha, a, b = (float(v) for v in bgnbd_params)
    if min(r, alpha, a, b) <= 0:
        raise ValueError(f"--bgnbd-params r,alpha,a,b must all be positive, got {bgnbd_params}")
    if gamma_gamma_params is not None:
        p, q, gamma = (float(v) for v in gamma_gamma_params)
        if min(p, q, gamma) <= 0:
            raise ValueError(f"--gamma-gamma-params p,q,gamma must all be positive, got {gamma_gamma_params}")
    if customers < 1:
        raise ValueError("--customers must be at least 1")
    end = (
        dt.date(start_year + years - 1, 12, 31)
        if end_date is None
        else end_date
        if isinstance(end_date, dt.date)
        else dt.date.fromisoformat(str(end_date))
    )
    start_day, end_day = day_number(dt.date(start_year, 1, 1)), day_number(end)
    cohort_days = int(round(float(cohort_weeks) * 7))
    if cohort_days < 1 or start_day + cohort_days - 1 > end_day:
        raise ValueError(
            f"--cohort-weeks {cohort_weeks}: the cohort window must lie between Jan 1 {start_year} "
            f"and the end date {end}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random_stream(seed, 500)
    first_day = start_day + rng.integers(0, cohort_days, customers)
    age_days = end_day - first_day
    who, weeks = cv.simulate_bg_nbd_purchases(
        customers, r, alpha, a, b, age_days / 7.0, seed=int(rng.integers(0, 2**31)), model=model
    )
    offset = np.maximum(np.ceil(np.round(weeks * 7.0, 9)).astype(np.int64), 1)
    # at most one occasion per day: a purchase on the day of the previous one moves to the next free
    # day (running maximum of offset - position within the customer, per customer)
    starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]]) if len(who) else np.zeros(0, dtype=np.int64)
    position = np.arange(len(who)) - np.repeat(starts, np.diff(np.r_[starts, len(who)]))
    slack = offset - position
    span = int(slack.max() - slack.min() + 1) if len(slack) else 1
    base = who.astype(np.int64) * span
    moved_offset = np.maximum.accumulate(base + slack) - base + position
    moved = int(np.sum(moved_offset != offset))
    keep = moved_offset <= age_days[who]
    dropped = int(np.sum(~keep))
    who, offset = who[keep], moved_offset[keep]
    # every occasion: the first purchases, then the repeat purchases
    cust = np.concatenate([np.arange(customers), who])
    day = np.concatenate([first_day, first_day[who] + offset])
    order = np.lexsort((cust, day))
    cust, day = cust[order], day[order]
    if gamma_gamma_params is not None:
        nu = rng.gamma(q, 1.0 / gamma, customers)
        spend = rng.gamma(p, 1.0, len(cust)) / nu[cust]
        cents = np.maximum(np.round(spend * 100), 1).astype(np.int64)
    else:
        cents = np.full(len(cust), 1000, dtype=np.int64)
    cust_w = max(7, len(str(customers)))
    inv_w = max(8, len(str(len(cust))))
    con = duckdb.connect()
    files = {}
    try:
        con.register(
            "t", {"cust": cust + 1, "day": day, "cents": cents, "inv": np.arange(1, len(cust) + 1, dtype=np.int64)}
        )
        for year in range(start_year, end.year + 1):
            path = out / f"sales_transactions_{year}.csv"
            low, high = day_number(dt.date(year, 1, 1)), day_number(dt.date(year, 12, 31))
            con.execute(f"""
                COPY (SELECT printf('INV%0{inv_w}d', inv) AS invoice_id, printf('C%0{cust_w}d', cust) AS customer_id,
                             strftime(DATE '1970-01-01' + day::INTEGER, '%Y-%m-%d') AS invoice_date,
                             '{BGNBD_PRODUCT}' AS product_id, 1 AS quantity, printf('%.2f', cents / 100.0) AS revenue,
                             'S001' AS store_id
                      FROM t WHERE day BETWEEN {low} AND {high} ORDER BY inv)
                TO '{path.as_posix()}' (FORMAT csv, HEADER true)""")
            files[path.name] = int(np.sum((day >= low) & (day <= high)))
        con.unregister("t")
        con.register("c", {"cid": np.arange(1, customers + 1, dtype=np.int64), "first": first_day})
        con.execute(f"""
            COPY (SELECT printf('C%0{cust_w}d', cid) AS customer_id, 'Customer ' || cid AS customer_name,
                         'Retail' AS customer_group, 'Nairobi' AS city,
                         strftime(DATE '1970-01-01' + first::INTEGER, '%Y-%m-%d') AS created_date,
                         'customer' || cid || '@example.com' AS email, '0700000000' AS mobile_number,
                         1 AS opt_email, 1 AS opt_sms, 0 AS opt_phone
                  FROM c ORDER BY cid)
            TO '{(out / CUSTOMERS_FILE).as_posix()}' (FORMAT csv, HEADER true)""")
        files[CUSTOMERS_FILE] = customers
    finally:
        con.close()
    (out / PRODUCTS_FILE).write_text(
        ",".join(PRODUCT_COLUMNS) + "\n" + f"{BGNBD_PRODUCT},Simulated refill x1,Simulated,consumable,1\n"
    )
    files[PRODUCTS_FILE] = 1
    summary = {
        "out_dir": str(out),
        "process": model,
        "bgnbd_params": dict(r=r, alpha=alpha, a=a, b=b),
        "gamma_gamma_params": None if gamma_gamma_params is None else dict(p=p, q=q, gamma=gamma),
        "customers": customers,
        "period": [dt.date(start_year, 1, 1).isoformat(), end.isoformat()],
        "cohort_weeks": float(cohort_weeks),
        "files": files,
        "transaction_lines": int(len(cust)),
        "repeat_purchases": int(len(who)),
        "purchases_moved": moved,
        "purchases_dropped": dropped,
        "seed": seed,
        "seconds": round(time.time() - t0, 2),
    }
    log(
        f"BG/NBD process ({model}, r={r}, alpha={alpha}, a={a}, b={b}): {customers} customers, "
        f"{len(cust)} lines to {end}, {moved} same-day purchases moved, {dropped} dropped "
        f"({summary['seconds']}s)"
    )
    return summary
