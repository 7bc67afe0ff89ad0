"""Buy-till-you-die customer value models (SPEC section 9): BG/NBD, MBG/NBD and Gamma-Gamma.

One home for the math: the dbt Python models `int_customer_value__model_fits` and
`int_customer_value__scores` import this module (the package `crm_warehouse`, installed editable into
the project's .venv) and so do the tests (tests/test_customer_value_math.py); what the models share
besides the math is crm_warehouse.value_models.

Units: `x` = repeat occasions, `t_x` (recency) and `T` (age) in weeks. Every fit works on grouped
inputs: one row per distinct (x, t_x, T) triple (or (x, m_x) pair) with the number of customers
as its weight, so a million customers cost what a few hundred thousand triples cost.

References
- Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2) (BG/NBD; likelihood eq. 6, P(alive) eq. 13,
  conditional expectation eq. 10).
- Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
  customer base analysis", IJRM 24(3) (MBG/NBD: a customer may also drop out right after the
  first purchase).
- Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
  JMR 42(4) (Gamma-Gamma spend model).

Numerics
- Log-likelihoods use gammaln / betaln and a softplus of the log odds dead : alive; gradients are
  analytic; parameters are optimised on the log scale (all are positive) with L-BFGS-B. The BG/NBD
  likelihood sums the terms of x alone per distinct x and the "alive" terms per distinct T; only the
  drop-out term is evaluated per triple, where it exists (_Triples.dropout).
- The conditional expectation uses Euler's transformation
  2F1(r+x, b+x+k; C; z) (1-z)^(r+x) = (1-z)^(a-1) 2F1(C-r-x, a-1; C; z), C = a+b+x-1+k,
  so that the large argument x only enters C, where it speeds up the series instead of making
  it overflow (scipy.special.hyp2f1 is then accurate; the tests compare it with mpmath).
- The expectation has the factor 1/(a-1), a removable 0/0 at a = 1: within A_NEAR_ONE of 1 it is
  interpolated linearly between a = 1 - A_NEAR_ONE and a = 1 + A_NEAR_ONE (error O(A_NEAR_ONE^2)).
- BLAS is limited to one thread from the first fit on, for the rest of the process (threadpoolctl):
  multi-threaded BLAS made small fits 10-30x slower on a shared machine, and lifting the limit after
  each fit woke OpenBLAS's spinning threads again each time.
"""

from __future__ import annotations

import contextlib
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # effective only when numpy is not imported yet

from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize, special  # noqa: E402
from threadpoolctl import ThreadpoolController  # noqa: E402

MODELS = ("bg_nbd", "mbg_nbd")
A_NEAR_ONE = 1e-3
WEEKS_PER_MONTH = 365.25 / 12 / 7
# log-parameter bounds: keep exp() finite and the optimiser away from degenerate corners
LOG_BOUNDS = (-12.0, 12.0)
MAX_ITERATIONS = 2000
# largest projected gradient of the mean log-likelihood (log parameters) accepted as converged when
# the line search stops without progress: at 1e-3 per customer the parameters are within about 0.1%
# of the optimum, far inside their standard errors (a ridge with no finite maximum, e.g. a
# Gamma-Gamma fit on perfectly regular spend where p -> infinity, stops that way)
GRADIENT_TOLERANCE = 1e-3


# Multi-start (issue 23). Every fit runs from each of these starts and keeps the one with the highest
# log-likelihood (fit.start names it): a warm start alone (the previous month's fit) stays on the
# flat "no drop-out" plateau (a -> 0, b -> infinity) once a month's fit sits there, even when the
# data of later months show drop-out (the full CDNOW master, 1997-02 to 1997-06: 36 to 755
# log-likelihood points below the maximum).
START_PREVIOUS = "previous_month"  # the previous report month's fit of the same model, when usable
START_COLD = "cold"  # fixed: r = 1, alpha = mean T, a = b = 1 (Gamma-Gamma: p = q = 1, gamma = mean spend)
START_MOMENTS = "moments"  # from the month's data: mean repeat rate (Gamma-Gamma: mean and variance of spend);
# run only when the previous month's and the cold start disagree, one is degenerate or one is missing
# When those starts disagree (reach maxima more than STARTS_AGREE_WITHIN apart) or any of them ends
# degenerate (on the no-drop-out plateau or with a parameter at its bound), the likelihood has several
# maxima or flat corners (typically in the first months of data, where every customer is weeks old):
# a grid of fixed starts (GRID_STARTS_*) is tried too. Where all agree on a regular maximum (every
# month of CDNOW from 1997-02 on), the grid costs nothing
START_GRID = "grid"
STARTS = (START_PREVIOUS, START_COLD, START_MOMENTS, START_GRID)
# Two starts whose log-likelihoods differ by less than this (or by a relative 1e-9) reached the same
# maximum: a later start replaces the best so far only when higher by more, so starts that agree keep
# the earlier one (previous month first: fewer jumps of the parameters from month to month, and no
# jump between the equally flat corners of a plateau)
STARTS_AGREE_WITHIN = 1e-3
# A start whose run comes within this distance (log parameters: 5% in each) of an earlier start's
# maximum, below its likelihood, is climbing to the same maximum: it stops there (after the climb on
# the sample below, the exact steps of a later start usually join at once)
JOIN_DISTANCE = 5e-2
# Every start but the previous month's first climbs on a fixed weighted sample of the triples
# (_Triples.sample: about an eighth of them, when there are at least SAMPLE_MIN_TRIPLES), then from
# where that stopped on all of them: the long way from a far start costs an eighth, and the last
# steps, on the exact likelihood, usually join the previous month's maximum at once
SAMPLE_SHARE = 0.125
SAMPLE_MIN_TRIPLES = 4000
SAMPLE_SEED = 20231
# r, alpha as a share of the mean T, a, b; the last pairs aim at the corners seen in young data:
# a, b -> 0 (drop out at once or never) and r, alpha -> infinity (no spread of purchase rates)
GRID_STARTS_BG_NBD = (
    (2.0, 1.0, 0.3, 1.0),
    (20.0, 1.0, 0.02, 0.02),
    (0.1, 0.1, 0.02, 0.02),
    (0.5, 0.1, 3.0, 3.0),
)
# p, q, and gamma as a multiple of the mean spend
GRID_STARTS_GAMMA_GAMMA = ((0.5, 2.0, 0.5), (2.0, 5.0, 2.0), (10.0, 2.0, 0.1), (10.0, 20.0, 2.0))
# BG/NBD, MBG/NBD: a fit whose mean drop-out probability per purchase a / (a + b) is below this sits on
# the "no drop-out" plateau (fewer than one drop-out per 10,000 purchases; the likelihood is flat
# towards a -> 0, b -> infinity). Kept as the fit only when no start did better (flag no_dropout_plateau)
PLATEAU_DROPOUT_PROBABILITY = 1e-4


