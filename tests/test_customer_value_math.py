"""The customer value math (src/crm_warehouse/customer_value.py, used by the dbt Python models): formulas against
high-precision mpmath evaluations of the published expressions, the likelihood and its gradient,
recovery of known parameters from simulated data, and the convergence flag."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from crm_warehouse import customer_value as cv
from customer_value_reference import reference_fit_bg_nbd, reference_fit_gamma_gamma

mpmath.mp.dps = 40

# CDNOW BG/NBD estimates (Fader, Hardie & Lee 2005)
CDNOW = dict(r=0.242594, alpha=4.413602, a=0.792922, b=2.425907)


# --- reference implementations: the papers' expressions, evaluated at 40 digits -------------------


def reference_p_alive(model, r, alpha, a, b, x, t_x, T):
    r, alpha, a, b, x, t_x, T = map(mpmath.mpf, (r, alpha, a, b, x, t_x, T))
    if model == "bg_nbd":
        if x == 0:
            return mpmath.mpf(1)
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    else:
        odds = a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return 1 / (1 + odds)


def reference_expected(model, r, alpha, a, b, t, x, t_x, T):
    """FHL (2005) eq. 10 and its MBG/NBD counterpart, with the untransformed 2F1."""
    r, alpha, a, b, t, x, t_x, T = map(mpmath.mpf, (r, alpha, a, b, t, x, t_x, T))
    k = 0 if model == "bg_nbd" else 1
    c = a + b + x - 1 + k
    z = t / (alpha + T + t)
    hyp = mpmath.hyp2f1(r + x, b + x + k, c, z)
    bracket = c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return bracket * reference_p_alive(model, r, alpha, a, b, x, t_x, T)


def reference_log_likelihood(model, r, alpha, a, b, x, t_x, T):
    r, alpha, a, b, x, t_x, T = map(mpmath.mpf, (r, alpha, a, b, x, t_x, T))
    k = 0 if model == "bg_nbd" else 1
    beta = mpmath.beta
    common = mpmath.gamma(r + x) * alpha**r / mpmath.gamma(r)
    alive = beta(a, b + x + k) / beta(a, b) / (alpha + T) ** (r + x)
    if model == "bg_nbd":
        dead = beta(a + 1, b + x - 1) / beta(a, b) / (alpha + t_x) ** (r + x) if x > 0 else 0
    else:
        dead = beta(a + 1, b + x) / beta(a, b) / (alpha + t_x) ** (r + x)
    return mpmath.log(common * (alive + dead))


CUSTOMERS = [
    # (x, t_x, T): a one-time buyer, a buyer whose last purchase is today (t_x = T), a typical
    # CDNOW customer, a heavy buyer, a long-silent buyer
    (0, 0.0, 38.86),
    (3, 20.0, 20.0),
    (2, 30.43, 38.86),
    (60, 150.0, 156.0),
    (5, 10.0, 120.0),
]


@pytest.mark.parametrize("model", cv.MODELS)
@pytest.mark.parametrize("customer", CUSTOMERS)
def test_p_alive_and_expected_occasions_match_high_precision(model, customer):
    x, t_x, T = customer
    params = dict(r=0.8, alpha=6.0, a=0.6, b=3.5) if x >= 60 else CDNOW
    expected_p = float(reference_p_alive(model, *params.values(), x, t_x, T))
    assert cv.p_alive(model, *params.values(), x, t_x, T) == pytest.approx(expected_p, rel=1e-12)
    for t in (1.0, 13.0, 52.0):
        reference = float(reference_expected(model, *params.values(), t, x, t_x, T))
        assert cv.expected_occasions(model, *params.values(), t, x, t_x, T) == pytest.approx(reference, rel=1e-9)


def test_one_time_buyer_is_alive_under_bg_nbd_but_not_under_mbg_nbd():
    assert cv.p_alive("bg_nbd", *CDNOW.values(), 0, 0.0, 38.86) == 1.0
    assert cv.p_alive("mbg_nbd", *CDNOW.values(), 0, 0.0, 38.86) < 1.0
    # x = 0 and t_x = T: the same customer just bought for the first time: more likely alive
    assert cv.p_alive("mbg_nbd", *CDNOW.values(), 0, 0.0, 0.0) > cv.p_alive("mbg_nbd", *CDNOW.values(), 0, 0.0, 38.86)


def test_paper_conditional_expectation():
    # FHL (2005), section 5: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to make
    # 1.226 purchases in the next 39 weeks
    assert cv.expected_occasions("bg_nbd", *CDNOW.values(), 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


@pytest.mark.parametrize("model", cv.MODELS)
@pytest.mark.parametrize("a", [1.0, 1 + 1e-9, 1 - 1e-7, 1 + 5e-4, 1 - 9e-4])
def test_expected_occasions_near_a_equal_to_one(model, a):
    """1/(a - 1) is a removable singularity: the guarded value equals the limit, which mpmath gives
    at a = 1 +- 1e-20 (where the cancellation does not hurt 40 digits)."""
    params = dict(r=0.5, alpha=5.0, b=2.0)
    for x, t_x, T in CUSTOMERS[:3]:
        for t in (13.0, 52.0):
            target = a if abs(a - 1) > 1e-12 else 1 + mpmath.mpf("1e-20")
            reference = float(
                reference_expected(model, params["r"], params["alpha"], target, params["b"], t, x, t_x, T)
            )
            value = cv.expected_occasions(model, params["r"], params["alpha"], a, params["b"], t, x, t_x, T)
            assert np.isfinite(value)
            assert value == pytest.approx(reference, rel=1e-6)


def test_expected_occasions_is_zero_now_and_grows_with_time():
    times = np.array([0.0, 4.0, 13.0, 26.0, 52.0, 520.0])
    values = cv.expected_occasions("mbg_nbd", *CDNOW.values(), times, 2, 30.43, 38.86)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize("model", cv.MODELS)
def test_log_likelihood_and_gradient(model):
    x = np.array([0, 1, 2, 7, 30])
    t_x = np.array([0.0, 5.0, 30.43, 35.0, 38.0])
    T = np.array([38.86, 30.0, 38.86, 38.0, 38.5])
    weights = np.array([3.0, 1.0, 2.0, 1.0, 1.0])
    params = np.array(list(CDNOW.values()))
    reference = sum(
        w * float(reference_log_likelihood(model, *params, *row)) for w, row in zip(weights, zip(x, t_x, T))
    )
    value, grad = cv.log_likelihood(model, *params, x, t_x, T, weights, gradient=True)
    assert value == pytest.approx(reference, rel=1e-12)
    for index in range(4):
        step = np.zeros(4)
        step[index] = 1e-6 * params[index]
        numeric = (
            cv.log_likelihood(model, *(params + step), x, t_x, T, weights)
            - cv.log_likelihood(model, *(params - step), x, t_x, T, weights)
        ) / (2 * step[index])
        assert grad[index] == pytest.approx(numeric, rel=1e-6)


def test_gamma_gamma_log_likelihood_and_gradient():
    x = np.array([1, 2, 5, 20])
    m_x = np.array([10.0, 35.5, 22.0, 50.0])
    params = np.array([6.25, 3.74, 15.44])
    reference = 0.0
    for xi, mi in zip(x, m_x):
        p, q, gamma = map(mpmath.mpf, params)
        xi, mi = mpmath.mpf(int(xi)), mpmath.mpf(float(mi))
        reference += float(
            mpmath.log(
                mpmath.gamma(p * xi + q)
                / (mpmath.gamma(p * xi) * mpmath.gamma(q))
                * gamma**q
                * mi ** (p * xi - 1)
                * xi ** (p * xi)
                / (gamma + mi * xi) ** (p * xi + q)
            )
        )
    value, grad = cv.gamma_gamma_log_likelihood(*params, x, m_x, gradient=True)
    assert value == pytest.approx(reference, rel=1e-12)
    for index in range(3):
        step = np.zeros(3)
        step[index] = 1e-6 * params[index]
        numeric = (
            cv.gamma_gamma_log_likelihood(*(params + step), x, m_x)
            - cv.gamma_gamma_log_likelihood(*(params - step), x, m_x)
        ) / (2 * step[index])
        assert grad[index] == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("model", cv.MODELS)
@pytest.mark.parametrize("a", [CDNOW["a"], 1.0004])  # the second: interpolated near a = 1
def test_expected_occasions_curve_is_expected_occasions(model, a):
    """The scores' fast path (the bracket once per distinct (x, T)) gives exactly expected_occasions."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 2_000).astype(float)
    T = rng.integers(30, 40, 2_000) / 1.0
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, 2_000) * T), 0.0)
    params = dict(CDNOW, a=a)
    horizons = [4.3, 13.0, 52.0]
    curve = cv.expected_occasions_curve(model, *params.values(), horizons, x, t_x, T)
    assert len(np.unique(x + 1j * T)) < len(x) / 10  # the pairs really are shared
    for t, values in zip(horizons, curve):
        np.testing.assert_array_equal(values, cv.expected_occasions(model, *params.values(), t, x, t_x, T))


