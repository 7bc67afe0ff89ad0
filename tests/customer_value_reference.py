"""An independent multi-start reference for the customer value fits (issue 23), test code only.

The warehouse keeps, every month, the best of its starts (the previous month's fit, a fixed cold
start, a moment-based start, and a fixed grid when the best of those is degenerate:
crm_warehouse.customer_value.STARTS). The reference runs the same optimiser from REFERENCE_STARTS
random starts, log-uniform over wide ranges (seeded, so the tests are deterministic), none of which
is one of the warehouse's: a month whose stored fit sits more than 0.01 below the best of them shows
a start strategy that misses the maximum, e.g. a warm start stuck on the no-drop-out plateau."""

from __future__ import annotations

import numpy as np

from crm_warehouse import customer_value as cv

REFERENCE_STARTS = 24
SEED = 20231


def _log_uniform(rng, low, high, size):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _best(fits):
    converged = [fit for fit in fits if fit.converged]
    assert converged, "no reference start converged"
    return max(converged, key=lambda fit: fit.log_likelihood)


def reference_fit_bg_nbd(model: str, data) -> cv.Fit:
    """The best converged fit from REFERENCE_STARTS random starts: r in [0.05, 5], alpha in
    [0.02, 5] x mean T, a in [0.05, 10], b in [0.1, 20]; each start run alone (fit_bg_nbd's
    single-start path: starts=('previous_month',) with the start as `previous`)."""
    rng = np.random.default_rng(SEED)
    mean_T = max(float(np.average(data.T, weights=data.w)), 1.0)
    points = np.column_stack(
        [
            _log_uniform(rng, 0.05, 5.0, REFERENCE_STARTS),
            _log_uniform(rng, 0.02, 5.0, REFERENCE_STARTS) * mean_T,
            _log_uniform(rng, 0.05, 10.0, REFERENCE_STARTS),
            _log_uniform(rng, 0.1, 20.0, REFERENCE_STARTS),
        ]
    )
    return _best(
        cv.fit_bg_nbd(model=model, data=data, previous=list(point), starts=(cv.START_PREVIOUS,)) for point in points
    )


def reference_fit_gamma_gamma(x, m_x, weights) -> cv.Fit:
    """The best converged Gamma-Gamma fit from REFERENCE_STARTS random starts: p in [0.2, 50],
    q in [1.1, 50], gamma in [0.02, 20] x mean spend."""
    rng = np.random.default_rng(SEED)
    scale = float(np.average(m_x, weights=weights))
    points = np.column_stack(
        [
            _log_uniform(rng, 0.2, 50.0, REFERENCE_STARTS),
            _log_uniform(rng, 1.1, 50.0, REFERENCE_STARTS),
            _log_uniform(rng, 0.02, 20.0, REFERENCE_STARTS) * scale,
        ]
    )
    return _best(
        cv.fit_gamma_gamma(x, m_x, weights, previous=list(point), starts=(cv.START_PREVIOUS,)) for point in points
    )