_BLAS_LIMIT = []


def _one_blas_thread():
    """Limits BLAS to one thread, for the rest of the process, on the first fit (threadpoolctl): the
    fits' vectors are small, where BLAS threads only cost (10-30x slower fits on a shared machine),
    and a limit lifted after each fit woke OpenBLAS's threads again each time (their spinning doubled
    the CPU time of the fits). Returns a context manager for the `with` of the callers."""
    if not _BLAS_LIMIT:
        _BLAS_LIMIT.append(ThreadpoolController().limit(limits=1))
    return contextlib.nullcontext()


@dataclass
class Fit:
    model: str
    params: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int
    message: str
    at_bound: bool = False
    start: str | None = None  # which start won (STARTS); None when there was nothing to fit
    starts_tried: int = 0
    joined: bool = False  # stopped on its way to an earlier start's maximum (_minimise's joins)

    @property
    def degenerate(self) -> bool:
        """On the no-drop-out plateau or with a parameter at its bound: the grid starts are tried."""
        return bool(not self.joined and (self.at_bound or self.on_dropout_plateau))

    @property
    def on_dropout_plateau(self) -> bool | None:
        """BG/NBD, MBG/NBD: the fit says practically nobody drops out (PLATEAU_DROPOUT_PROBABILITY);
        None for Gamma-Gamma and for a month with nothing to fit."""
        if self.model not in MODELS:
            return None
        a, b = self.params.get("a"), self.params.get("b")
        if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
            return None
        return bool(a / (a + b) < PLATEAU_DROPOUT_PROBABILITY)


def _as_arrays(*arrays):
    return [np.asarray(array, dtype=float) for array in arrays]


def _dropout_shift(model: str) -> int:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}: expected one of {', '.join(MODELS)}")
    return 1 if model == "mbg_nbd" else 0


# ---------------------------------------------------------------------------------------------
# BG/NBD and MBG/NBD
# ---------------------------------------------------------------------------------------------