def test_discounted_occasions_by_hand():
    x, t_x, T = np.array([0, 2, 10]), np.array([0.0, 30.43, 50.0]), np.array([38.86, 38.86, 52.0])
    weeks = 365.25 / 12 / 7
    monthly = 1.10 ** (1 / 12) - 1
    discounted, cumulative = cv.discounted_occasions(
        "mbg_nbd", *CDNOW.values(), x, t_x, T, horizon_months=12, annual_discount_rate=0.10
    )
    for index in range(3):
        expected = [
            float(reference_expected("mbg_nbd", *CDNOW.values(), month * weeks, x[index], t_x[index], T[index]))
            for month in range(0, 13)
        ]
        by_hand = sum((expected[month] - expected[month - 1]) / (1 + monthly) ** month for month in range(1, 13))
        assert discounted[index] == pytest.approx(by_hand, rel=1e-9)
        assert cumulative[11][index] == pytest.approx(expected[12], rel=1e-9)
        assert cumulative[2][index] == pytest.approx(expected[3], rel=1e-9)
    # no discounting: the sum is the 12-month expectation; discounting lowers it
    undiscounted, cumulative = cv.discounted_occasions("mbg_nbd", *CDNOW.values(), x, t_x, T, 12, 0.0)
    np.testing.assert_allclose(undiscounted, cumulative[11], rtol=1e-12)
    assert np.all(discounted < undiscounted)


