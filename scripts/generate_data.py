#!/usr/bin/env python3
"""Synthetic raw landing data for the CRM warehouse (SPEC section 1).

Writes into ``--out``:

* ``sales_transactions_YYYY.csv`` (one per calendar year):
  ``invoice_id,customer_id,invoice_date,product_id,quantity,revenue,store_id``
* ``customers_master.csv``:
  ``customer_id,customer_name,customer_group,city,created_date,email,mobile_number,opt_email,opt_sms,opt_phone``
* ``products_master.csv``: ``product_id,product_name,brand,category,unit_size``
* ``campaigns/campaign_<id>.csv`` (with ``--campaigns``, as for the demo data): a few recorded campaigns with a
  holdout (SPEC section 11); contacted members get a known extra purchase probability, their
  response lines are appended at the end of the year files (see ``_simulate_campaigns``).

Every customer gets a *persona* drawn with fixed shares (steady Diamond / Platinum / Gold / Silver /
Bronze buyers on exact schedules, lapsing customers, returners after 13+ silent months, late
newcomers, casual buyers, device-only and accessories-only buyers, customers who never buy, and
anonymous walk-in accounts of the group ``General`` written in mixed case), so that every value
tier, the Not Active status and every lifecycle event of SPEC section 5 occur in the latest month
and in most months of the history. ``--lines`` scales the purchase frequency of the casual buyers
and the walk-in accounts (the tier personas keep their schedules, so their tiers stay stable).

Unless ``--clean``, a small share of bad input is injected (each row has exactly one defect and
is counted in the returned summary), see ``TX_BAD_CLASSES``, ``CUSTOMER_BAD_CLASSES`` and
``PRODUCT_BAD_CLASSES``. Bad transaction rows are *extra* rows (copies of good lines with one
field spoiled and an invoice id of their own), so the good data stay complete.

Fast and bounded in memory: everything is vectorised with numpy, customers are processed in
blocks, and DuckDB formats and writes the CSV text (one part per block and year, concatenated at
the end). Deterministic: the same arguments give byte-identical files.

With ``--bgnbd-params r,alpha,a,b`` (and optionally ``--gamma-gamma-params p,q,gamma``) the files hold
customers of the BG/NBD generative process with known parameters instead (``generate_bg_nbd``), for
the recovery test of the customer value models (SPEC section 9).

Usage::

    python scripts/generate_data.py --out data/demo --customers 3000 --start-year 2023 --years 3 --seed 42 --campaigns
    python scripts/generate_data.py --out /tmp/raw_bgnbd --customers 100000 --years 2 \
        --bgnbd-params 0.5,8,0.7,2.5 --gamma-gamma-params 6,4,15
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from crm_warehouse import project_settings

# ---------------------------------------------------------------------------------------------
# file layouts
# ---------------------------------------------------------------------------------------------
TX_COLUMNS = ["invoice_id", "customer_id", "invoice_date", "product_id", "quantity", "revenue", "store_id"]
CUSTOMER_COLUMNS = [
    "customer_id",
    "customer_name",
    "customer_group",
    "city",
    "created_date",
    "email",
    "mobile_number",
    "opt_email",
    "opt_sms",
    "opt_phone",
]
PRODUCT_COLUMNS = ["product_id", "product_name", "brand", "category", "unit_size"]
CUSTOMERS_FILE = "customers_master.csv"
PRODUCTS_FILE = "products_master.csv"

# ---------------------------------------------------------------------------------------------
# bad input classes (the order is the code used internally: code = index + 1)
# ---------------------------------------------------------------------------------------------
TX_BAD_CLASSES = [
    "missing_invoice_id",  # invoice_id empty
    "missing_customer_id",  # customer_id empty
    "unparsable_customer_id",  # 'C 123#', 'C#0000123', 'C000 0123'
    "missing_product_id",  # product_id empty
    "invalid_invoice_date",  # 'YYYY-13-45', 'not a date', 'DD/MM/YYYY', empty
    "impossible_invoice_date",  # 'YYYY-02-30', 'YYYY-04-31', ...
    "non_numeric_quantity",  # 'two', '1,5', '3 pcs'
    "non_numeric_revenue",  # 'N/A', '12.3.4', '1.234,50'
    "orphan_customer_id",  # well-formed id not in customers_master (C9999xxx)
    "orphan_product_id",  # well-formed id not in products_master (P9xxx)
    "exact_duplicate",  # identical copy of a good line (adjacent or not)
]
(
    TXB_MISSING_INV,
    TXB_MISSING_CUST,
    TXB_BAD_CUST,
    TXB_MISSING_PROD,
    TXB_BAD_DATE,
    TXB_IMPOSSIBLE_DATE,
    TXB_BAD_QTY,
    TXB_BAD_REV,
    TXB_ORPHAN_CUST,
    TXB_ORPHAN_PROD,
    TXB_DUP,
) = range(1, 12)
TX_REF_UNKNOWN_CATEGORY = 20  # a valid line whose product has an unknown category in products_master
TX_REF_BAD_UNIT_SIZE = 21  # a valid line whose product is a consumable with a bad unit_size

CUSTOMER_BAD_CLASSES = [
    "missing_customer_id",  # extra row, customer_id empty
    "duplicate_customer_id",  # extra row later in the file, same id as an existing row, other name
    "invalid_consent_flag",  # one opt_* of an existing row is '2', 'yes' or '-1'
    "invalid_created_date",  # created_date of an existing row is 'not a date', 'YYYY-02-30', ...
]
PRODUCT_BAD_CLASSES = [
    "missing_product_id",  # extra row, product_id empty
    "duplicate_product_id",  # extra row later in the file, same id as an existing product, other name
    "unknown_category",  # extra product (own id) with category 'gadgets', 'toys' or 'misc'
    "invalid_core_unit_size",  # extra consumable product (own id) with unit_size empty, '0' or '-50'
]

BAD_INVALID_DATES = ["YYYY-13-45", "not a date", "DD/MM/YYYY", ""]
BAD_IMPOSSIBLE_DATES = ["-02-30", "-04-31", "-06-31", "-09-31", "-11-31"]
BAD_QUANTITIES = ["two", "1,5", "3 pcs"]
BAD_REVENUES = ["N/A", "12.3.4", "1.234,50"]
BAD_CONSENTS = ["2", "yes", "-1"]
BAD_CREATED = ["not a date", "{y}-02-30", "31/12/{y0}", "{y}-13-01"]
BAD_CATEGORIES = ["gadgets", "toys", "misc"]
BAD_UNIT_SIZES = [None, "0", "-50"]

# ---------------------------------------------------------------------------------------------
# personas
# ---------------------------------------------------------------------------------------------
PERSONAS = [
    "none",
    "device_only",
    "other_only",
    "diamond",
    "platinum",
    "gold",
    "silver",
    "bronze",
    "lapser",
    "returner",
    "newcomer",
    "casual",
    "anonymous",
]
(
    P_NONE,
    P_DEVICE,
    P_OTHER,
    P_DIAMOND,
    P_PLATINUM,
    P_GOLD,
    P_SILVER,
    P_BRONZE,
    P_LAPSER,
    P_RETURNER,
    P_NEWCOMER,
    P_CASUAL,
    P_ANON,
) = range(13)
# shares of the identified (non-anonymous) customers; casual buyers take the rest
PERSONA_SHARES = {
    P_NONE: 0.07,
    P_DEVICE: 0.05,
    P_OTHER: 0.04,
    P_DIAMOND: 0.02,
    P_PLATINUM: 0.025,
    P_GOLD: 0.05,
    P_SILVER: 0.07,
    P_BRONZE: 0.09,
    P_LAPSER: 0.14,
    P_RETURNER: 0.09,
    P_NEWCOMER: 0.06,
}
ANON_SHARE = 0.004  # share of customers that are walk-in accounts (at least 3)
ANON_LINE_SHARE = 0.08  # share of the target lines bought by walk-in accounts

# buying behaviour of the schedule personas ("tier codes")
T_DIAMOND, T_PLATINUM, T_GOLD, T_SILVER, T_BRONZE = range(5)
SCHEDULE_PERSONAS = (P_DIAMOND, P_PLATINUM, P_GOLD, P_SILVER, P_BRONZE, P_LAPSER, P_RETURNER, P_NEWCOMER)
# behaviour drawn for lapsers / returners / newcomers
SUB_TIER_P = np.array([0.07, 0.08, 0.30, 0.35, 0.20])

P_EXTRA_OTHER_LINE = 0.12  # a schedule order also has an accessories / spare_parts line
P_RETURN = 0.02  # share of purchase lines returned later (own return invoice)
P_DEVICE_FIRST = 0.45  # core buyers with a device invoice before the first consumable

PACKS = np.array([50, 100, 250, 500, 1000])
CATEGORIES = ["device", "consumable", "accessories", "spare_parts"]
C_DEVICE, C_CONSUMABLE, C_ACCESSORY, C_SPARE = range(4)

FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "Ahmed",
    "Fatima",
    "Omar",
    "Aisha",
    "Yusuf",
    "Layla",
    "Hassan",
    "Mariam",
    "Ali",
    "Noor",
    "Peter",
    "Grace",
    "Samuel",
    "Esther",
    "Brian",
    "Joyce",
    "Kevin",
    "Ann",
    "George",
    "Ruth",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Otieno",
    "Mwangi",
    "Kamau",
    "Odhiambo",
    "Wanjiru",
    "Haddad",
    "Khalil",
    "Mansour",
    "Nasser",
    "Saleh",
]
CITIES = [
    "Nairobi",
    "Mombasa",
    "Kisumu",
    "Nakuru",
    "Eldoret",
    "Thika",
    "Malindi",
    "Kitale",
    "Garissa",
    "Kakamega",
    "Nyeri",
    "Machakos",
    "Meru",
    "Naivasha",
    "Kericho",
    "Embu",
    "Lamu",
    "Voi",
    "Kilifi",
    "Narok",
]
CITY_WEIGHTS = np.array([30, 14, 9, 8, 7, 5, 3, 3, 2, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1], dtype=float)
DOMAINS = ["example.com", "mail.example.org", "inbox.example.net", "post.example.com"]
GROUPS = ["Retail", "Wholesale", "Online", "VIP", "General", "GENERAL", "general"]
G_RETAIL, G_WHOLESALE, G_ONLINE, G_VIP = range(4)
G_ANON_FIRST = 4
BRANDS = ["AquaPure", "Crystalis", "Nordvik", "HydraFlow", "Zenith", "BlueWave", "Everclear"]

EPOCH = dt.date(1970, 1, 1)


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _rng(seed: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *[int(t) for t in tags]]))


def _sql_list(values) -> str:
    def lit(v):
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    return "[" + ", ".join(lit(v) for v in values) + "]"


def _log(msg: str) -> None:
    print(f"[generate_data] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------------------------
class Calendar:
    def __init__(self, start_year: int, end_date: dt.date):
        self.start = dt.date(start_year, 1, 1)
        self.end = end_date
        self.start_day = _days(self.start)
        self.end_day = _days(end_date)
        self.n_months = (end_date.year - start_year) * 12 + end_date.month
        ms, ml = [], []
        for m in range(self.n_months):
            y, mo = start_year + m // 12, m % 12 + 1
            first = dt.date(y, mo, 1)
            nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1)
            last = min(nxt - dt.timedelta(days=1), end_date)
            ms.append(_days(first))
            ml.append((last - first).days + 1)
        self.month_start = np.array(ms, dtype=np.int64)
        self.month_len = np.array(ml, dtype=np.int64)
        self.years = list(range(start_year, end_date.year + 1))
        self.year_start_day = np.array([_days(dt.date(y, 1, 1)) for y in self.years] + [self.end_day + 1])


# ---------------------------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------------------------
def _build_products(seed: int, n_bad: dict[str, int]):
    """Good catalogue (numpy arrays, product number = index + 1) plus the bad product rows."""
    rng = _rng(seed, 1)
    cons_nouns = [
        "Filter Cartridge",
        "Water Pods",
        "Coffee Capsules",
        "Cleaning Tabs",
        "Refill Pack",
        "Descaler Sachets",
        "Test Strips",
        "Salt Tablets",
        "Mineral Pods",
        "Flavour Drops",
    ]
    dev_nouns = ["Dispenser", "Purifier", "Brewer", "Softener", "Cooler", "Carbonator", "Filter Jug", "Smart Tap"]
    acc_nouns = [
        "Bottle",
        "Carafe",
        "Glass Set",
        "Travel Mug",
        "Drip Tray",
        "Stand",
        "Carry Bag",
        "Cleaning Brush",
        "Cap Set",
        "Storage Box",
    ]
    spare_nouns = ["Pump", "Valve", "Seal Kit", "Hose", "Power Adapter", "Nozzle", "Gasket", "Sensor"]
    rows = []  # (name, brand, category, unit_size, price_cents)
    for pi, pack in enumerate(PACKS):
        for j in range(10):
            brand = BRANDS[(pi * 3 + j) % len(BRANDS)]
            noun = cons_nouns[j]
            per_unit = rng.uniform(0.08, 0.15) * (pack / 50.0) ** -0.15
            rows.append((f"{brand} {noun} x{pack}", brand, C_CONSUMABLE, str(pack), int(round(pack * per_unit * 100))))
    for j in range(16):
        brand = BRANDS[j % len(BRANDS)]
        rows.append(
            (
                f"{brand} {dev_nouns[j % len(dev_nouns)]} {['S', 'M', 'Pro'][j % 3]}{j + 1}",
                brand,
                C_DEVICE,
                "1",
                int(round(rng.uniform(80, 900)) * 100 - 1),
            )
        )
    for j in range(30):
        brand = BRANDS[(j * 2) % len(BRANDS)]
        rows.append(
            (
                f"{brand} {acc_nouns[j % len(acc_nouns)]} {j // len(acc_nouns) + 1}",
                brand,
                C_ACCESSORY,
                "1" if rng.random() < 0.5 else None,
                int(round(rng.uniform(5, 60) * 100)),
            )
        )
    for j in range(24):
        brand = BRANDS[(j * 5) % len(BRANDS)]
        rows.append(
            (
                f"{brand} {spare_nouns[j % len(spare_nouns)]} {['A', 'B', 'C'][j // len(spare_nouns)]}",
                brand,
                C_SPARE,
                "1" if rng.random() < 0.3 else None,
                int(round(rng.uniform(3, 150) * 100)),
            )
        )
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    n = len(rows)
    cat = np.array([r[2] for r in rows], dtype=np.int8)
    pack = np.array([int(r[3]) if r[2] == C_CONSUMABLE else 1 for r in rows], dtype=np.int64)
    price = np.array([r[4] for r in rows], dtype=np.int64)
    cons_by_pack = np.array([np.flatnonzero((cat == C_CONSUMABLE) & (pack == p)) for p in PACKS])
    # product groups used to re-draw a product that collides within an invoice
    groups = [np.flatnonzero((cat == C_CONSUMABLE) & (pack == p)) for p in PACKS]
    groups += [np.flatnonzero(cat == c) for c in (C_DEVICE, C_ACCESSORY, C_SPARE)]
    gsize = np.array([len(g) for g in groups])
    gmem = np.zeros((len(groups), gsize.max()), dtype=np.int64)
    for i, g in enumerate(groups):
        gmem[i, : len(g)] = g
    group_of = np.zeros(n, dtype=np.int64)
    for i, g in enumerate(groups):
        group_of[g] = i

    # file rows: good products, then bad ones inserted at random positions
    file_rows = [[f"P{i + 1:04d}", r[0], r[1], CATEGORIES[r[2]], r[3]] for i, r in enumerate(rows)]
    bad_counts = {k: 0 for k in PRODUCT_BAD_CLASSES}
    bad_refs = []  # (product number, tx class, price cents)
    dup_ids = []
    if sum(n_bad.values()):
        extra = []  # (row, insert-after-index or None)
        next_no = n + 1
        for j in range(n_bad["missing_product_id"]):
            c = int(rng.integers(0, 4))
            extra.append(
                (
                    [
                        None,
                        f"Unlabelled item {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        CATEGORIES[c],
                        str(PACKS[j % 5]) if c == C_CONSUMABLE else "1",
                    ],
                    None,
                )
            )
        dup_src = rng.choice(n, size=min(n, n_bad["duplicate_product_id"]), replace=False)
        dup_ids = sorted(file_rows[s][0] for s in dup_src)
        for s in dup_src:
            r = file_rows[s]
            extra.append(([r[0], "Legacy " + r[1], r[2], r[3], r[4]], int(s)))
        for j in range(n_bad["unknown_category"]):
            no = next_no
            next_no += 1
            extra.append(
                (
                    [
                        f"P{no:04d}",
                        f"{BRANDS[j % len(BRANDS)]} Gizmo {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        BAD_CATEGORIES[j % len(BAD_CATEGORIES)],
                        "1",
                    ],
                    None,
                )
            )
            bad_refs.append((no, TX_REF_UNKNOWN_CATEGORY, 1999))
        for j in range(n_bad["invalid_core_unit_size"]):
            no = next_no
            next_no += 1
            extra.append(
                (
                    [
                        f"P{no:04d}",
                        f"{BRANDS[j % len(BRANDS)]} Bulk Refill {j + 1}",
                        BRANDS[j % len(BRANDS)],
                        "consumable",
                        BAD_UNIT_SIZES[j % len(BAD_UNIT_SIZES)],
                    ],
                    None,
                )
            )
            bad_refs.append((no, TX_REF_BAD_UNIT_SIZE, 2499))
        # positions: a float key per row; a duplicate sorts after its original
        keys = list(np.arange(n, dtype=float))
        all_rows = list(file_rows)
        for row, after in extra:
            if after is None:
                k = float(rng.uniform(0, n))
            else:
                k = float(rng.uniform(after + 0.5, n + 0.5))
            all_rows.append(row)
            keys.append(k)
        idx = np.argsort(np.array(keys), kind="stable")
        file_rows = [all_rows[i] for i in idx]
        bad_counts = {k: int(v) for k, v in n_bad.items()}
        bad_counts["duplicate_product_id"] = len(dup_src)
    return {
        "n": n,
        "cat": cat,
        "pack": pack,
        "price": price,
        "cons_by_pack": cons_by_pack,
        "gmem": gmem,
        "gsize": gsize,
        "group_of": group_of,
        "other": np.flatnonzero((cat == C_ACCESSORY) | (cat == C_SPARE)),
        "device": np.flatnonzero(cat == C_DEVICE),
        "by_cat": [np.flatnonzero(cat == c) for c in range(4)],
        "file_rows": file_rows,
        "bad_counts": bad_counts,
        "bad_refs": bad_refs,
        "dup_ids": dup_ids,
    }


# ---------------------------------------------------------------------------------------------
# customers: personas and their buying parameters (all customers, vectorised)
# ---------------------------------------------------------------------------------------------
def _aligned_count(a, b, phase, p):
    """number of months m in [a, b] with (m - phase) % p == 0 (0 where a < 0)."""
    a, b, phase, p = (np.asarray(x, dtype=np.int64) for x in (a, b, phase, p))
    first = a + (phase - a) % p
    cnt = np.where((a >= 0) & (first <= b), (b - first) // p + 1, 0)
    return cnt


def _stratified(rng, k: int, lo: int, hi: int) -> np.ndarray:
    """k values spread evenly over [lo, hi] (every value used when k >= hi - lo + 1), shuffled."""
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    span = hi - lo + 1
    v = lo + (np.arange(k) * span) // k
    return rng.permutation(v)


def _customer_params(n: int, cal: Calendar, seed: int, n_stores: int) -> dict:
    rng = _rng(seed, 2)
    M = cal.n_months
    n_anon = max(3, int(round(ANON_SHARE * n))) if n >= 20 else 1
    n_id = n - n_anon
    counts = {p: int(np.floor(s * n_id)) for p, s in PERSONA_SHARES.items()}
    counts[P_CASUAL] = n_id - sum(counts.values())
    counts[P_ANON] = n_anon
    persona = np.repeat(np.array(list(counts.keys()), dtype=np.int8), list(counts.values()))
    persona = rng.permutation(persona)

    tier = np.full(n, -1, dtype=np.int8)
    steady = {P_DIAMOND: T_DIAMOND, P_PLATINUM: T_PLATINUM, P_GOLD: T_GOLD, P_SILVER: T_SILVER, P_BRONZE: T_BRONZE}
    for p, t in steady.items():
        tier[persona == p] = t
    sub = np.isin(persona, [P_LAPSER, P_RETURNER, P_NEWCOMER])
    tier[sub] = rng.choice(5, size=int(sub.sum()), p=SUB_TIER_P)

    # order size / rhythm for every schedule customer
    period = np.ones(n, dtype=np.int64)
    cnt = np.ones(n, dtype=np.int64)
    units = np.zeros(n, dtype=np.float64)
    kmax = np.ones(n, dtype=np.int64)
    r = rng.random(n)
    r2 = rng.random(n)
    m = tier == T_DIAMOND
    cnt[m] = 1 + (r[m] < 0.3)
    units[m] = 2000 + r2[m] * 2500
    kmax[m] = 3
    m = tier == T_PLATINUM
    period[m] = 2
    units[m] = 2800 + r2[m] * 2200
    kmax[m] = 3
    m = tier == T_GOLD
    period[m] = 1 + (r[m] < 0.5)
    units[m] = (300 + r2[m] * 350) * period[m]
    kmax[m] = 2
    m = tier == T_SILVER
    period[m] = 1 + (r[m] * 3).astype(np.int64)
    units[m] = (80 + r2[m] * 60) * period[m]
    m = tier == T_BRONZE
    period[m] = 2 + (r[m] * 3).astype(np.int64)
    units[m] = np.where((period[m] == 2) | (r2[m] < 0.5), 50, 100)

    a1 = np.full(n, -1, dtype=np.int64)
    b1 = np.full(n, -1, dtype=np.int64)
    a2 = np.full(n, -1, dtype=np.int64)
    b2 = np.full(n, -1, dtype=np.int64)
    ph1 = np.zeros(n, dtype=np.int64)
    ph2 = np.zeros(n, dtype=np.int64)
    rate = np.zeros(n, dtype=np.float64)

    # steady tier personas: present from the start (55%) or first purchase in any month
    for p in steady:
        idx = np.flatnonzero(persona == p)
        k0 = int(round(0.55 * len(idx)))
        start = np.concatenate([np.zeros(k0, dtype=np.int64), _stratified(rng, len(idx) - k0, 1, M - 1)])
        a1[idx] = rng.permutation(start)
        b1[idx] = M - 1
        ph1[idx] = a1[idx] % period[idx]
    # lapsers: last purchase month L spread over the whole history (Passive 6-11 months later, Lost 12 later)
    idx = np.flatnonzero(persona == P_LAPSER)
    L = _stratified(rng, len(idx), 0, max(0, M - 2))
    b1[idx] = L
    a1[idx] = np.maximum(0, L - rng.integers(0, 25, len(idx)))
    ph1[idx] = L % period[idx]
    # returners: buy until L, silent for 12+ months, come back in month R (Reactivated)
    idx = np.flatnonzero(persona == P_RETURNER)
    if M >= 14:
        R = _stratified(rng, len(idx), 13, M - 1)
        gap = (rng.random(len(idx)) * (np.minimum(6, R - 13) + 1)).astype(np.int64)
        L = R - 13 - gap
        b1[idx] = L
        a1[idx] = np.maximum(0, L - rng.integers(0, 13, len(idx)))
        ph1[idx] = L % period[idx]
        a2[idx] = R
        stay = rng.random(len(idx)) < 0.7
        b2[idx] = np.where(stay, M - 1, np.minimum(M - 1, R + rng.integers(0, 13, len(idx))))
        ph2[idx] = R % period[idx]
    else:  # too short a history for a 13-month gap: behave as lapsers
        L = _stratified(rng, len(idx), 0, max(0, M - 2))
        b1[idx] = L
        a1[idx] = np.maximum(0, L - rng.integers(0, 25, len(idx)))
        ph1[idx] = L % period[idx]
    # newcomers: first purchase in one of the last 12 months (New), then keep buying
    idx = np.flatnonzero(persona == P_NEWCOMER)
    a1[idx] = _stratified(rng, len(idx), max(0, M - 12), M - 1)
    b1[idx] = M - 1
    ph1[idx] = a1[idx] % period[idx]
    # casual buyers (Poisson, rate set from --lines later)
    idx = np.flatnonzero(persona == P_CASUAL)
    k = len(idx)
    from_start = rng.random(k) < 0.4
    a = np.where(from_start, 0, rng.integers(0, M, k))
    stays = rng.random(k) < 0.7
    b = np.where(stays, M - 1, a + (rng.random(k) * (M - a)).astype(np.int64))
    a1[idx], b1[idx] = a, b
    rate[idx] = 0.6 + 0.8 * rng.random(k)  # relative rate, scaled later
    idx = np.flatnonzero(persona == P_ANON)
    a1[idx], b1[idx] = 0, M - 1
    rate[idx] = 0.7 + 0.6 * rng.random(len(idx))

    # descriptive attributes
    group = rng.choice(4, size=n, p=[0.6, 0.15, 0.15, 0.1]).astype(np.int64)
    group[persona == P_ANON] = G_ANON_FIRST + np.arange(n_anon) % 3
    home = rng.integers(1, n_stores + 1, n)
    home[persona == P_ANON] = 1 + np.arange(n_anon) % n_stores
    # compact dtypes: these arrays live for the whole run (O(customers) memory)
    i8, i16 = np.int8, np.int16
    return {
        "n": n,
        "persona": persona,
        "tier": tier,
        "period": period.astype(i8),
        "cnt": cnt.astype(i8),
        "units": units.astype(np.float32),
        "kmax": kmax.astype(i8),
        "a1": a1.astype(i16),
        "b1": b1.astype(i16),
        "a2": a2.astype(i16),
        "b2": b2.astype(i16),
        "ph1": ph1.astype(i8),
        "ph2": ph2.astype(i8),
        "rate": rate.astype(np.float32),
        "group": group.astype(i8),
        "home": home.astype(i16),
        "persona_counts": {PERSONAS[p]: c for p, c in counts.items()},
        "fname": rng.integers(0, len(FIRST_NAMES), n).astype(i8),
        "lname": rng.integers(0, len(LAST_NAMES), n).astype(i8),
        "city": rng.choice(len(CITIES), size=n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum()).astype(i8),
    }


def _calibrate_rates(cp: dict, M: int, target_lines: int) -> tuple[float, float, float]:
    """Scale the Poisson rates of casual and walk-in customers so total lines ~ target.

    Returns (casual multiplier, anonymous multiplier, expected fixed lines)."""
    per = cp["persona"]
    sched = np.isin(per, SCHEDULE_PERSONAS)
    orders = (
        _aligned_count(cp["a1"], cp["b1"], cp["ph1"], cp["period"])
        + _aligned_count(cp["a2"], cp["b2"], cp["ph2"], cp["period"])
    ) * cp["cnt"]
    cap = np.maximum(1, cp["units"] // 150).astype(np.int64)
    ncore = np.zeros(len(per))
    for kk in (1, 2, 3):
        ncore += np.where(kk <= cp["kmax"], np.minimum(kk, cap), 0)
    ncore /= cp["kmax"]
    fixed = float(np.sum(np.where(sched, orders * (ncore + P_EXTRA_OTHER_LINE), 0)))
    fixed += float(np.sum(sched & (orders > 0))) * P_DEVICE_FIRST * 1.25
    fixed += float(np.sum(per == P_DEVICE)) * 1.5 * 1.3 + float(np.sum(per == P_OTHER)) * 2.5 * 1.5
    fixed *= 1 + P_RETURN
    months = np.where(cp["a1"] >= 0, cp["b1"] - cp["a1"] + 1, 0)
    cas = per == P_CASUAL
    anon = per == P_ANON
    cas_base = float(np.sum(cp["rate"][cas] * months[cas])) * (2.0 * (1 + P_RETURN) + 0.0)
    cas_base += float(np.sum(cas)) * P_DEVICE_FIRST * 1.25
    anon_base = float(np.sum(cp["rate"][anon] * months[anon])) * 2.5 * (1 + P_RETURN)
    anon_lines = ANON_LINE_SHARE * target_lines
    anon_mult = anon_lines / anon_base if anon_base > 0 else 0.0
    rest = target_lines - fixed - anon_lines
    cas_mult = rest / cas_base if cas_base > 0 else 0.0
    if cas_mult < 0.05:
        _log(
            f"warning: --lines {target_lines} is low for {cp['n']} customers over {M} months "
            f"(the steady personas alone make ~{int(fixed)} lines); the output will exceed the target"
        )
        cas_mult = 0.05
    return cas_mult, anon_mult, fixed


# ---------------------------------------------------------------------------------------------
# transactions of one block of customers
# ---------------------------------------------------------------------------------------------
class Block:
    """Builds the invoice lines of customers [lo, hi)."""

    def __init__(self, cp, lo, hi, cal: Calendar, prod, rng, cas_mult, anon_mult, n_stores):
        self.cp, self.lo, self.hi, self.cal, self.prod, self.rng = cp, lo, hi, cal, prod, rng
        self.n_stores = n_stores
        nb = hi - lo
        sl = slice(lo, hi)
        per = cp["persona"][sl]
        M = cal.n_months
        months = np.arange(M)
        # ---- order lists: (local customer, day) and the kind of lines they get
        o_cust, o_day, o_kind = [], [], []  # kind: 0 schedule, 1 casual, 2 anonymous, 3 device, 4 other
        # schedule personas: exact rhythm
        s_idx = np.flatnonzero(np.isin(per, SCHEDULE_PERSONAS))
        if len(s_idx):
            g = lo + s_idx
            p = cp["period"][g][:, None]
            w1 = (
                (months >= cp["a1"][g][:, None])
                & (months <= cp["b1"][g][:, None])
                & ((months - cp["ph1"][g][:, None]) % p == 0)
            )
            w2 = (
                (months >= cp["a2"][g][:, None])
                & (months <= cp["b2"][g][:, None])
                & ((months - cp["ph2"][g][:, None]) % p == 0)
            )
            counts = (w1 | w2) * cp["cnt"][g][:, None]
            ci, mi = np.nonzero(counts)
            reps = counts[ci, mi]
            oc, om = np.repeat(s_idx[ci], reps), np.repeat(mi, reps)
            o_cust.append(oc)
            o_day.append(cal.month_start[om] + (rng.random(len(om)) * cal.month_len[om]).astype(np.int64))
            o_kind.append(np.zeros(len(oc), dtype=np.int8))
        # Poisson buyers
        for kind, pp, mult in ((1, P_CASUAL, cas_mult), (2, P_ANON, anon_mult)):
            p_idx = np.flatnonzero(per == pp)
            if not len(p_idx):
                continue
            g = lo + p_idx
            inwin = (months >= cp["a1"][g][:, None]) & (months <= cp["b1"][g][:, None])
            lam = (cp["rate"][g] * mult)[:, None] * inwin * (cal.month_len / 30.4)[None, :]
            counts = rng.poisson(lam)
            ci, mi = np.nonzero(counts)
            reps = counts[ci, mi]
            oc, om = np.repeat(p_idx[ci], reps), np.repeat(mi, reps)
            o_cust.append(oc)
            o_day.append(cal.month_start[om] + (rng.random(len(om)) * cal.month_len[om]).astype(np.int64))
            o_kind.append(np.full(len(oc), kind, dtype=np.int8))
        # device-only and accessories/spare-parts-only customers
        span = cal.end_day - cal.start_day + 1
        for kind, pp, lo_n, hi_n in ((3, P_DEVICE, 1, 2), (4, P_OTHER, 1, 4)):
            p_idx = np.flatnonzero(per == pp)
            k = rng.integers(lo_n, hi_n + 1, len(p_idx))
            oc = np.repeat(p_idx, k)
            o_cust.append(oc)
            o_day.append(cal.start_day + (rng.random(len(oc)) * span).astype(np.int64))
            o_kind.append(np.full(len(oc), kind, dtype=np.int8))
        o_cust = np.concatenate(o_cust).astype(np.int64)
        o_day = np.concatenate(o_day).astype(np.int64)
        o_kind = np.concatenate(o_kind)

        # ---- lines of those orders
        l_ord, l_prod, l_qty = self._lines(o_cust, o_kind)
        # device invoice before the first consumable purchase
        is_core = prod["cat"][l_prod] == C_CONSUMABLE
        first_core = np.full(nb, np.iinfo(np.int64).max)
        np.minimum.at(first_core, o_cust[l_ord[is_core]], o_day[l_ord[is_core]])
        has_core = first_core < np.iinfo(np.int64).max
        dev_c = np.flatnonzero(
            has_core & (rng.random(nb) < P_DEVICE_FIRST) & np.isin(per, SCHEDULE_PERSONAS + (P_CASUAL,))
        )
        if len(dev_c):
            d_day = np.maximum(cal.start_day, first_core[dev_c] - rng.integers(0, 121, len(dev_c)))
            d_kind = np.full(len(dev_c), 3, dtype=np.int8)
            d_ord, d_prod, d_qty = self._lines(dev_c, d_kind)
            l_ord = np.concatenate([l_ord, d_ord + len(o_cust)])
            l_prod = np.concatenate([l_prod, d_prod])
            l_qty = np.concatenate([l_qty, d_qty])
            o_cust = np.concatenate([o_cust, dev_c])
            o_day = np.concatenate([o_day, d_day])
        n_orders = len(o_cust)
        # store of each order: home store mostly, another store sometimes, empty for some
        grp = cp["group"][lo + o_cust]
        rs = rng.random(n_orders)
        empty_p = np.where(grp == G_ONLINE, 0.5, 0.02)
        o_store = np.where(
            rs < empty_p,
            -1,
            np.where(rs < empty_p + 0.08, rng.integers(1, n_stores + 1, n_orders), cp["home"][lo + o_cust]),
        )
        walk_in = cp["persona"][lo + o_cust] == P_ANON  # a walk-in account belongs to one store
        o_store[walk_in] = cp["home"][lo + o_cust[walk_in]]
        l_rev = np.rint(l_qty * prod["price"][l_prod] * rng.uniform(0.95, 1.02, len(l_qty))).astype(np.int64)
        l_rev = np.maximum(l_rev, 1)
        # ---- returns: own invoice, same day up to 30 days later
        ret = np.flatnonzero(rng.random(len(l_qty)) < P_RETURN)
        if len(ret):
            r_day = np.minimum(cal.end_day, o_day[l_ord[ret]] + rng.integers(0, 31, len(ret)))
            r_qty = -(1 + (rng.random(len(ret)) * l_qty[ret]).astype(np.int64))
            r_rev = np.rint(r_qty * (l_rev[ret] / l_qty[ret])).astype(np.int64)
            r_ord = n_orders + np.arange(len(ret))
            o_cust = np.concatenate([o_cust, o_cust[l_ord[ret]]])
            o_day = np.concatenate([o_day, r_day])
            o_store = np.concatenate([o_store, o_store[l_ord[ret]]])
            l_ord = np.concatenate([l_ord, r_ord])
            l_prod = np.concatenate([l_prod, l_prod[ret]])
            l_qty = np.concatenate([l_qty, r_qty])
            l_rev = np.concatenate([l_rev, r_rev])
        # ---- sort by (day, order) and keep
        day = o_day[l_ord]
        order = np.lexsort((l_ord, day))
        self.l_ord = l_ord[order]
        self.cust = o_cust[self.l_ord] + lo + 1  # customer number
        self.day = day[order]
        self.prod = l_prod[order] + 1  # product number
        self.qty = l_qty[order]
        self.rev = l_rev[order]
        self.store = o_store[self.l_ord]
        new_inv = np.ones(len(order), dtype=bool)
        new_inv[1:] = self.l_ord[1:] != self.l_ord[:-1]
        self.inv_rank = np.cumsum(new_inv) - 1  # 0-based invoice rank within the block
        self.n_invoices = int(new_inv.sum())
        self.first_purchase = np.full(nb, -1, dtype=np.int64)
        pos = self.qty > 0
        cu = self.cust[pos] - lo - 1
        uc, first_idx = np.unique(cu, return_index=True)
        self.first_purchase[uc] = self.day[pos][first_idx]

    def _lines(self, o_cust, o_kind):
        """(order index, product index, quantity) for orders of the given kinds."""
        rng, prod, cp, lo = self.rng, self.prod, self.cp, self.lo
        parts = []
        # schedule orders: core lines sized to the customer's units per order
        s = np.flatnonzero(o_kind == 0)
        if len(s):
            g = lo + o_cust[s]
            u = cp["units"][g]
            cap = np.maximum(1, (u // 150).astype(np.int64))
            ncore = np.minimum(rng.integers(1, cp["kmax"][g] + 1), cap)
            lo_ = np.repeat(s, ncore)
            lu = np.repeat(u, ncore)
            w = rng.uniform(0.6, 1.4, len(lo_))
            starts = np.concatenate([[0], np.cumsum(ncore)[:-1]])
            wsum = np.repeat(np.add.reduceat(w, starts), ncore)
            target = lu * w / wsum
            k = np.clip(np.searchsorted(PACKS, target / 2, side="right") - 1, 0, None)
            k = np.maximum(0, k - (rng.random(len(k)) < 0.5))
            pr = prod["cons_by_pack"][k, rng.integers(0, prod["cons_by_pack"].shape[1], len(k))]
            q = np.maximum(1, np.rint(target / PACKS[k])).astype(np.int64)
            parts.append((lo_, pr, q))
            extra = s[rng.random(len(s)) < P_EXTRA_OTHER_LINE]
            parts.append(
                (
                    extra,
                    prod["other"][rng.integers(0, len(prod["other"]), len(extra))],
                    1 + (rng.random(len(extra)) < 0.2),
                )
            )
        # casual / anonymous orders: a mix of categories
        for kind, nmax, catp, qmax in ((1, 3, [0.05, 0.62, 0.20, 0.13], 4), (2, 4, [0.04, 0.66, 0.18, 0.12], 3)):
            s = np.flatnonzero(o_kind == kind)
            if not len(s):
                continue
            nl = rng.integers(1, nmax + 1, len(s))
            lo_ = np.repeat(s, nl)
            c = rng.choice(4, size=len(lo_), p=catp)
            pr = self._random_in_cat(c)
            q = np.where(c == C_CONSUMABLE, rng.integers(1, qmax + 1, len(lo_)), 1 + (rng.random(len(lo_)) < 0.15))
            parts.append((lo_, pr, q))
        # device orders: one device, sometimes an accessory
        s = np.flatnonzero(o_kind == 3)
        if len(s):
            parts.append((s, prod["device"][rng.integers(0, len(prod["device"]), len(s))], np.ones(len(s), np.int64)))
            acc = s[rng.random(len(s)) < 0.3]
            parts.append(
                (
                    acc,
                    prod["by_cat"][C_ACCESSORY][rng.integers(0, len(prod["by_cat"][C_ACCESSORY]), len(acc))],
                    np.ones(len(acc), np.int64),
                )
            )
        # accessories / spare parts orders
        s = np.flatnonzero(o_kind == 4)
        if len(s):
            nl = rng.integers(1, 3, len(s))
            lo_ = np.repeat(s, nl)
            parts.append(
                (lo_, prod["other"][rng.integers(0, len(prod["other"]), len(lo_))], 1 + (rng.random(len(lo_)) < 0.2))
            )
        l_ord = np.concatenate([p[0] for p in parts]).astype(np.int64)
        l_prod = np.concatenate([p[1] for p in parts]).astype(np.int64)
        l_qty = np.concatenate([p[2] for p in parts]).astype(np.int64)
        # a product at most once per invoice: re-draw colliding lines in the same group, drop leftovers
        for _ in range(6):
            o = np.lexsort((l_prod, l_ord))
            dup = np.zeros(len(o), dtype=bool)
            dup[1:] = (l_ord[o][1:] == l_ord[o][:-1]) & (l_prod[o][1:] == l_prod[o][:-1])
            d = o[dup]
            if not len(d):
                break
            gi = prod["group_of"][l_prod[d]]
            l_prod[d] = prod["gmem"][gi, (rng.random(len(d)) * prod["gsize"][gi]).astype(np.int64)]
        else:
            o = np.lexsort((l_prod, l_ord))
            keep = np.ones(len(o), dtype=bool)
            keep[1:] = ~((l_ord[o][1:] == l_ord[o][:-1]) & (l_prod[o][1:] == l_prod[o][:-1]))
            o = np.sort(o[keep])
            l_ord, l_prod, l_qty = l_ord[o], l_prod[o], l_qty[o]
        return l_ord, l_prod, l_qty

    def _random_in_cat(self, c):
        rng, prod = self.rng, self.prod
        out = np.empty(len(c), dtype=np.int64)
        for cat in range(4):
            m = c == cat
            if cat == C_CONSUMABLE:
                k = rng.choice(5, size=int(m.sum()), p=[0.35, 0.3, 0.2, 0.1, 0.05])
                out[m] = prod["cons_by_pack"][k, rng.integers(0, prod["cons_by_pack"].shape[1], int(m.sum()))]
            else:
                members = prod["by_cat"][cat]
                out[m] = members[rng.integers(0, len(members), int(m.sum()))]
        return out


# ---------------------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------------------
def _tx_sql(inv_w: int, cust_w: int) -> str:
    cust_txt = f"lpad(cust::VARCHAR, {cust_w}, '0')"
    return f"""
    SELECT
      CASE WHEN cls = {TXB_MISSING_INV} THEN NULL ELSE printf('INV%0{inv_w}d', inv) END,
      CASE WHEN cls = {TXB_MISSING_CUST} THEN NULL
           WHEN cls = {TXB_BAD_CUST} THEN (CASE vr % 3
                WHEN 0 THEN 'C ' || cust::VARCHAR || '#'
                WHEN 1 THEN 'C#' || {cust_txt}
                ELSE 'C' || substr({cust_txt}, 1, 3) || ' ' || substr({cust_txt}, 4) END)
           ELSE printf('C%0{cust_w}d', cust) END,
      CASE WHEN cls = {TXB_BAD_DATE} THEN (CASE vr % 4
                WHEN 0 THEN yr || '-13-45'
                WHEN 1 THEN 'not a date'
                WHEN 2 THEN strftime(d, '%d/%m/%Y')
                ELSE NULL END)
           WHEN cls = {TXB_IMPOSSIBLE_DATE} THEN yr || {_sql_list(BAD_IMPOSSIBLE_DATES)}[vr % {len(BAD_IMPOSSIBLE_DATES)} + 1]
           ELSE strftime(d, '%Y-%m-%d') END,
      CASE WHEN cls = {TXB_MISSING_PROD} THEN NULL ELSE printf('P%04d', prod) END,
      CASE WHEN cls = {TXB_BAD_QTY} THEN {_sql_list(BAD_QUANTITIES)}[vr % {len(BAD_QUANTITIES)} + 1]
           ELSE qty::VARCHAR END,
      CASE WHEN cls = {TXB_BAD_REV} THEN {_sql_list(BAD_REVENUES)}[vr % {len(BAD_REVENUES)} + 1]
           ELSE printf('%.2f', rev / 100.0) END,
      CASE WHEN store < 0 THEN NULL ELSE printf('S%03d', store) END
    FROM (SELECT *, DATE '1970-01-01' + day::INTEGER AS d,
                 year(DATE '1970-01-01' + day::INTEGER)::VARCHAR AS yr FROM t)
    ORDER BY sk, ri
    """


def _customer_sql(cust_w: int, y: int, y0: int) -> str:
    fn = _sql_list(FIRST_NAMES)
    ln = _sql_list(LAST_NAMES)
    created_bad = _sql_list([v.format(y=y, y0=y0) for v in BAD_CREATED])
    opt = []
    for col_i, col in enumerate(("oe", "os", "op")):
        opt.append(f"""CASE WHEN cls = 3 AND (vr // 3) % 3 = {col_i} THEN {_sql_list(BAD_CONSENTS)}[vr % 3 + 1]
                WHEN {col} < 0 THEN NULL ELSE {col}::VARCHAR END""")
    return f"""
    SELECT
      CASE WHEN cls = 1 THEN NULL ELSE printf('C%0{cust_w}d', cid) END,
      CASE WHEN grp >= {G_ANON_FIRST} THEN 'Walk-in Customer ' || printf('S%03d', store)
           ELSE {fn}[fn + 1] || ' ' || {ln}[ln + 1] END,
      {_sql_list(GROUPS)}[grp + 1],
      {_sql_list(CITIES)}[city + 1],
      CASE WHEN cls = 4 THEN {created_bad}[vr % {len(BAD_CREATED)} + 1]
           ELSE strftime(DATE '1970-01-01' + created::INTEGER, '%Y-%m-%d') END,
      CASE WHEN em = 0 THEN NULL
           ELSE lower({fn}[fn + 1]) || '.' || lower({ln}[ln + 1]) || cid::VARCHAR || '@' || {_sql_list(DOMAINS)}[dom + 1] END,
      CASE WHEN mob < 0 THEN NULL ELSE '07' || lpad(mob::VARCHAR, 8, '0') END,
      {opt[0]},
      {opt[1]},
      {opt[2]}
    FROM t
    ORDER BY sk, ri
    """


def _copy(con, arrays: dict, sql: str, path: Path) -> None:
    arrays = dict(arrays, ri=np.arange(len(next(iter(arrays.values()))), dtype=np.int64))
    con.register("t", arrays)
    try:
        con.execute(f"COPY ({sql}) TO '{path.as_posix()}' (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"')")
    finally:
        con.unregister("t")


def _concat(out_path: Path, header: list[str], parts: list[Path]) -> None:
    with open(out_path, "wb") as out:
        out.write((",".join(header) + "\n").encode())
        for p in parts:
            if p.exists():
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)


def _split(total: int, n_chunks: int, i: int) -> int:
    return total * (i + 1) // n_chunks - total * i // n_chunks


# ---------------------------------------------------------------------------------------------
# demo campaigns (SPEC section 11): recorded with a holdout, contacted customers buy a bit more
# ---------------------------------------------------------------------------------------------
# (name, channel, send date as (months before the last month, day of month) or None = 10 days before
#  the end date, holdout share, extra purchase probability of a contacted member in the window)
DEMO_CAMPAIGNS = [
    ("Refill reminder", "email", (4, 5), 0.20, 0.25),
    ("Loyalty SMS", "sms", (3, 12), 0.20, 0.0),  # no simulated effect
    ("Year-end offer", "email", None, 0.10, 0.25),  # window not over at the end date: running
]
CAMPAIGN_WINDOW_DAYS = project_settings.campaign_response_window_days()  # var crm_campaign_response_window_days


def _simulate_campaigns(
    out: Path, cal: Calendar, seed: int, campaigns=DEMO_CAMPAIGNS
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
            FROM read_csv({_sql_list(tx_files)}, header = true, auto_detect = false, quote = '"', escape = '"',
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
        rng = _rng(seed, 900)
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


# ---------------------------------------------------------------------------------------------
# main entry
# ---------------------------------------------------------------------------------------------
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
    append their simulated response lines to the year files (_simulate_campaigns)."""
    t0 = time.time()
    log = _log if verbose else (lambda msg: None)
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
    cal = Calendar(start_year, end)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    share = 0.0 if clean else float(bad_share)

    def n_bad(base: int, n_classes: int) -> int:
        return 0 if share <= 0 else max(2, int(round(share * base / n_classes)))

    tx_bad_total = {c: n_bad(lines, len(TX_BAD_CLASSES)) for c in TX_BAD_CLASSES}
    cust_bad = {c: n_bad(customers, len(CUSTOMER_BAD_CLASSES)) for c in CUSTOMER_BAD_CLASSES}
    n_stores = int(np.clip(round(customers / 100), 5, 999))
    prod = _build_products(seed, {c: n_bad(120, len(PRODUCT_BAD_CLASSES)) for c in PRODUCT_BAD_CLASSES})
    cp = _customer_params(customers, cal, seed, n_stores)
    cas_mult, anon_mult, fixed = _calibrate_rates(cp, cal.n_months, lines)
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
    rng_bad = _rng(seed, 3)
    ident = np.flatnonzero(cp["persona"] != P_ANON)
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
            rng = _rng(seed, 100, ci)
            b = Block(cp, lo, hi, cal, prod, rng, cas_mult, anon_mult, n_stores)
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
            want = {c: _split(tx_bad_total[c], n_chunks, ci) for c in TX_BAD_CLASSES}
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
            sql = _tx_sql(inv_w, cust_w)
            for yi, y in enumerate(cal.years):
                m = year_of == yi
                if not m.any():
                    continue
                part = tmp / f"tx_{y}_{ci:05d}.csv"
                _copy(
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
            n_cust_rows += _write_customer_part(
                con,
                tmp / f"cust_{ci:05d}.csv",
                cp,
                lo,
                hi,
                b,
                cal,
                rng,
                cust_cls,
                cust_var,
                dup_cust,
                _split(cust_bad["missing_customer_id"], n_chunks, ci),
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
            _concat(f, TX_COLUMNS, tx_parts[y])
            files[f.name] = rows_per_year[y]
        _concat(out / CUSTOMERS_FILE, CUSTOMER_COLUMNS, cust_parts)
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

    campaign_results, campaign_lines = _simulate_campaigns(out, cal, seed) if campaigns else ([], {})
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
        "personas": cp["persona_counts"],
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


def _write_customer_part(
    con, path, cp, lo, hi, b: Block, cal: Calendar, rng, cust_cls, cust_var, dup_cust, n_missing, cust_w
) -> int:
    nb = hi - lo
    sl = slice(lo, hi)
    cid = np.arange(lo + 1, hi + 1, dtype=np.int64)
    per = cp["persona"][sl]
    anon = per == P_ANON
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
        "fn": cp["fname"][sl],
        "ln": cp["lname"][sl],
        "grp": cp["group"][sl],
        "city": cp["city"][sl],
        "created": created,
        "em": em.astype(np.int8),
        "dom": dom,
        "mob": mob,
        "oe": flag(0.6),
        "os": flag(0.5),
        "op": flag(0.3),
        "store": cp["home"][sl],
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
    _copy(con, cols, _customer_sql(cust_w, cal.start.year, cal.start.year - 1), path)
    return len(cols["cid"])


# ---------------------------------------------------------------------------------------------
# --bgnbd-params: customers simulated from the BG/NBD generative process (SPEC section 9)
# ---------------------------------------------------------------------------------------------
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
    log = _log if verbose else (lambda msg: None)
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
    start_day, end_day = _days(dt.date(start_year, 1, 1)), _days(end)
    cohort_days = int(round(float(cohort_weeks) * 7))
    if cohort_days < 1 or start_day + cohort_days - 1 > end_day:
        raise ValueError(
            f"--cohort-weeks {cohort_weeks}: the cohort window must lie between Jan 1 {start_year} "
            f"and the end date {end}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed, 500)
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
            low, high = _days(dt.date(year, 1, 1)), _days(dt.date(year, 12, 31))
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


def _parameter_list(text: str, names: str):
    values = [part.strip() for part in str(text).split(",")]
    wanted = names.split(",")
    try:
        numbers = [float(value) for value in values]
    except ValueError:
        numbers = []
    if len(numbers) != len(wanted):
        raise argparse.ArgumentTypeError(f"expected {len(wanted)} comma-separated numbers {names}, got {text!r}")
    return numbers


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", required=True, help="output folder (created; existing generated files replaced)")
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--start-year", type=int, default=2023)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument(
        "--lines",
        type=int,
        default=None,
        help="target number of transaction lines (default customers * 20; reached within ~+-10%% as long as "
        "it is at least ~10 lines per customer for 3 years of data, what the steady personas alone make)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--bad-share",
        type=float,
        default=0.01,
        help="share of bad rows per file, split evenly over the bad classes (min 2 each)",
    )
    ap.add_argument("--clean", action="store_true", help="no bad input at all")
    ap.add_argument(
        "--end-date",
        default=None,
        help="last invoice date YYYY-MM-DD (default Dec 31 of the last year); when given, the years "
        "written are --start-year .. the year of --end-date",
    )
    ap.add_argument(
        "--block-customers",
        type=int,
        default=None,
        help="customers per processing block (memory tuning; default ~1M lines per block)",
    )
    ap.add_argument(
        "--campaigns",
        action="store_true",
        help="record the demo campaigns (campaigns/ folder) and append their simulated responses",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("--json", action="store_true", help="print the full summary as JSON on stdout")
    bgnbd = ap.add_argument_group(
        "BG/NBD process (recovery tests of the customer value models, SPEC section 9)",
        "With --bgnbd-params the files hold customers of the BG/NBD generative process with these known "
        "parameters instead of the personas (one core product, one line per purchase day, no bad rows); "
        "--customers, --start-year, --years, --end-date, --seed apply, --lines / --campaigns / --bad-share do not. "
        "Time unit: weeks, as the warehouse's t_x and T; each customer's first purchase is on a day drawn "
        "uniformly from the first --cohort-weeks weeks, so T (to the end date) varies.",
    )
    bgnbd.add_argument(
        "--bgnbd-params",
        metavar="R,ALPHA,A,B",
        default=None,
        type=lambda text: _parameter_list(text, "r,alpha,a,b"),
        help="BG/NBD parameters: purchase rate ~ Gamma(r, alpha) per week (alpha in weeks), "
        "drop-out probability after a purchase ~ Beta(a, b); e.g. 0.5,8,0.7,2.5",
    )
    bgnbd.add_argument(
        "--bgnbd-model",
        choices=("bg_nbd", "mbg_nbd"),
        default="bg_nbd",
        help="bg_nbd (default) or mbg_nbd (a customer may also drop out right after the first purchase)",
    )
    bgnbd.add_argument(
        "--gamma-gamma-params",
        metavar="P,Q,GAMMA",
        default=None,
        type=lambda text: _parameter_list(text, "p,q,gamma"),
        help="Gamma-Gamma spend: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma) per customer; "
        "e.g. 6,4,15 (mean p*gamma/(q-1) = 30). Default: 10.00 per purchase",
    )
    bgnbd.add_argument(
        "--cohort-weeks",
        type=float,
        default=52.0,
        help="first purchases spread uniformly over this many weeks from Jan 1 of --start-year (default 52)",
    )
    a = ap.parse_args(argv)
    if a.bgnbd_params is not None:
        if a.lines is not None or a.campaigns:
            ap.error("--lines and --campaigns do not apply with --bgnbd-params")
        s = generate_bg_nbd(
            a.out,
            customers=a.customers,
            bgnbd_params=a.bgnbd_params,
            gamma_gamma_params=a.gamma_gamma_params,
            model=a.bgnbd_model,
            start_year=a.start_year,
            years=a.years,
            end_date=a.end_date,
            cohort_weeks=a.cohort_weeks,
            seed=a.seed,
            verbose=not a.quiet,
        )
        if a.json:
            print(json.dumps(s, indent=2))
        return 0
    if a.gamma_gamma_params is not None:
        ap.error("--gamma-gamma-params needs --bgnbd-params")
    s = generate(
        a.out,
        customers=a.customers,
        start_year=a.start_year,
        years=a.years,
        lines=a.lines,
        seed=a.seed,
        bad_share=a.bad_share,
        clean=a.clean,
        end_date=a.end_date,
        verbose=not a.quiet,
        block_customers=a.block_customers,
        campaigns=a.campaigns,
    )
    if a.json:
        print(json.dumps(s, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