def _log_dropout_odds(r, alpha, a, b, x, t_x, T, k):
    """log of a/(b+x-1+k) * ((alpha+T)/(alpha+t_x))^(r+x); -inf where the term does not exist
    (BG/NBD, x = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = b + x - 1 + k
        result = np.log(a) - np.log(denominator) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    if k == 0:
        result = np.where(x > 0, result, -np.inf)
    return result


class _DropoutTerms:
    """The triples of one model's drop-out term, sorted by x: indices into the distinct T and t_x,
    weights and their logs, and how many triples each distinct x has (terms of x are repeated, not
    gathered, and summed per x by reduceat, not bincount: both faster on sorted runs)."""

    def __init__(self, index, index_T, index_t_x, w, distinct_x):
        order = np.argsort(index, kind="stable")
        self.index_T, self.index_t_x, self.w = index_T[order], index_t_x[order], w[order]
        with np.errstate(divide="ignore"):
            self.log_w = np.log(self.w)
        self.counts_x = np.bincount(index, minlength=distinct_x)
        self.present_x = self.counts_x > 0
        self.run_starts = (np.cumsum(self.counts_x) - self.counts_x)[self.present_x]

    def repeat(self, per_x):
        return np.repeat(per_x, self.counts_x)

    def sum_by_x(self, values):
        result = np.zeros(len(self.counts_x))
        if len(values):
            result[self.present_x] = np.add.reduceat(values, self.run_starts)
        return result


class _Triples:
    """Fit data prepared once per fit: the terms that depend only on x (gammaln, betaln, digamma)
    are evaluated once per distinct x and weighted by that x's total weight; the terms that depend
    only on T (the "alive" part -(r + x) log(alpha + T)) once per distinct T with the weights and
    weighted x of that T; the drop-out term, the only one left per triple, only on the triples where
    it exists (_Triples.dropout)."""

    def __init__(self, x, t_x, T, weights=None):
        self.x, self.t_x, self.T = _as_arrays(x, t_x, T)
        self.w = np.ones_like(self.x) if weights is None else np.asarray(weights, dtype=float)
        self.unique_x, self.index = np.unique(self.x, return_inverse=True)
        self.weight_x = np.bincount(self.index, weights=self.w, minlength=len(self.unique_x))
        self.total_weight = float(np.sum(self.w))
        # t_x and T take few distinct values (whole days): logs and reciprocals are evaluated once per
        # distinct value and gathered (the same numbers, a fraction of the work)
        self.unique_T, self.index_T = np.unique(self.T, return_inverse=True)
        self.unique_t_x, self.index_t_x = np.unique(self.t_x, return_inverse=True)
        self.weight_T = np.bincount(self.index_T, weights=self.w, minlength=len(self.unique_T))
        self.weight_x_T = np.bincount(self.index_T, weights=self.w * self.x, minlength=len(self.unique_T))
        self._dropout = {}
        self._sample = None

    def dropout(self, k: int) -> _DropoutTerms:
        """The triples that have a drop-out term: x >= 1 (BG/NBD, k = 0), all (MBG/NBD, k = 1)."""
        if k not in self._dropout:
            keep = slice(None) if k == 1 else self.x > 0
            self._dropout[k] = _DropoutTerms(
                self.index[keep], self.index_T[keep], self.index_t_x[keep], self.w[keep], len(self.unique_x)
            )
        return self._dropout[k]

    def sample(self) -> _Triples | None:
        """The fixed weighted sample of the triples that later starts climb on (_weighted_sample)."""
        if self._sample is None:
            sampled = _weighted_sample(self.w)
            if sampled is not None:
                keep, weights = sampled
                self._sample = _Triples(self.x[keep], self.t_x[keep], self.T[keep], weights)
        return self._sample


def _weighted_sample(w):
    """(kept, their weights) of a fixed weighted sample of about SAMPLE_SHARE of the rows with weights
    w (None below SAMPLE_MIN_TRIPLES rows): row i is kept with probability p_i = min(1, w_i / c), c set
    so that the p_i add up to the sample's size, and weighted w_i / p_i, so its log-likelihood
    estimates the whole one without bias and the heavy rows (the many customers with x = 0) are all
    kept. The random draws come from a fixed seed: the same rows give the same sample."""
    if len(w) < SAMPLE_MIN_TRIPLES:
        return None
    target = SAMPLE_SHARE * len(w)
    # with the weights in falling order, the k heaviest kept for sure (w >= c) and the rest with w / c:
    # k + rest_k / c = target gives c = rest_k / (target - k), valid where it lies between the k-th
    # and the (k+1)-th weight (the smallest such k; the expected size falls as c grows)
    heaviest = np.sort(w)[::-1]
    rest = np.cumsum(heaviest[::-1])[::-1]  # rest[k] = sum of heaviest[k:]
    capped = np.arange(int(np.ceil(target)))
    candidates = rest[capped] / (target - capped)
    upper = np.concatenate([[np.inf], heaviest[:-1]])[capped]
    valid = (candidates >= heaviest[capped]) & (candidates <= upper)
    found = np.flatnonzero(valid)
    c = float(candidates[found[0] if len(found) else 0])  # any c > 0 gives an unbiased sample
    probability = np.minimum(1.0, w / c)
    keep = np.random.default_rng(SAMPLE_SEED).random(len(w)) < probability
    return keep, w[keep] / probability[keep]


def log_likelihood(model, r, alpha, a, b, x, t_x, T, weights=None, gradient=False):
    """Sum of the (weighted) individual log-likelihoods; with gradient=True also
    d/d(r, alpha, a, b)."""
    return _log_likelihood(model, r, alpha, a, b, _Triples(x, t_x, T, weights), gradient)


def _log_likelihood(model, r, alpha, a, b, data, gradient=False):
    k = _dropout_shift(model)
    ux, weight_x = data.unique_x, data.weight_x
    s_x = r + ux
    denominator_x = b + ux - 1 + k
    safe_denominator_x = np.where(denominator_x > 0, denominator_x, 1.0)
    log_a_term_x = np.log(a) - np.log(safe_denominator_x)
    log_alpha = np.log(alpha)
    log_alpha_T = np.log(alpha + data.unique_T)
    log_alpha_t_x = np.log(alpha + data.unique_t_x)
    # each customer's likelihood is the "alive at T" term e^log_alive, log_alive = -(r + x) log(alpha + T)
    # (+ terms of x alone), plus, where a drop-out after the last purchase exists, e^log_dead; with
    # d = log_dead - log_alive (the log odds dead : alive), log(e^log_alive + e^log_dead) =
    # log_alive + softplus(d) and the dead share is expit(d), both from one exp. The alive terms add
    # up per distinct T; only softplus(d) is evaluated per triple
    terms = data.dropout(k)
    spread = log_alpha_T[terms.index_T]
    spread -= log_alpha_t_x[terms.index_t_x]  # log((alpha + T) / (alpha + t_x)) >= 0
    s = terms.repeat(s_x)
    d = s * spread
    d += terms.repeat(log_a_term_x)
    softplus = np.abs(d)
    np.negative(softplus, out=softplus)
    np.exp(softplus, out=softplus)  # exp(-|d|), in (0, 1]
    np.log1p(softplus, out=softplus)
    softplus += np.maximum(d, 0.0)
    per_x = (
        special.gammaln(s_x) - special.gammaln(r) + r * log_alpha + special.betaln(a, b + ux + k) - special.betaln(a, b)
    )
    alive = -(r * np.dot(data.weight_T, log_alpha_T) + np.dot(data.weight_x_T, log_alpha_T))
    total = float(np.dot(weight_x, per_x) + alive + np.dot(terms.w, softplus))
    if not gradient:
        return total
    # w * expit(d) = exp(d - softplus(d) + log w): no branch per triple (np.where costs 5 exps here)
    weighted_dead = d - softplus
    weighted_dead += terms.log_w
    np.exp(weighted_dead, out=weighted_dead)
    reciprocal_T = 1.0 / (alpha + data.unique_T)
    reciprocal_t_x = 1.0 / (alpha + data.unique_t_x)
    digamma = special.digamma
    d_r = (
        np.dot(weight_x, digamma(s_x) - digamma(r) + log_alpha)
        - np.dot(data.weight_T, log_alpha_T)
        + np.dot(weighted_dead, spread)
    )
    # d spread / d alpha = 1 / (alpha + T) - 1 / (alpha + t_x)
    spread_slope = reciprocal_T[terms.index_T]
    spread_slope -= reciprocal_t_x[terms.index_t_x]
    spread_slope *= s
    d_alpha = (
        r / alpha * data.total_weight
        - (r * np.dot(data.weight_T, reciprocal_T) + np.dot(data.weight_x_T, reciprocal_T))
        + np.dot(weighted_dead, spread_slope)
    )
    dead_x = terms.sum_by_x(weighted_dead)
    d_a = np.dot(weight_x, digamma(a + b) - digamma(a + b + ux + k)) + np.sum(dead_x) / a
    d_b = np.dot(weight_x, digamma(b + ux + k) - digamma(a + b + ux + k) - digamma(b) + digamma(a + b)) - np.dot(
        dead_x, 1.0 / safe_denominator_x
    )
    return total, np.array([d_r, d_alpha, d_a, d_b])


# log(b / a) above this: a / (a + b) < PLATEAU_DROPOUT_PROBABILITY (the no-drop-out plateau)
_PLATEAU_LOG_ODDS = float(np.log(1.0 / PLATEAU_DROPOUT_PROBABILITY - 1.0))


def _same_maximum(log_params, other, names) -> bool:
    """Two points (log parameters) of the same maximum for a run's join: within JOIN_DISTANCE in every
    parameter or, BG/NBD and MBG/NBD, both on the no-drop-out plateau within JOIN_DISTANCE in r and
    alpha: the plateau is a ridge along which the likelihood is flat (in the limit a -> 0 it depends
    on r and alpha alone; the runs of this data's young months reached it at the same (r, alpha) and
    log-likelihood to 0.01 with a and b anywhere along it), so where on it a run stops is immaterial."""
    if np.max(np.abs(log_params - other)) < JOIN_DISTANCE:
        return True
    return bool(
        names[2:] == ("a", "b")
        and log_params[3] - log_params[2] > _PLATEAU_LOG_ODDS
        and other[3] - other[2] > _PLATEAU_LOG_ODDS
        and np.max(np.abs(log_params[:2] - other[:2])) < JOIN_DISTANCE
    )


def _minimise(objective, start, names, max_iterations, joins=None):
    """L-BFGS-B on the log parameters; objective(params) -> (mean log-likelihood, gradient).
    joins: (log parameters, mean log-likelihood) of the best fit of another start; the run stops as
    soon as it comes within JOIN_DISTANCE of that point without exceeding its likelihood (it is
    climbing to the same maximum: finishing would cost iterations and change nothing). Returns
    (params, mean log-likelihood, converged, iterations, message, at_bound, joined)."""
    joined = []

    def callback(intermediate_result):
        if (
            joins is not None
            and _same_maximum(intermediate_result.x, joins[0], names)
            and -intermediate_result.fun <= joins[1]
        ):
            joined.append(True)
            raise StopIteration

    def negative(log_params):
        params = np.exp(log_params)
        value, grad = objective(params)
        if not np.isfinite(value):
            return 1e10, np.zeros_like(log_params)
        return -value, -grad * params  # chain rule for the log scale

    # a line search can stop "abnormally" on a flat ridge (a young customer base, where the
    # likelihood keeps rising towards a = 0, b = infinity): restart from where it stopped
    point = np.log(start)
    iterations = 0
    for _attempt in range(3):
        result = optimize.minimize(
            negative,
            point,
            jac=True,
            method="L-BFGS-B",
            bounds=[LOG_BOUNDS] * len(start),
            options={"maxiter": max(int(max_iterations) - iterations, 1), "ftol": 1e-12, "gtol": 1e-7},
            callback=callback,
        )
        iterations += int(result.nit)
        point = result.x
        if result.success or joined or iterations >= max_iterations:
            break
    params = dict(zip(names, np.exp(result.x).tolist()))
    at_lower = np.isclose(result.x, LOG_BOUNDS[0])
    at_upper = np.isclose(result.x, LOG_BOUNDS[1])
    # the gradient that a move inside the bounds could still follow (per customer, log scale)
    if result.jac is not None and result.jac.shape == result.x.shape:
        grad = np.asarray(result.jac, dtype=float)  # L-BFGS-B's gradient at result.x (no extra evaluation)
    else:
        _, grad = negative(result.x)
    projected = np.where((at_lower & (grad > 0)) | (at_upper & (grad < 0)), 0.0, grad)
    gradient_norm = float(np.max(np.abs(projected)))
    # "ABNORMAL" (no line-search progress) at a stationary point is convergence at machine precision
    converged = bool(
        np.isfinite(result.fun)
        and (result.success or gradient_norm < GRADIENT_TOLERANCE)
        and iterations < max_iterations
    )
    message = f"{result.message}; projected gradient {gradient_norm:.1e}"
    if joined:
        converged, message = False, f"joined the maximum of an earlier start after {iterations} iterations"
    return params, -float(result.fun), converged, iterations, message, bool(np.any(at_lower | at_upper)), bool(joined)


def prepare_triples(x, t_x, T, weights=None) -> _Triples:
    """The fit data of fit_bg_nbd, prepared once and reusable by both models and every start."""
    return _Triples(x, t_x, T, weights)


def _agree_within(log_likelihood: float) -> float:
    return max(STARTS_AGREE_WITHIN, 1e-9 * abs(log_likelihood))


def _best_of(fits: list[Fit]) -> Fit:
    """The start with the highest log-likelihood among the converged ones (any fit when none
    converged); a later start wins only by more than _agree_within."""
    candidates = [fit for fit in fits if fit.converged and np.isfinite(fit.log_likelihood)] or [
        fit for fit in fits if not fit.joined
    ]
    best = candidates[0]
    for fit in candidates[1:]:
        if not np.isfinite(best.log_likelihood) or (
            fit.log_likelihood > best.log_likelihood + _agree_within(best.log_likelihood)
        ):
            best = fit
    return best


def _usable(start) -> bool:
    return start is not None and len(start) > 0 and bool(np.all(np.isfinite(np.asarray(start, dtype=float))))


def _bg_nbd_starts(data: _Triples, previous) -> list[tuple[str, np.ndarray]]:
    """(name, r, alpha, a, b) of every start but the grid's: the previous month's fit (when given), the
    fixed cold start and a moment-based one (r = 1 and alpha from the mean repeat rate x / T of the
    customers, a drop-out probability of 0.2 per purchase: a = 1, b = 4)."""
    mean_T = max(float(np.average(data.T, weights=data.w)), 1.0)
    mean_rate = float(np.average(data.x / np.maximum(data.T, 1.0 / 7.0), weights=data.w))
    starts = []
    if _usable(previous):
        starts.append((START_PREVIOUS, np.asarray(previous, dtype=float)))
    starts.append((START_COLD, np.array([1.0, mean_T, 1.0, 1.0])))
    starts.append((START_MOMENTS, np.array([1.0, 1.0 / max(mean_rate, 1e-3), 1.0, 4.0])))
    return starts


def _grid_starts_bg_nbd(data: _Triples) -> list[tuple[str, np.ndarray]]:
    mean_T = max(float(np.average(data.T, weights=data.w)), 1.0)
    return [(START_GRID, np.array([r, share * mean_T, a, b])) for r, share, a, b in GRID_STARTS_BG_NBD]


def _multi_start(run, main_starts, grid_starts, starts) -> Fit:
    """Runs every wanted start of main_starts; when their fits disagree or one is degenerate, the grid
    too (START_GRID); the best of all (_best_of). run(name, start, best) -> Fit, best the best fit so
    far (a later run stops when it joins its maximum)."""
    fits = []

    def run_all(candidates):
        for name, start in candidates:
            converged = [fit for fit in fits if fit.converged and np.isfinite(fit.log_likelihood)]
            fits.append(run(name, start, _best_of(converged) if converged else None))

    wanted = [(name, start) for name, start in main_starts if name in starts]

    def disagreement():
        likelihoods = [fit.log_likelihood for fit in fits if fit.converged and np.isfinite(fit.log_likelihood)]
        return not likelihoods or max(likelihoods) - min(likelihoods) > _agree_within(max(likelihoods))

    # the first two starts (the previous month's fit and the cold start); the others only when those
    # two reach different maxima, one is degenerate, or fewer than two ran
    run_all(wanted[:2])
    if len(fits) < 2 or disagreement() or any(fit.degenerate for fit in fits):
        run_all(wanted[2:])
    if not fits:
        raise ValueError(f"no start to run among {starts!r}")
    disagree = disagreement()
    if START_GRID in starts and (disagree or any(fit.degenerate for fit in fits)):
        run_all(grid_starts())
    best = _best_of(fits)
    best.starts_tried = len(fits)
    return best


def _run_start(model, objective, names, customers, max_iterations, name, start, best, climb=None, image=None) -> Fit:
    """One start of a multi-start fit: optionally a first climb on climb (the sample's objective), then
    L-BFGS-B on objective (mean log-likelihood of `customers`), stopping when it joins best's maximum.
    image: (log parameters, mean log-likelihood) of best's maximum on the sample (the sample's maximum
    next to it, _sample_image): a climb that joins it is climbing to best's maximum and stops there,
    without the steps on all the triples."""
    joins = None if best is None else (np.log([best.params[key] for key in names]), best.log_likelihood / customers)
    start, climb_iterations = _clip_start(start), 0
    if climb is not None:
        climbed, _, _, climb_iterations, _, at_bound, joined = _minimise(climb, start, names, max_iterations, image)
        if joined:
            return Fit(
                model,
                climbed,
                objective([climbed[key] for key in names], gradient=False) * customers,
                int(round(customers)),
                False,
                climb_iterations,
                f"joined the maximum of an earlier start on the sample after {climb_iterations} iterations",
                at_bound,
                name,
                joined=True,
            )
        start = _clip_start([climbed[key] for key in names])
    params, mean_ll, converged, iterations, message, at_bound, joined = _minimise(
        objective, start, names, max_iterations, joins
    )
    return Fit(
        model,
        params,
        mean_ll * customers,
        int(round(customers)),
        converged,
        iterations + climb_iterations,
        message,
        at_bound,
        name,
        joined=joined,
    )


def _runner(model, objective, sample_objective, names, customers, max_iterations):
    """run(name, start, best) of _multi_start: the previous month's start on all the data (objective),
    every other start first on the sample (sample_objective, when there is one), joining there the
    sample's image of best's maximum (_sample_image, made once per best fit)."""
    images = {}

    def run(name, start, best):
        if sample_objective is None or name == START_PREVIOUS:
            return _run_start(model, objective, names, customers, max_iterations, name, start, best)
        image = None
        if best is not None:
            if id(best) not in images:
                images[id(best)] = _sample_image(sample_objective, best, names, max_iterations)
            image = images[id(best)]
        return _run_start(
            model, objective, names, customers, max_iterations, name, start, best, sample_objective, image
        )

    return run


def _sample_image(sample_objective, best: Fit, names, max_iterations):
    """(log parameters, mean log-likelihood) of the sample's maximum next to best's maximum: L-BFGS-B on
    the sample from best's parameters (a few steps: the two maxima differ by the sampling error)."""
    params, mean_ll, *_ = _minimise(
        sample_objective, _clip_start([best.params[key] for key in names]), names, max_iterations
    )
    return np.log([params[key] for key in names]), mean_ll