# --- recovery: data simulated from the model gives its parameters back ------------------------------

RECOVERY_CUSTOMERS = 100_000


@pytest.mark.parametrize("model", ["mbg_nbd"])
def test_fit_recovers_simulated_parameters(model):
    """100,000 customers observed for 1 to 3 years: every parameter within 10% (at this size the
    standard errors are about 1-4%). BG/NBD and Gamma-Gamma recovery are tested through the whole
    warehouse (tests/test_customer_value_recovery.py, the generator's --bgnbd-params); this adds
    MBG/NBD, and that the other model fits worse."""
    truth = dict(r=0.5, alpha=8.0, a=0.7, b=2.5)
    T = np.random.default_rng(1).uniform(52, 156, RECOVERY_CUSTOMERS)
    x, t_x, T = cv.simulate_bg_nbd(RECOVERY_CUSTOMERS, *truth.values(), T, seed=7, model=model)
    fitted = cv.fit_bg_nbd(x, t_x, T, model=model)
    assert fitted.converged and not fitted.at_bound
    for name, value in truth.items():
        assert fitted.params[name] == pytest.approx(value, rel=0.10), name
    # and the fit is not trivially the truth: another model's likelihood is lower at its own optimum
    other = "mbg_nbd" if model == "bg_nbd" else "bg_nbd"
    assert cv.fit_bg_nbd(x, t_x, T, model=other).log_likelihood < fitted.log_likelihood


def test_grouped_fit_equals_ungrouped_fit():
    x, t_x, T = cv.simulate_bg_nbd(20_000, **CDNOW, T=np.random.default_rng(3).integers(100, 273, 20_000) / 7, seed=3)
    t_x = np.round(t_x * 7) / 7  # whole days, as in the warehouse
    triples, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    assert len(triples) < len(x) / 2
    grouped = cv.fit_bg_nbd(triples[:, 0], triples[:, 1], triples[:, 2], counts, model="bg_nbd")
    ungrouped = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd")
    for name in CDNOW:
        assert grouped.params[name] == pytest.approx(ungrouped.params[name], rel=1e-5)
    assert grouped.log_likelihood == pytest.approx(ungrouped.log_likelihood, rel=1e-10)


