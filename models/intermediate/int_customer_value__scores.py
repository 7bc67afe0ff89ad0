"""Scores of the chosen customer value model (var crm_value_model: mbg_nbd or bg_nbd) for every
report month and distinct (x, t_x, T) triple of int_customer_value__frequency_groups (SPEC section 9):
P(alive), expected repeat occasions in the next 3 and 12 months, and the discounted expected
occasions over the CLV horizon (var crm_value_horizon_months), each month's expected occasions
discounted at the monthly rate derived from var crm_value_annual_discount_rate. A month is
365.25 / 12 days. The math lives in src/crm_warehouse/customer_value.py, shared with the tests.

Incremental: its pre_hook deletes the months this run recomputes; the model then scores every
report month of the groups that the table lacks.
"""

import datetime

import numpy as np
import pyarrow as pa

from crm_warehouse import customer_value as cv

EPOCH = datetime.date(1970, 1, 1)
SCHEMA = pa.schema(
    [
        ("report_month", pa.date32()),
        ("report_month_index", pa.int32()),
        ("model", pa.string()),
        ("x", pa.int32()),
        ("recency_days", pa.int32()),
        ("age_days", pa.int32()),
        ("customers", pa.int64()),
        ("p_alive", pa.float64()),
        ("expected_occasions_3m", pa.float64()),
        ("expected_occasions_12m", pa.float64()),
        ("discounted_expected_occasions", pa.float64()),
    ]
)


def as_relation(session, table):
    """A relation on dbt's own connection: dbt-duckdb then writes it inside dbt's transaction
    (a pyarrow table would be written through another cursor, which the incremental
    materialization's schema check and persist_docs do not see)."""
    return session.from_arrow(table)


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
    chosen = dbt.config.meta_get("crm_value_model")
    if chosen not in cv.MODELS:
        raise ValueError(f"var crm_value_model = {chosen!r}: expected one of {', '.join(cv.MODELS)}")
    annual_rate = float(dbt.config.meta_get("crm_value_annual_discount_rate"))
    horizon = int(dbt.config.meta_get("crm_value_horizon_months"))
    if annual_rate <= -1 or horizon < 1:
        raise ValueError(
            f"vars crm_value_annual_discount_rate = {annual_rate} (must be > -1) and "
            f"crm_value_horizon_months = {horizon} (must be >= 1)"
        )
    groups = dbt.ref("int_customer_value__frequency_groups")
    fits = (
        dbt.ref("int_customer_value__model_fits")
        .query(
            "fits", f"select report_month_index, r, alpha, a, b from fits where model = '{chosen}' and r is not null"
        )
        .fetchall()
    )
    parameters = {row[0]: row[1:] for row in fits}
    wanted = set(parameters)
    if dbt.is_incremental:
        present = session.sql(f"select distinct report_month_index from {dbt.this}").fetchall()
        wanted -= {row[0] for row in present}
    batches = []
    months = sorted(wanted)
    month_list = ", ".join(str(int(month)) for month in months) or "null"
    all_triples = groups.query(
        "frequency_groups",
        "select report_month_index, x, recency_days, age_days, customers from frequency_groups "
        f"where report_month_index in ({month_list}) order by report_month_index, x, recency_days, age_days",
    ).fetchnumpy()
    month_column = all_triples["report_month_index"]
    bounds = np.searchsorted(month_column, np.array(months, dtype=month_column.dtype))
    bounds = np.append(bounds, len(month_column))
    for position, month_index in enumerate(months):
        low, high = bounds[position], bounds[position + 1]
        triples = {name: values[low:high] for name, values in all_triples.items()}
        r, alpha, a, b = parameters[month_index]
        x = triples["x"].astype(float)
        t_x = triples["recency_days"] / 7.0
        T = triples["age_days"] / 7.0
        discounted, cumulative = cv.discounted_occasions(
            chosen, r, alpha, a, b, x, t_x, T, horizon_months=horizon, annual_discount_rate=annual_rate
        )
        expected_3m = (
            cumulative[2]
            if horizon >= 3
            else cv.expected_occasions(chosen, r, alpha, a, b, 3 * cv.WEEKS_PER_MONTH, x, t_x, T)
        )
        expected_12m = (
            cumulative[11]
            if horizon >= 12
            else cv.expected_occasions(chosen, r, alpha, a, b, 12 * cv.WEEKS_PER_MONTH, x, t_x, T)
        )
        size = len(x)
        month_start = (datetime.date(month_index // 12, month_index % 12 + 1, 1) - EPOCH).days
        batches.append(
            pa.Table.from_arrays(
                [
                    pa.array(np.full(size, month_start, dtype=np.int32)).cast(pa.date32()),
                    pa.array(np.full(size, month_index, dtype=np.int32)),
                    pa.nulls(size, pa.string()).fill_null(chosen),
                    pa.array(triples["x"].astype(np.int32)),
                    pa.array(triples["recency_days"].astype(np.int32)),
                    pa.array(triples["age_days"].astype(np.int32)),
                    pa.array(triples["customers"].astype(np.int64)),
                    pa.array(cv.p_alive(chosen, r, alpha, a, b, x, t_x, T)),
                    pa.array(np.asarray(expected_3m, dtype=float)),
                    pa.array(np.asarray(expected_12m, dtype=float)),
                    pa.array(np.asarray(discounted, dtype=float)),
                ],
                schema=SCHEMA,
            )
        )
    if not batches:
        return as_relation(session, SCHEMA.empty_table())
    return as_relation(session, pa.concat_tables(batches))