def _clip_start(start) -> np.ndarray:
    return np.clip(np.asarray(start, dtype=float), np.exp(LOG_BOUNDS[0] + 1), np.exp(LOG_BOUNDS[1] - 1))


def fit_bg_nbd(
    x=None,
    t_x=None,
    T=None,
    weights=None,
    model="mbg_nbd",
    max_iterations=MAX_ITERATIONS,
    previous=None,
    *,
    data: _Triples | None = None,
    starts=STARTS,
) -> Fit:
    """Maximum-likelihood BG/NBD (model='bg_nbd') or MBG/NBD (model='mbg_nbd') parameters: the best
    of the starts (STARTS; `previous`, optional (r, alpha, a, b), is the previous month's fit). data:
    the triples prepared by prepare_triples (instead of x, t_x, T, weights). starts: the names of the
    starts to run (a subset of STARTS; the tests compare with single starts)."""
    _dropout_shift(model)
    data = data if data is not None else _Triples(x, t_x, T, weights)
    customers = data.total_weight
    if customers <= 0:
        return Fit(model, dict(r=np.nan, alpha=np.nan, a=np.nan, b=np.nan), np.nan, 0, False, 0, "no customers to fit")
    scale = 1.0 / customers  # mean log-likelihood: tolerances independent of the size

    def objective(params, gradient=True):
        if not gradient:
            return _log_likelihood(model, *params, data) * scale
        value, grad = _log_likelihood(model, *params, data, gradient=True)
        return value * scale, grad * scale

    names = ("r", "alpha", "a", "b")
    sample = data.sample()

    def sample_objective(params):
        value, grad = _log_likelihood(model, *params, sample, gradient=True)
        return value / sample.total_weight, grad / sample.total_weight

    run = _runner(model, objective, sample_objective if sample is not None else None, names, customers, max_iterations)

    with _one_blas_thread():
        return _multi_start(run, _bg_nbd_starts(data, previous), lambda: _grid_starts_bg_nbd(data), starts)