def test_a_fit_that_runs_out_of_iterations_is_not_converged():
    x, t_x, T = cv.simulate_bg_nbd(2_000, **CDNOW, T=38.0, seed=5)
    assert cv.fit_bg_nbd(x, t_x, T, model="bg_nbd").converged
    stopped = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", max_iterations=2)
    assert not stopped.converged and "ITERATIONS" in stopped.message
    empty = cv.fit_bg_nbd([], [], [], model="mbg_nbd")
    assert not empty.converged and empty.customers == 0


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="pareto"):
        cv.p_alive("pareto", *CDNOW.values(), 1, 1.0, 2.0)


@pytest.mark.parametrize("model", cv.MODELS)
def test_degenerate_first_month_fit_still_scores(model):
    """A first month of data (every customer a few weeks old) can fit r and alpha in the tens of
    thousands; scipy's hyp2f1 gives up there and the high-precision fallback takes over."""
    params = (19065.447805, 52050.161579, 3.242125, 0.658565)
    x, t_x, T = np.array([0, 1, 2]), np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0, 4.0])
    values = cv.expected_occasions(model, *params, 52.0, x, t_x, T)
    assert np.all(np.isfinite(values))
    for index in range(3):
        reference = float(reference_expected(model, *params, 52.0, x[index], t_x[index], T[index]))
        assert values[index] == pytest.approx(reference, rel=1e-9)


# --- multi-start (issue 23): the best start every month, not the previous month's plateau ----------


def monthly_triples(params, customers=20_000, cohort_weeks=52.0, months=8, seed=1):
    """Prepared triples at the end of each of the first `months` months (4.35 weeks) of customers
    whose first purchases spread uniformly over `cohort_weeks` weeks and who then follow the BG/NBD
    process with `params`: the first months hold few, young customers with few repeat purchases,
    the trap of a warm start (the generator's default layout, see generate_data --bgnbd-params)."""
    rng = np.random.default_rng(seed)
    first = rng.uniform(0.0, cohort_weeks, customers)
    ends = [month * 52.0 / 12.0 for month in range(1, months + 1)]
    who, when = cv.simulate_bg_nbd_purchases(customers, *params, ends[-1] - first, seed=seed)
    prepared = []
    for end in ends:
        seen = first < end
        visible = when + first[who] <= end
        x = np.bincount(who[visible], minlength=customers).astype(float)
        t_x = np.zeros(customers)
        t_x[who[visible]] = when[visible]
        triples, counts = np.unique(
            np.column_stack([x[seen], np.ceil(t_x[seen] * 7) / 7, np.ceil((end - first[seen]) * 7) / 7]),
            axis=0,
            return_counts=True,
        )
        prepared.append(cv.prepare_triples(triples[:, 0], triples[:, 1], triples[:, 2], counts))
    return prepared


def chain(prepared, model, starts):
    """Each month's fit started as the warehouse does: the previous month's fit (when it converged
    inside the bounds) and the given starts."""
    previous, fits = None, []
    for data in prepared:
        wanted = starts if previous is not None else tuple(name for name in starts if name != cv.START_PREVIOUS)
        fit = cv.fit_bg_nbd(model=model, data=data, previous=previous, starts=wanted or (cv.START_COLD,))
        fits.append(fit)
        previous = (
            [fit.params[name] for name in ("r", "alpha", "a", "b")] if fit.converged and not fit.at_bound else None
        )
    return fits


@pytest.fixture(scope="module")
def trap_months():
    return monthly_triples((0.25, 4.4, 0.8, 2.4))


@pytest.mark.parametrize("model", cv.MODELS)
def test_every_month_is_at_least_the_best_of_random_starts(trap_months, model):
    for month, (data, fit) in enumerate(zip(trap_months, chain(trap_months, model, cv.STARTS)), start=1):
        assert fit.converged, (month, fit.message)
        reference = reference_fit_bg_nbd(model, data)
        assert fit.log_likelihood >= reference.log_likelihood - 0.01, (month, fit.params, reference.params)
        assert fit.start in cv.STARTS and fit.starts_tried >= 2


