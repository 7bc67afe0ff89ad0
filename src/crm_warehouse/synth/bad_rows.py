"""Bad input rows (unless --clean), each with exactly one defect (classes in bad_input): which
customers get a bad customers_master row, and the extra, spoiled transaction rows of a block
(copies of good lines with one field spoiled and an invoice id of their own, so the good data stay
complete), with their counts for the summary."""

from __future__ import annotations

import numpy as np

from crm_warehouse.synth.bad_input import (
    BAD_IMPOSSIBLE_DATES,
    BAD_INVALID_DATES,
    BAD_QUANTITIES,
    BAD_REVENUES,
    TX_BAD_CLASSES,
    TX_REF_UNKNOWN_CATEGORY,
    TXB_DUP,
    TXB_MISSING_INV,
    TXB_ORPHAN_CUST,
    TXB_ORPHAN_PROD,
)
from crm_warehouse.synth.basics import random_stream
from crm_warehouse.synth.personas import P_ANON


def choose_bad_customers(seed: int, personas: np.ndarray, cust_bad: dict[str, int]):
    """(class code per customer, variant per customer, sorted customers whose id is duplicated) for
    the bad customer-master classes, drawn among the identified (non-anonymous) customers."""
    rng_bad = random_stream(seed, 3)
    identified = np.flatnonzero(personas != P_ANON)
    need = cust_bad["duplicate_customer_id"] + cust_bad["invalid_consent_flag"] + cust_bad["invalid_created_date"]
    chosen = (
        rng_bad.choice(identified, size=min(need, len(identified)), replace=False) if need else np.zeros(0, np.int64)
    )
    cust_cls = np.zeros(len(personas), dtype=np.int8)
    cust_var = np.zeros(len(personas), dtype=np.int64)
    k1 = cust_bad["duplicate_customer_id"]
    k2 = k1 + cust_bad["invalid_consent_flag"]
    dup_cust = np.sort(chosen[:k1])
    cust_cls[chosen[k1:k2]] = 3
    cust_var[chosen[k1:k2]] = np.arange(k2 - k1)
    cust_cls[chosen[k2:]] = 4
    cust_var[chosen[k2:]] = np.arange(len(chosen) - k2)
    return cust_cls, cust_var, dup_cust


def spoiled_transaction_rows(rng, customer_block, inv, inv_next, want, refs, orphan_base, ref_counts):
    """The extra rows of one block: want[class] spoiled copies of random good lines per class, plus two
    lines for each bad product reference in refs (block 0 only). Returns ({column: array}, number of
    new invoices); adds the reference lines to ref_counts."""
    n = len(customer_block.qty)
    n_extra = sum(want.values()) + 2 * len(refs)
    src = rng.choice(n, size=n_extra, replace=n_extra > n)
    e_cls = np.concatenate(
        [np.full(want[c], i + 1, dtype=np.int8) for i, c in enumerate(TX_BAD_CLASSES)]
        + [np.full(2, r[1], dtype=np.int8) for r in refs]
    ).astype(np.int8)
    e_vr = np.concatenate([np.arange(want[c]) for c in TX_BAD_CLASSES] + [np.arange(2) for _ in refs]).astype(np.int64)
    e_inv = inv_next + np.arange(n_extra)
    e_cust = customer_block.cust[src].copy()
    e_prod = customer_block.prod[src].copy()
    e_qty = customer_block.qty[src].copy()
    e_rev = customer_block.rev[src].copy()
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
    extra = {
        "inv": e_inv,
        "cust": e_cust,
        "day": customer_block.day[src],
        "prod": e_prod,
        "qty": e_qty,
        "rev": e_rev,
        "store": customer_block.store[src],
        "sk": e_sk,
        "cls": e_cls,
        "vr": e_vr,
    }
    return extra, n_new_inv


def count_bad_transaction_rows(want, bad_tx, bad_tx_variants) -> None:
    """Add one block's spoiled rows to the summary's counts per class and per spoiled value."""
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