def p_alive(model, r, alpha, a, b, x, t_x, T):
    """Probability that the customer is still active at T."""
    k = _dropout_shift(model)
    x, t_x, T = _as_arrays(x, t_x, T)
    return special.expit(-_log_dropout_odds(r, alpha, a, b, x, t_x, T, k))


def _expected_bracket(r, alpha, a, b, t, x, T, k):
    """C/(a-1) * (1 - (1-z)^(a-1) 2F1(C-r-x, a-1; C; z)), C = a+b+x-1+k, z = t/(alpha+T+t)."""
    c = a + b + x - 1 + k
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(a + b - 1 + k - r, a - 1, c, z)
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite element is redone just below
        bracket = c / (a - 1) * (1.0 - np.exp((a - 1) * np.log1p(-z)) * hyp)
    bad = ~np.isfinite(bracket)
    if np.any(bad):
        # scipy gives up when r is huge (a degenerate fit, e.g. the first month of data, where every
        # customer is a few weeks old): evaluate those few elements at high precision instead
        bracket = np.array(bracket, dtype=float, copy=True)
        shape = np.broadcast_shapes(np.shape(c), np.shape(z))
        c_all, z_all, x_all, t_all, T_all = (np.broadcast_to(value, shape) for value in (c, z, x, t, T))
        for index in zip(*np.nonzero(np.broadcast_to(bad, shape))):
            bracket[index] = _expected_bracket_precise(r, alpha, a, b, t_all[index], x_all[index], T_all[index], k)
    return bracket


