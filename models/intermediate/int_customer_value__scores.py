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
from crm_warehouse.value_models import (
    as_relation,
    chosen_model,
    frequency_triples,
    month_slice,
    month_start,
    months_lacking,
)

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


def model(dbt, session):
    # Incremental by month with `append` and the pre_hook in its YAML, as int_customer_value__model_fits
    # (docs/incremental.md "Exceptions").
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="fail",
        recompute_column="report_month_index",
    )
    dbt.ref("int_build_changes")  # what this run rebuilds, read by the pre_hook (keeps it upstream)
    chosen = chosen_model(dbt.config.meta_get("crm_value_model"))
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
    batches = []
    months = months_lacking(dbt, session, parameters)
    all_triples = frequency_triples(groups, months)
    for month_index in months:
        triples = month_slice(all_triples, month_index)
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
        days_since_epoch = (month_start(month_index) - EPOCH).days
        batches.append(
            pa.Table.from_arrays(
                [
                    pa.array(np.full(size, days_since_epoch, dtype=np.int32)).cast(pa.date32()),
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
