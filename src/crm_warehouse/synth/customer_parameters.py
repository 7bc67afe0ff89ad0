"""Customers: personas and their buying parameters (all customers, vectorised), and the purchase
rates calibrated to the target number of lines."""

from __future__ import annotations

import numpy as np

from crm_warehouse.synth.basics import log_progress, random_stream
from crm_warehouse.synth.name_lists import CITIES, CITY_WEIGHTS, FIRST_NAMES, G_ANON_FIRST, LAST_NAMES
from crm_warehouse.synth.personas import (
    ANON_LINE_SHARE,
    ANON_SHARE,
    ONE_TIME_SECOND_GAP,
    P_ANON,
    P_BRONZE,
    P_CASUAL,
    P_DEVICE,
    P_DEVICE_FIRST,
    P_DIAMOND,
    P_EXTRA_OTHER_LINE,
    P_GOLD,
    P_LAPSER,
    P_NEWCOMER,
    P_ONE_TIME,
    P_ONE_TIME_SECOND,
    P_OTHER,
    P_PLATINUM,
    P_RETURN,
    P_RETURNER,
    P_SILVER,
    PERSONA_SHARES,
    PERSONAS,
    SCHEDULE_PERSONAS,
    SUB_TIER_P,
    T_BRONZE,
    T_DIAMOND,
    T_GOLD,
    T_PLATINUM,
    T_SILVER,
)
from crm_warehouse.synth.report_calendar import ReportCalendar