def _expected_bracket_precise(r, alpha, a, b, t, x, T, k):
    """The bracket of _expected_bracket with mpmath (the untransformed 2F1, 50 digits)."""
    import mpmath

    with mpmath.workdps(50):
        r, alpha, a, b, t, x, T = (mpmath.mpf(float(value)) for value in (r, alpha, a, b, t, x, T))
        c = a + b + x - 1 + k
        z = t / (alpha + T + t)
        hyp = mpmath.hyp2f1(r + x, b + x + k, c, z)
        return float(c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp))


def expected_occasions(model, r, alpha, a, b, t, x, t_x, T):
    """Expected repeat occasions in the next t weeks of a customer with (x, t_x, T)."""
    k = _dropout_shift(model)
    t, x, t_x, T = _as_arrays(t, x, t_x, T)
    if abs(a - 1) < A_NEAR_ONE:
        low = _expected_bracket(r, alpha, 1 - A_NEAR_ONE, b, t, x, T, k)
        high = _expected_bracket(r, alpha, 1 + A_NEAR_ONE, b, t, x, T, k)
        share = (a - (1 - A_NEAR_ONE)) / (2 * A_NEAR_ONE)
        bracket = low + share * (high - low)
    else:
        bracket = _expected_bracket(r, alpha, a, b, t, x, T, k)
    return bracket * p_alive(model, r, alpha, a, b, x, t_x, T)