def test_a_warm_start_alone_stays_on_the_plateau(trap_months):
    """The old strategy (the previous month's fit as the only start) on the same data: the first
    month sits on the no-drop-out plateau and later months stay there, tens to hundreds of
    log-likelihood points below the best start; what the test above would catch."""
    warm_only = chain(trap_months, "bg_nbd", (cv.START_PREVIOUS,))
    best = chain(trap_months, "bg_nbd", cv.STARTS)
    # month 1 (customers weeks old): the plateau is a maximum of the three main starts, so the grid runs
    assert warm_only[0].on_dropout_plateau and best[0].starts_tried > 3
    gaps = [good.log_likelihood - stuck.log_likelihood for good, stuck in zip(best, warm_only)]
    assert max(gaps) > 100, gaps
    assert all(stuck.on_dropout_plateau for stuck in warm_only[:4])
    assert not any(good.on_dropout_plateau for good in best[2:])


def test_start_choice_keeps_the_earlier_start_on_a_tie_and_names_the_winner():
    x, t_x, T = cv.simulate_bg_nbd(5_000, **CDNOW, T=38.0, seed=11)
    cold = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", starts=(cv.START_COLD,))
    # started at its own optimum, the previous month's start reaches the same maximum: kept (first);
    # the two agree, so the moment-based start is not needed
    both = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", previous=list(cold.params.values()))
    assert both.start == cv.START_PREVIOUS and both.starts_tried == 2
    assert both.log_likelihood == pytest.approx(cold.log_likelihood, abs=1e-6)
    # a previous-month start on the plateau loses to the cold start
    stuck = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", previous=[0.3, 4.0, 1e-4, 8000.0], starts=(cv.START_PREVIOUS,))
    escaped = cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", previous=[0.3, 4.0, 1e-4, 8000.0])
    assert escaped.log_likelihood > stuck.log_likelihood + 1.0
    assert escaped.start != cv.START_PREVIOUS and not escaped.on_dropout_plateau
    with pytest.raises(ValueError, match="no start to run"):
        cv.fit_bg_nbd(x, t_x, T, model="bg_nbd", starts=(cv.START_PREVIOUS,))


def test_gamma_gamma_is_the_best_of_its_starts():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 8, 3_000).astype(float)
    nu = rng.gamma(4.0, 1.0 / 15.0, x.size)
    m_x = rng.gamma(6.0 * x, 1.0 / (nu * x))
    best = cv.fit_gamma_gamma(x, m_x, previous=[50.0, 0.5, 0.01])
    assert best.converged and best.start in cv.STARTS and best.starts_tried >= 2
    assert best.log_likelihood >= reference_fit_gamma_gamma(x, m_x, np.ones_like(x)).log_likelihood - 0.01
    assert best.on_dropout_plateau is None


def test_a_start_climbing_to_an_earlier_maximum_stops_there():
    x, t_x, T = cv.simulate_bg_nbd(5_000, **CDNOW, T=38.0, seed=12)
    alone = cv.fit_bg_nbd(x, t_x, T, model="mbg_nbd", starts=(cv.START_COLD,))
    data = cv.prepare_triples(x, t_x, T)
    scale = 1.0 / data.total_weight
    joins = (np.log(list(alone.params.values())), alone.log_likelihood * scale)

    def objective(params):
        value, grad = cv._log_likelihood("mbg_nbd", *params, data, gradient=True)
        return value * scale, grad * scale

    start = np.array([1.0, float(np.mean(T)), 1.0, 1.0])
    *_, iterations, message, _, joined = cv._minimise(objective, start, ("r", "alpha", "a", "b"), 2000, joins)
    assert joined and "joined" in message and iterations < alone.iterations
    # the full multi-start: the previous month's start at the maximum wins, the later ones join it
    best = cv.fit_bg_nbd(x, t_x, T, model="mbg_nbd", previous=list(alone.params.values()))
    assert best.start == cv.START_PREVIOUS and best.log_likelihood == pytest.approx(alone.log_likelihood, abs=1e-6)


