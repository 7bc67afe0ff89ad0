"""The customers_master.csv rows of one block of customers, with their bad rows."""

from __future__ import annotations

import numpy as np

from crm_warehouse.synth.csv_writing import copy_to_csv, customer_csv_sql
from crm_warehouse.synth.name_lists import CITIES, DOMAINS, FIRST_NAMES, LAST_NAMES
from crm_warehouse.synth.personas import P_ANON
from crm_warehouse.synth.report_calendar import ReportCalendar
from crm_warehouse.synth.transactions import TransactionBlock


def write_customer_part(
    con,
    path,
    customer_params,
    lo,
    hi,
    b: TransactionBlock,
    cal: ReportCalendar,
    rng,
    cust_cls,
    cust_var,
    dup_cust,
    n_missing,
    cust_w,
) -> int:
    nb = hi - lo
    sl = slice(lo, hi)
    cid = np.arange(lo + 1, hi + 1, dtype=np.int64)
    customer_personas = customer_params["persona"][sl]
    anon = customer_personas == P_ANON
    first = b.first_purchase
    r = rng.random(nb)
    created = np.where(
        r < 0.65,
        first - rng.integers(1, 1500, nb),
        np.where(r < 0.80, first, np.minimum(cal.end_day, first + rng.integers(1, 400, nb))),
    )
    never = first < 0
    created[never] = (
        cal.start_day
        - 3 * 365
        + (rng.random(int(never.sum())) * (cal.end_day - cal.start_day + 3 * 365)).astype(np.int64)
    )
    created = np.minimum(created, cal.end_day)
    em = (rng.random(nb) < 0.85) & ~anon
    dom = rng.integers(0, len(DOMAINS), nb)
    mob = np.where((rng.random(nb) < 0.8) & ~anon, rng.integers(0, 10**8, nb), -1)

    def flag(p1):
        x = rng.random(nb)
        v = np.where(x < 0.1, -1, (rng.random(nb) < p1).astype(np.int64))
        v[anon] = np.where(x[anon] < 0.5, -1, 0)
        return v

    cols = {
        "cid": cid,
        "sk": np.arange(nb, dtype=np.float64),
        "cls": cust_cls[sl].copy(),
        "vr": cust_var[sl].copy(),
        "fn": customer_params["fname"][sl],
        "ln": customer_params["lname"][sl],
        "grp": customer_params["group"][sl],
        "city": customer_params["city"][sl],
        "created": created,
        "em": em.astype(np.int8),
        "dom": dom,
        "mob": mob,
        "oe": flag(0.6),
        "os": flag(0.5),
        "op": flag(0.3),
        "store": customer_params["home"][sl],
    }
    extra = []
    # duplicate ids: a second row later in the file, same id, another name, otherwise clean
    d = dup_cust[(dup_cust >= lo) & (dup_cust < hi)] - lo
    if len(d):
        e = {k: v[d].copy() for k, v in cols.items()}
        e["fn"] = (e["fn"] + 1 + rng.integers(0, len(FIRST_NAMES) - 1, len(d))) % len(FIRST_NAMES)
        e["ln"] = (e["ln"] + 1 + rng.integers(0, len(LAST_NAMES) - 1, len(d))) % len(LAST_NAMES)
        e["cls"] = np.zeros(len(d), dtype=np.int8)
        e["sk"] = d + 0.5 + rng.random(len(d)) * (nb - d - 0.5)
        extra.append(e)
    if n_missing:
        k = n_missing
        e = {
            "cid": np.zeros(k, dtype=np.int64),
            "sk": rng.uniform(0, nb, k),
            "cls": np.ones(k, dtype=np.int8),
            "vr": np.zeros(k, dtype=np.int64),
            "fn": rng.integers(0, len(FIRST_NAMES), k),
            "ln": rng.integers(0, len(LAST_NAMES), k),
            "grp": rng.integers(0, 4, k),
            "city": rng.integers(0, len(CITIES), k),
            "created": cal.start_day + rng.integers(0, cal.end_day - cal.start_day + 1, k),
            "em": np.zeros(k, dtype=np.int8),
            "dom": np.zeros(k, dtype=np.int64),
            "mob": rng.integers(0, 10**8, k),
            "oe": np.ones(k, dtype=np.int64),
            "os": np.zeros(k, dtype=np.int64),
            "op": np.full(k, -1, dtype=np.int64),
            "store": np.ones(k, dtype=np.int64),
        }
        extra.append(e)
    if extra:
        cols = {k: np.concatenate([cols[k]] + [e[k] for e in extra]) for k in cols}
    copy_to_csv(con, cols, customer_csv_sql(cust_w, cal.start.year, cal.start.year - 1), path)
    return len(cols["cid"])