def expected_occasions_curve(model, r, alpha, a, b, horizons, x, t_x, T):
    """expected_occasions for every t in horizons (weeks), as a list of arrays: the same numbers,
    computed faster for many customers: P(alive) once, and the bracket, which depends on x and T
    but not on t_x, once per distinct (x, T) pair."""
    k = _dropout_shift(model)
    x, t_x, T = _as_arrays(x, t_x, T)
    alive = p_alive(model, r, alpha, a, b, x, t_x, T)
    shape = np.broadcast_shapes(x.shape, T.shape)
    pairs, inverse = np.unique(np.broadcast_to(x + 1j * T, shape).ravel(), return_inverse=True)
    pair_x, pair_T = pairs.real, pairs.imag
    curve = []
    for t in horizons:
        if abs(a - 1) < A_NEAR_ONE:
            low = _expected_bracket(r, alpha, 1 - A_NEAR_ONE, b, float(t), pair_x, pair_T, k)
            high = _expected_bracket(r, alpha, 1 + A_NEAR_ONE, b, float(t), pair_x, pair_T, k)
            share = (a - (1 - A_NEAR_ONE)) / (2 * A_NEAR_ONE)
            bracket = low + share * (high - low)
        else:
            bracket = _expected_bracket(r, alpha, a, b, float(t), pair_x, pair_T, k)
        curve.append(bracket[inverse].reshape(shape) * alive)
    return curve


def discounted_occasions(model, r, alpha, a, b, x, t_x, T, horizon_months=12, annual_discount_rate=0.10):
    """Sum over the next horizon_months months of (expected occasions in month m) / (1+d)^m, with the
    monthly rate d = (1 + annual rate)^(1/12) - 1 and a month of WEEKS_PER_MONTH weeks.
    Returns (discounted sum, expected occasions at each month end as a list of arrays)."""
    monthly_rate = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    horizons = [month * WEEKS_PER_MONTH for month in range(1, int(horizon_months) + 1)]
    cumulative = expected_occasions_curve(model, r, alpha, a, b, horizons, x, t_x, T)
    total = 0.0
    previous = 0.0
    for month, expected in enumerate(cumulative, start=1):
        total = total + (expected - previous) / (1.0 + monthly_rate) ** month
        previous = expected
    return total, cumulative


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma spend model
# ---------------------------------------------------------------------------------------------


class _Spends:
    """Gamma-Gamma fit data prepared once per fit: terms of x alone per distinct x, log m_x sums."""

    def __init__(self, x, m_x, weights=None):
        self.x, self.m_x = _as_arrays(x, m_x)
        self.w = np.ones_like(self.x) if weights is None else np.asarray(weights, dtype=float)
        self.unique_x, self.index = np.unique(self.x, return_inverse=True)
        self.weight_x = np.bincount(self.index, weights=self.w, minlength=len(self.unique_x))
        self.total = self.m_x * self.x  # a customer's total repeat spend
        log_m = np.log(self.m_x)
        self.sum_w_log_m = float(np.dot(self.w, log_m))
        self.sum_wx_log_m = float(np.dot(self.w * self.x, log_m))
        self.wx = self.w * self.x
        self.total_weight = float(np.sum(self.w))
        self._sample = None

    def sample(self) -> _Spends | None:
        """The fixed weighted sample of the customers that later starts climb on (_weighted_sample)."""
        if self._sample is None:
            sampled = _weighted_sample(self.w)
            if sampled is not None:
                keep, weights = sampled
                self._sample = _Spends(self.x[keep], self.m_x[keep], weights)
        return self._sample


def gamma_gamma_log_likelihood(p, q, gamma, x, m_x, weights=None, gradient=False):
    """Sum of the (weighted) Gamma-Gamma log-likelihoods of the mean spends m_x of x repeat
    purchases; with gradient=True also d/d(p, q, gamma)."""
    return _gamma_gamma_log_likelihood(p, q, gamma, _Spends(x, m_x, weights), gradient)


def _gamma_gamma_log_likelihood(p, q, gamma, data, gradient=False):
    ux, weight_x = data.unique_x, data.weight_x
    px_x = p * ux
    shifted = np.add(gamma, data.total)
    log_total = np.log(shifted)
    wx_log_total, w_log_total = np.dot(data.wx, log_total), np.dot(data.w, log_total)
    per_x = (
        special.gammaln(px_x + q) - special.gammaln(px_x) - special.gammaln(q) + q * np.log(gamma) + px_x * np.log(ux)
    )
    # sum of (p x - 1) log m_x - (p x + q) log(gamma + m_x x)
    per_customer = p * data.sum_wx_log_m - data.sum_w_log_m - p * wx_log_total - q * w_log_total
    total = float(np.dot(weight_x, per_x) + per_customer)
    if not gradient:
        return total
    digamma = special.digamma
    d_p = np.dot(weight_x, ux * (digamma(px_x + q) - digamma(px_x) + np.log(ux))) + data.sum_wx_log_m - wx_log_total
    d_q = np.dot(weight_x, digamma(px_x + q) - digamma(q) + np.log(gamma)) - w_log_total
    reciprocal = np.reciprocal(shifted, out=shifted)
    d_gamma = q / gamma * data.total_weight - (p * np.dot(data.wx, reciprocal) + q * np.dot(data.w, reciprocal))
    return total, np.array([d_p, d_q, d_gamma])


