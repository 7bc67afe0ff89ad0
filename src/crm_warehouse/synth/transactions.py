"""The transaction lines of one block of customers (TransactionBlock)."""

from __future__ import annotations

import numpy as np

from crm_warehouse.synth.name_lists import G_ONLINE
from crm_warehouse.synth.personas import (
    C_ACCESSORY,
    C_CONSUMABLE,
    P_ANON,
    P_CASUAL,
    P_DEVICE,
    P_DEVICE_FIRST,
    P_EXTRA_OTHER_LINE,
    P_ONE_TIME,
    P_OTHER,
    P_RETURN,
    PACKS,
    SCHEDULE_PERSONAS,
)
from crm_warehouse.synth.report_calendar import ReportCalendar


class TransactionBlock:
    """Builds the invoice lines of customers [lo, hi)."""

    def __init__(self, customer_params, lo, hi, cal: ReportCalendar, prod, rng, cas_mult, anon_mult, n_stores):
        self.cp, self.lo, self.hi, self.cal, self.prod, self.rng = customer_params, lo, hi, cal, prod, rng
        self.n_stores = n_stores
        nb = hi - lo
        sl = slice(lo, hi)
        personas = customer_params["persona"][sl]
        M = cal.n_months
        months = np.arange(M)
        # ---- order lists: (local customer, day) and the kind of lines they get
        o_cust, o_day, o_kind = [], [], []  # kind: 0 schedule, 1 casual, 2 anonymous, 3 device, 4 other
        # schedule personas: exact rhythm
        s_idx = np.flatnonzero(np.isin(personas, SCHEDULE_PERSONAS))
        if len(s_idx):
            customer_index = lo + s_idx
            p = customer_params["period"][customer_index][:, None]
            in_first_window = (
                (months >= customer_params["a1"][customer_index][:, None])
                & (months <= customer_params["b1"][customer_index][:, None])
                & ((months - customer_params["ph1"][customer_index][:, None]) % p == 0)
            )
            in_second_window = (
                (months >= customer_params["a2"][customer_index][:, None])
                & (months <= customer_params["b2"][customer_index][:, None])
                & ((months - customer_params["ph2"][customer_index][:, None]) % p == 0)
            )
            counts = (in_first_window | in_second_window) * customer_params["cnt"][customer_index][:, None]
            ci, mi = np.nonzero(counts)
            reps = counts[ci, mi]
            oc, om = np.repeat(s_idx[ci], reps), np.repeat(mi, reps)
            o_cust.append(oc)
            o_day.append(cal.month_start[om] + (rng.random(len(om)) * cal.month_len[om]).astype(np.int64))
            o_kind.append(np.zeros(len(oc), dtype=np.int8))
        # Poisson buyers
        for kind, pp, mult in ((1, P_CASUAL, cas_mult), (2, P_ANON, anon_mult)):
            p_idx = np.flatnonzero(personas == pp)
            if not len(p_idx):
                continue
            customer_index = lo + p_idx
            in_buying_window = (months >= customer_params["a1"][customer_index][:, None]) & (
                months <= customer_params["b1"][customer_index][:, None]
            )
            expected_orders = (
                (customer_params["rate"][customer_index] * mult)[:, None]
                * in_buying_window
                * (cal.month_len / 30.4)[None, :]
            )
            counts = rng.poisson(expected_orders)
            ci, mi = np.nonzero(counts)
            reps = counts[ci, mi]
            oc, om = np.repeat(p_idx[ci], reps), np.repeat(mi, reps)
            o_cust.append(oc)
            o_day.append(cal.month_start[om] + (rng.random(len(om)) * cal.month_len[om]).astype(np.int64))
            o_kind.append(np.full(len(oc), kind, dtype=np.int8))
        # device-only and accessories/spare-parts-only customers
        span = cal.end_day - cal.start_day + 1
        for kind, pp, lo_n, hi_n in ((3, P_DEVICE, 1, 2), (4, P_OTHER, 1, 4)):
            p_idx = np.flatnonzero(personas == pp)
            k = rng.integers(lo_n, hi_n + 1, len(p_idx))
            oc = np.repeat(p_idx, k)
            o_cust.append(oc)
            o_day.append(cal.start_day + (rng.random(len(oc)) * span).astype(np.int64))
            o_kind.append(np.full(len(oc), kind, dtype=np.int8))
        # one-time buyers (only with --one-time-share): an invoice in month a1, a second in b1 (cnt 2),
        # with the casual buyers' basket (kind 1)
        p_idx = np.flatnonzero(personas == P_ONE_TIME)
        if len(p_idx):
            customer_index = lo + p_idx
            second = customer_params["cnt"][customer_index] > 1
            om = np.concatenate([customer_params["a1"][customer_index], customer_params["b1"][customer_index][second]])
            om = om.astype(np.int64)
            oc = np.concatenate([p_idx, p_idx[second]])
            o_cust.append(oc)
            o_day.append(cal.month_start[om] + (rng.random(len(om)) * cal.month_len[om]).astype(np.int64))
            o_kind.append(np.ones(len(oc), dtype=np.int8))
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
            has_core & (rng.random(nb) < P_DEVICE_FIRST) & np.isin(personas, SCHEDULE_PERSONAS + (P_CASUAL,))
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
        grp = customer_params["group"][lo + o_cust]
        rs = rng.random(n_orders)
        empty_p = np.where(grp == G_ONLINE, 0.5, 0.02)
        o_store = np.where(
            rs < empty_p,
            -1,
            np.where(
                rs < empty_p + 0.08, rng.integers(1, n_stores + 1, n_orders), customer_params["home"][lo + o_cust]
            ),
        )
        walk_in = customer_params["persona"][lo + o_cust] == P_ANON  # a walk-in account belongs to one store
        o_store[walk_in] = customer_params["home"][lo + o_cust[walk_in]]
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
        rng, prod, customer_params, lo = self.rng, self.prod, self.cp, self.lo
        parts = []
        # schedule orders: core lines sized to the customer's units personas order
        s = np.flatnonzero(o_kind == 0)
        if len(s):
            customer_index = lo + o_cust[s]
            u = customer_params["units"][customer_index]
            cap = np.maximum(1, (u // 150).astype(np.int64))
            ncore = np.minimum(rng.integers(1, customer_params["kmax"][customer_index] + 1), cap)
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
        # a product at most once personas invoice: re-draw colliding lines in the same group, drop leftovers
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