def aligned_count(a, b, phase, p):
    """number of months m in [a, b] with (m - phase) % p == 0 (0 where a < 0)."""
    a, b, phase, p = (np.asarray(x, dtype=np.int64) for x in (a, b, phase, p))
    first = a + (phase - a) % p
    cnt = np.where((a >= 0) & (first <= b), (b - first) // p + 1, 0)
    return cnt


def stratified_draw(rng, k: int, lo: int, hi: int) -> np.ndarray:
    """k values spread evenly over [lo, hi] (every value used when k >= hi - lo + 1), shuffled."""
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    span = hi - lo + 1
    v = lo + (np.arange(k) * span) // k
    return rng.permutation(v)


def draw_customer_parameters(
    n: int, cal: ReportCalendar, seed: int, n_stores: int, one_time_share: float = 0.0
) -> dict:
    """Personas and buying parameters of n customers. one_time_share (0: none, the default and the
    same draws as before the option existed) of the identified customers are one-time buyers; the
    persona shares apply to the rest."""
    rng = random_stream(seed, 2)
    n_report_months = cal.n_months
    n_anon = max(3, int(round(ANON_SHARE * n))) if n >= 20 else 1
    n_id = n - n_anon
    n_one = int(round(one_time_share * n_id)) if one_time_share > 0 else 0
    n_rest = n_id - n_one
    counts = {p: int(np.floor(s * n_rest)) for p, s in PERSONA_SHARES.items()}
    counts[P_CASUAL] = n_rest - sum(counts.values())
    counts[P_ANON] = n_anon
    if n_one:
        counts[P_ONE_TIME] = n_one
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
        start = np.concatenate(
            [np.zeros(k0, dtype=np.int64), stratified_draw(rng, len(idx) - k0, 1, n_report_months - 1)]
        )
        a1[idx] = rng.permutation(start)
        b1[idx] = n_report_months - 1
        ph1[idx] = a1[idx] % period[idx]
    # lapsers: last purchase month L spread over the whole history (Passive 6-11 months later, Lost 12 later)
    idx = np.flatnonzero(persona == P_LAPSER)
    L = stratified_draw(rng, len(idx), 0, max(0, n_report_months - 2))
    b1[idx] = L
    a1[idx] = np.maximum(0, L - rng.integers(0, 25, len(idx)))
    ph1[idx] = L % period[idx]
    # returners: buy until L, silent for 12+ months, come back in month R (Reactivated)
    idx = np.flatnonzero(persona == P_RETURNER)
    if n_report_months >= 14:
        R = stratified_draw(rng, len(idx), 13, n_report_months - 1)
        gap = (rng.random(len(idx)) * (np.minimum(6, R - 13) + 1)).astype(np.int64)
        L = R - 13 - gap
        b1[idx] = L
        a1[idx] = np.maximum(0, L - rng.integers(0, 13, len(idx)))
        ph1[idx] = L % period[idx]
        a2[idx] = R
        stay = rng.random(len(idx)) < 0.7
        b2[idx] = np.where(
            stay, n_report_months - 1, np.minimum(n_report_months - 1, R + rng.integers(0, 13, len(idx)))
        )
        ph2[idx] = R % period[idx]
    else:  # too short a history for a 13-month gap: behave as lapsers
        L = stratified_draw(rng, len(idx), 0, max(0, n_report_months - 2))
        b1[idx] = L
        a1[idx] = np.maximum(0, L - rng.integers(0, 25, len(idx)))
        ph1[idx] = L % period[idx]
    # newcomers: first purchase in one of the last 12 months (New), then keep buying
    idx = np.flatnonzero(persona == P_NEWCOMER)
    a1[idx] = stratified_draw(rng, len(idx), max(0, n_report_months - 12), n_report_months - 1)
    b1[idx] = n_report_months - 1
    ph1[idx] = a1[idx] % period[idx]
    # casual buyers (Poisson, rate set from --lines later)
    idx = np.flatnonzero(persona == P_CASUAL)
    k = len(idx)
    from_start = rng.random(k) < 0.4
    a = np.where(from_start, 0, rng.integers(0, n_report_months, k))
    stays = rng.random(k) < 0.7
    b = np.where(stays, n_report_months - 1, a + (rng.random(k) * (n_report_months - a)).astype(np.int64))
    a1[idx], b1[idx] = a, b
    rate[idx] = 0.6 + 0.8 * rng.random(k)  # relative rate, scaled later
    idx = np.flatnonzero(persona == P_ANON)
    a1[idx], b1[idx] = 0, n_report_months - 1
    rate[idx] = 0.7 + 0.6 * rng.random(len(idx))
    if n_one:  # one-time buyers: first invoice in any month (a1), a second one in b1 > a1 for some (cnt 2)
        idx = np.flatnonzero(persona == P_ONE_TIME)
        a1[idx] = rng.integers(0, n_report_months, n_one)
        second = (rng.random(n_one) < P_ONE_TIME_SECOND) & (a1[idx] < n_report_months - 1)
        b1[idx] = np.where(
            second, np.minimum(n_report_months - 1, a1[idx] + rng.integers(1, ONE_TIME_SECOND_GAP + 1, n_one)), a1[idx]
        )
        cnt[idx] = 1 + second

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


def calibrate_purchase_rates(
    customer_params: dict, n_report_months: int, target_lines: int
) -> tuple[float, float, float]:
    """Scale the Poisson rates of casual and walk-in customers so total lines ~ target.

    Returns (casual multiplier, anonymous multiplier, expected fixed lines)."""
    customer_personas = customer_params["persona"]
    sched = np.isin(customer_personas, SCHEDULE_PERSONAS)
    orders = (
        aligned_count(customer_params["a1"], customer_params["b1"], customer_params["ph1"], customer_params["period"])
        + aligned_count(customer_params["a2"], customer_params["b2"], customer_params["ph2"], customer_params["period"])
    ) * customer_params["cnt"]
    cap = np.maximum(1, customer_params["units"] // 150).astype(np.int64)
    ncore = np.zeros(len(customer_personas))
    for kk in (1, 2, 3):
        ncore += np.where(kk <= customer_params["kmax"], np.minimum(kk, cap), 0)
    ncore /= customer_params["kmax"]
    fixed = float(np.sum(np.where(sched, orders * (ncore + P_EXTRA_OTHER_LINE), 0)))
    fixed += float(np.sum(sched & (orders > 0))) * P_DEVICE_FIRST * 1.25
    fixed += (
        float(np.sum(customer_personas == P_DEVICE)) * 1.5 * 1.3
        + float(np.sum(customer_personas == P_OTHER)) * 2.5 * 1.5
    )
    fixed *= 1 + P_RETURN
    one_time = customer_personas == P_ONE_TIME  # casual-basket invoices, ~2 lines each
    fixed += float(np.sum(customer_params["cnt"][one_time])) * 2.0 * (1 + P_RETURN)
    months = np.where(customer_params["a1"] >= 0, customer_params["b1"] - customer_params["a1"] + 1, 0)
    cas = customer_personas == P_CASUAL
    anon = customer_personas == P_ANON
    cas_base = float(np.sum(customer_params["rate"][cas] * months[cas])) * (2.0 * (1 + P_RETURN) + 0.0)
    cas_base += float(np.sum(cas)) * P_DEVICE_FIRST * 1.25
    anon_base = float(np.sum(customer_params["rate"][anon] * months[anon])) * 2.5 * (1 + P_RETURN)
    anon_lines = ANON_LINE_SHARE * target_lines
    anon_mult = anon_lines / anon_base if anon_base > 0 else 0.0
    rest = target_lines - fixed - anon_lines
    cas_mult = rest / cas_base if cas_base > 0 else 0.0
    if cas_mult < 0.05:
        log_progress(
            f"warning: --lines {target_lines} is low for {customer_params['n']} customers over {n_report_months} months "
            f"(the steady personas alone make ~{int(fixed)} lines); the output will exceed the target"
        )
        cas_mult = 0.05
    return cas_mult, anon_mult, fixed