def fit_gamma_gamma(x, m_x, weights=None, max_iterations=MAX_ITERATIONS, previous=None, *, starts=STARTS) -> Fit:
    """Maximum-likelihood Gamma-Gamma parameters on customers with x >= 1 and m_x > 0 (others are
    ignored): the best of the starts (STARTS; `previous`, optional (p, q, gamma), is the previous
    month's fit). Cold start p = q = 1, gamma = mean m_x; moment start: q = 3 and p, gamma from the
    mean and variance of m_x across customers (the spend of a customer's mean transaction is
    Gamma(p x, nu x) with nu ~ Gamma(q, gamma): E[m_x] = p gamma / (q - 1))."""
    x, m_x = _as_arrays(x, m_x)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x >= 1) & (m_x > 0) & np.isfinite(m_x)
    x, m_x, w = x[keep], m_x[keep], w[keep]
    data = _Spends(x, m_x, w)
    customers = data.total_weight
    if customers <= 0:
        return Fit(
            "gamma_gamma",
            dict(p=np.nan, q=np.nan, gamma=np.nan),
            np.nan,
            0,
            False,
            0,
            "no customers with a repeat occasion to fit",
        )
    scale = 1.0 / customers

    def objective(params, gradient=True):
        if not gradient:
            return _gamma_gamma_log_likelihood(*params, data) * scale
        value, grad = _gamma_gamma_log_likelihood(*params, data, gradient=True)
        return value * scale, grad * scale

    sample = data.sample()

    def sample_objective(params):
        value, grad = _gamma_gamma_log_likelihood(*params, sample, gradient=True)
        return value / sample.total_weight, grad / sample.total_weight

    mean_spend = max(float(np.average(m_x, weights=w)), 1e-3)
    variance = float(np.average((m_x - mean_spend) ** 2, weights=w))
    # mean p gamma / (q - 1) with q = 3; the shape p from the squared coefficient of variation
    moments_p = min(max(mean_spend**2 / max(variance, 1e-12), 0.1), 100.0)
    candidates = []
    if _usable(previous):
        candidates.append((START_PREVIOUS, np.asarray(previous, dtype=float)))
    candidates.append((START_COLD, np.array([1.0, 1.0, mean_spend])))
    candidates.append((START_MOMENTS, np.array([moments_p, 3.0, 2.0 * mean_spend / moments_p])))
    grid = [(START_GRID, np.array([p, q, share * mean_spend])) for p, q, share in GRID_STARTS_GAMMA_GAMMA]
    names = ("p", "q", "gamma")

    run = _runner(
        "gamma_gamma", objective, sample_objective if sample is not None else None, names, customers, max_iterations
    )

    with _one_blas_thread():
        return _multi_start(run, candidates, lambda: grid, starts)


# ---------------------------------------------------------------------------------------------
# Simulation (recovery tests, the data generator's BG/NBD option)
# ---------------------------------------------------------------------------------------------


def simulate_bg_nbd(customers, r, alpha, a, b, T, seed=0, model="bg_nbd"):
    """Draw (x, t_x, T) from the BG/NBD (or MBG/NBD) generative process. T: a number or an array
    of observation lengths in weeks (one per customer). Each customer buys at Poisson rate
    lambda ~ Gamma(r, 1/alpha) and drops out after each purchase with probability p ~ Beta(a, b)
    (MBG/NBD: also right after the first purchase). The purchases of simulate_bg_nbd_purchases,
    summarised."""
    T = np.broadcast_to(np.asarray(T, dtype=float), (customers,)).copy()
    who, when = simulate_bg_nbd_purchases(customers, r, alpha, a, b, T, seed=seed, model=model)
    x = np.bincount(who, minlength=customers).astype(float)
    t_x = np.zeros(customers)
    t_x[who] = when  # sorted by customer and time: the last assignment per customer is the latest
    return x, t_x, T


def simulate_bg_nbd_purchases(customers, r, alpha, a, b, T, seed=0, model="bg_nbd"):
    """Every repeat purchase of customers following the BG/NBD (or MBG/NBD) generative process up to
    their observation length T (weeks; a number or one per customer), for the data generator's
    `--bgnbd-params` option and simulate_bg_nbd: rate lambda ~ Gamma(r, 1/alpha)
    per week, drop-out after each purchase with probability p ~ Beta(a, b) (MBG/NBD: also right
    after the first purchase). Returns (customer index, time in weeks after the first purchase) of
    the repeat purchases, sorted by customer and time."""
    k = _dropout_shift(model)
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (customers,)).copy()
    rates = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    clock = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    if k == 1:
        alive &= rng.random(customers) >= dropout
    who, when = [], []
    while alive.any():
        index = np.flatnonzero(alive)
        clock[index] += rng.exponential(1.0, index.size) / rates[index]
        bought = clock[index] <= T[index]
        buyers = index[bought]
        who.append(buyers)
        when.append(clock[buyers])
        alive[index[~bought]] = False
        alive[buyers] &= rng.random(buyers.size) >= dropout[buyers]
    who = np.concatenate(who) if who else np.zeros(0, dtype=np.int64)
    when = np.concatenate(when) if when else np.zeros(0)
    order = np.lexsort((when, who))
    return who[order], when[order]