def test_the_climbing_sample_is_fixed_and_estimates_the_whole_likelihood(trap_months):
    data = trap_months[-1]
    assert len(data.x) >= cv.SAMPLE_MIN_TRIPLES
    sample = data.sample()
    assert sample is data.sample()  # prepared once, shared by both models and every start
    assert abs(len(sample.x) - cv.SAMPLE_SHARE * len(data.x)) < 0.1 * cv.SAMPLE_SHARE * len(data.x)
    again = cv.prepare_triples(data.x, data.t_x, data.T, data.w).sample()
    np.testing.assert_array_equal(again.x, sample.x)
    np.testing.assert_array_equal(again.w, sample.w)
    # the heaviest triples are all kept with their own weight; the weights add up to about the whole
    heaviest = data.w >= np.sort(data.w)[-20]
    assert np.isin(data.w[heaviest], sample.w).all()
    assert sample.total_weight == pytest.approx(data.total_weight, rel=0.05)
    whole = cv._log_likelihood("bg_nbd", *CDNOW.values(), data) / data.total_weight
    estimate = cv._log_likelihood("bg_nbd", *CDNOW.values(), sample) / sample.total_weight
    assert estimate == pytest.approx(whole, rel=0.1)  # an estimate: close enough to climb on
    small = cv.prepare_triples([1.0, 2.0], [1.0, 2.0], [3.0, 4.0])
    assert small.sample() is None  # below SAMPLE_MIN_TRIPLES every start climbs on the triples themselves


def test_the_sample_threshold_gives_the_wanted_size():
    """_weighted_sample keeps row i with probability min(1, w_i / c), c solved so that the
    probabilities add up to SAMPLE_SHARE of the rows, also when a few rows are far heavier than the
    rest (those are kept with their own weight, every other row is weighted c)."""
    rng = np.random.default_rng(4)
    for w in (
        np.ones(5_000),
        np.concatenate([rng.integers(1, 3, 30_000), [5_000, 300, 20]]),
        rng.pareto(1.0, 20_000) + 1,
    ):
        w = np.asarray(w, dtype=float)
        keep, weights = cv._weighted_sample(w)
        certain = weights == w[keep]
        c = float(np.max(weights[~certain]))
        assert np.allclose(weights[~certain], c)
        assert np.sum(np.minimum(1.0, w / c)) == pytest.approx(cv.SAMPLE_SHARE * len(w), rel=1e-9)
        assert np.all(w[keep][certain] >= c * (1 - 1e-12))


def test_later_starts_that_join_on_the_sample_take_no_step_on_all_the_triples(trap_months, monkeypatch):
    """The previous month's start at this month's maximum: the cold start climbs on the sample until it
    joins the sample's maximum next to it and stops there; on all the triples it costs one likelihood
    value (no gradient step), the same fit wins (the two agree: the moment start is not run)."""
    data = trap_months[-1]
    alone = cv.fit_bg_nbd(model="bg_nbd", data=data, starts=(cv.START_COLD,))
    previous = list(alone.params.values())
    calls = []
    original = cv._log_likelihood

    def counting(model, r, alpha, a, b, prepared, gradient=False):
        if prepared is data:
            calls.append(gradient)
        return original(model, r, alpha, a, b, prepared, gradient)

    monkeypatch.setattr(cv, "_log_likelihood", counting)
    only_previous = cv.fit_bg_nbd(model="bg_nbd", data=data, previous=previous, starts=(cv.START_PREVIOUS,))
    steps_previous = calls.count(True)
    calls.clear()
    best = cv.fit_bg_nbd(model="bg_nbd", data=data, previous=previous)
    assert best.start == cv.START_PREVIOUS and best.starts_tried == 2
    assert best.log_likelihood == only_previous.log_likelihood
    assert calls.count(True) == steps_previous and calls.count(False) == 1


def test_runs_on_the_no_dropout_plateau_join_on_r_and_alpha():
    names = ("r", "alpha", "a", "b")
    plateau = np.log([0.7, 20.0, 1e-4, 6000.0])
    elsewhere_on_it = np.log([0.71, 20.3, 1e-2, 900.0])  # a / (a + b) = 1.1e-5: on the plateau too
    assert cv._same_maximum(elsewhere_on_it, plateau, names)
    # off the plateau, a and b count: a drop-out probability of 0.2 is another maximum
    assert not cv._same_maximum(np.log([0.71, 20.3, 1.0, 4.0]), plateau, names)
    assert not cv._same_maximum(np.log([0.9, 20.3, 1e-2, 900.0]), plateau, names)  # r 25% away
    # within JOIN_DISTANCE in every parameter anywhere; Gamma-Gamma has no plateau
    assert cv._same_maximum(np.log([0.71, 20.3, 1.0, 4.0]), np.log([0.7, 20.0, 1.02, 4.1]), names)
    assert not cv._same_maximum(np.log([6.0, 4.0, 900.0]), np.log([6.0, 4.0, 15.0]), ("p", "q", "gamma"))
