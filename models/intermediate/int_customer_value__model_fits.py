"""Maximum-likelihood fits of the customer value models for every report month (SPEC section 9):
BG/NBD and MBG/NBD on the grouped (x, t_x, T) triples, Gamma-Gamma on the customers with x >= 1 and
m_x > 0. The math lives in src/crm_warehouse/customer_value.py (the package installed editable into
.venv), shared with the tests.

Incremental: its pre_hook (macros/crm_incremental.sql) deletes the months this run recomputes; the
model then fits every report month of int_customer_value__frequency_groups that the table lacks.

Each month's fit of each model is the best of several starts (crm_warehouse.customer_value.STARTS):
the previous month's fit of the same model (when that one converged inside the bounds), a fixed cold
start, a moment-based start and, when those reach different maxima or one ends degenerate, a fixed
grid of starts; the start with the highest log-likelihood wins and is recorded in start_used (a warm start alone stayed on the "no drop-out" plateau once a month's fit sat there:
issue 23). The previous month comes from this run or, on an incremental run, from the table, so a
full refresh and an incremental run try the same starts every month and give the same parameters.
A BG/NBD-type fit on the plateau (mean drop-out probability a / (a + b) < 1e-4) is flagged
no_dropout_plateau: it is the fit only because no start, the grid's included, found a higher
likelihood.
A fit that did not converge is kept with converged = false, and the data test
customer_value_fits_converged fails the build naming the month and the model.
"""

import numpy as np
import pyarrow as pa

from crm_warehouse import customer_value as cv
from crm_warehouse.value_models import as_relation, frequency_triples, month_slice, month_start, months_lacking

SCHEMA = pa.schema(
    [
        ("report_month", pa.date32()),
        ("report_month_index", pa.int32()),
        ("model", pa.string()),
        ("r", pa.float64()),
        ("alpha", pa.float64()),
        ("a", pa.float64()),
        ("b", pa.float64()),
        ("p", pa.float64()),
        ("q", pa.float64()),
        ("gamma", pa.float64()),
        ("log_likelihood", pa.float64()),
        ("customers", pa.int64()),
        ("converged", pa.bool_()),
        ("at_parameter_bound", pa.bool_()),
        ("no_dropout_plateau", pa.bool_()),
        ("start_used", pa.string()),
        ("starts_tried", pa.int32()),
        ("iterations", pa.int32()),
        ("optimizer_message", pa.string()),
    ]
)


PARAMETERS = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "mbg_nbd": ("r", "alpha", "a", "b"),
    "gamma_gamma": ("p", "q", "gamma"),
}


def starting_points(dbt, session, first_month_index):
    """The fits of the latest month before first_month_index already in the table, by model."""
    if not dbt.is_incremental or first_month_index is None:
        return {}
    rows = session.sql(
        f"select model, r, alpha, a, b, p, q, gamma, converged, at_parameter_bound from {dbt.this} "
        f"where report_month_index = (select max(report_month_index) from {dbt.this} "
        f"where report_month_index < {int(first_month_index)})"
    ).fetchall()
    return {
        row[0]: usable_start(row[0], dict(zip(("r", "alpha", "a", "b", "p", "q", "gamma"), row[1:8])), row[8], row[9])
        for row in rows
    }


def usable_start(model, params, converged, at_bound):
    if not converged or at_bound:
        return None
    values = [params[name] for name in PARAMETERS[model]]
    return None if any(value is None for value in values) else values


def group_sorted(columns):
    """The distinct rows of columns sorted on all of them, with their count as `customers` (what a
    SQL group by + order by gives; sorting and counting the runs is cheaper here: the (x, m_x) pairs
    of the Gamma-Gamma fit are nearly all distinct)."""
    names = list(columns)
    size = len(columns[names[0]])
    new_group = np.zeros(size, dtype=bool)
    new_group[:1] = True
    for name in names:
        values = columns[name]
        new_group[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(new_group)
    grouped = {name: columns[name][starts] for name in names}
    grouped["customers"] = np.diff(np.append(starts, size))
    return grouped


def model(dbt, session):
    # Incremental by month like the SQL models, but with `append` instead of their crm_month_range
    # strategy (which deletes after the result is built; this model computes the months its table
    # lacks, so they must be deleted first): the pre_hook in this model's YAML deletes the months
    # this run rebuilds (a Python file cannot hold Jinja; docs/incremental.md "Exceptions").
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        recompute_column="report_month_index",
    )
    dbt.ref("int_build_changes")  # what this run rebuilds, read by the pre_hook (keeps it upstream)
    max_iterations = dbt.config.meta_get("crm_value_fit_max_iterations")
    max_iterations = int(max_iterations) if max_iterations else cv.MAX_ITERATIONS
    groups = dbt.ref("int_customer_value__frequency_groups")
    inputs = dbt.ref("int_customer_value__inputs")
    rows = []
    available = groups.query("frequency_groups", "select distinct report_month_index from frequency_groups")
    months = months_lacking(dbt, session, [row[0] for row in available.fetchall()])
    start = starting_points(dbt, session, months[0] if months else None)
    # one scan of each input for every month to fit, split by month below
    month_list = ", ".join(str(month) for month in months) or "null"
    all_triples = frequency_triples(groups, months)
    all_spends = group_sorted(
        inputs.query(
            "inputs",
            "select report_month_index, x, cast(repeat_revenue as double) / x as m_x "
            f"from inputs where report_month_index in ({month_list}) and x >= 1 and repeat_revenue > 0 "
            "order by report_month_index, x, m_x",
        ).fetchnumpy()
    )
    for month_index in months:
        triples = month_slice(all_triples, month_index)
        spends = month_slice(all_spends, month_index)
        report_month = month_start(month_index)
        # prepared once for both models and all their starts
        prepared = cv.prepare_triples(
            triples["x"], triples["recency_days"] / 7.0, triples["age_days"] / 7.0, triples["customers"]
        )
        fits = [
            cv.fit_bg_nbd(model=name, max_iterations=max_iterations, previous=start.get(name), data=prepared)
            for name in cv.MODELS
        ]
        fits.append(
            cv.fit_gamma_gamma(
                spends["x"],
                spends["m_x"],
                spends["customers"],
                max_iterations=max_iterations,
                previous=start.get("gamma_gamma"),
            )
        )
        start = {fit.model: usable_start(fit.model, fit.params, fit.converged, fit.at_bound) for fit in fits}
        for fit in fits:
            row = {name: None for name in SCHEMA.names}
            row.update({name: (value if value == value else None) for name, value in fit.params.items()})
            row.update(
                report_month=report_month,
                report_month_index=int(month_index),
                model=fit.model,
                log_likelihood=fit.log_likelihood if fit.log_likelihood == fit.log_likelihood else None,
                customers=fit.customers,
                converged=fit.converged,
                at_parameter_bound=fit.at_bound,
                no_dropout_plateau=fit.on_dropout_plateau,
                start_used=fit.start,
                starts_tried=fit.starts_tried,
                iterations=fit.iterations,
                optimizer_message=fit.message,
            )
            rows.append(row)
    return as_relation(session, pa.Table.from_pylist(rows, schema=SCHEMA))
