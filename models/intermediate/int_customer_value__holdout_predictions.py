"""Predicted repeat occasions after the validation's calibration month, for
kpi_customer_value_validation (SPEC section 9): one row per (x, t_x, T) triple of the calibration
month and months ahead (1 .. 12, up to the last report month), with the chosen model's expected
cumulative repeat occasions from the calibration month's end to the end of that month.

Calibration month: var crm_value_calibration_month (YYYY-MM-01); default (null) the latest report
month that still has 6 later report months. No rows when there is no such month. A small table,
rebuilt on every run (one month's triples x 12).
"""

import datetime

import numpy as np
import pyarrow as pa

from crm_warehouse import customer_value as cv
from crm_warehouse.value_models import as_relation, chosen_model, month_start

LATER_MONTHS_BY_DEFAULT = 6
MAX_MONTHS_AHEAD = 12

SCHEMA = pa.schema(
    [
        ("calibration_month", pa.date32()),
        ("calibration_month_index", pa.int32()),
        ("months_ahead", pa.int32()),
        ("model", pa.string()),
        ("x", pa.int32()),
        ("recency_days", pa.int32()),
        ("age_days", pa.int32()),
        ("customers", pa.int64()),
        ("expected_occasions", pa.float64()),
    ]
)


def month_index_of(text):
    day = datetime.date.fromisoformat(str(text)[:10])
    return day.year * 12 + day.month - 1


def model(dbt, session):
    dbt.config(materialized="table")
    chosen = chosen_model(dbt.config.meta_get("crm_value_model"))
    groups = dbt.ref("int_customer_value__frequency_groups")
    last = groups.query("frequency_groups", "select max(report_month_index) from frequency_groups").fetchall()[0][0]
    configured = dbt.config.meta_get("crm_value_calibration_month")
    if last is None:
        return as_relation(session, SCHEMA.empty_table())
    configured = None if str(configured).strip().lower() in ("", "none", "null") else configured
    calibration = month_index_of(configured) if configured else last - LATER_MONTHS_BY_DEFAULT
    fit = (
        dbt.ref("int_customer_value__model_fits")
        .query(
            "fits",
            f"select r, alpha, a, b from fits where model = '{chosen}' and r is not null "
            f"and report_month_index = {int(calibration)}",
        )
        .fetchall()
    )
    fit = fit[0] if fit else None
    months_ahead = min(MAX_MONTHS_AHEAD, last - calibration)
    if fit is None or months_ahead < 1:
        return as_relation(session, SCHEMA.empty_table())
    r, alpha, a, b = fit
    triples = groups.query(
        "frequency_groups",
        "select x, recency_days, age_days, customers from frequency_groups "
        f"where report_month_index = {int(calibration)}",
    ).fetchnumpy()
    x = triples["x"].astype(float)
    size = len(x)
    start = month_start(calibration)
    horizons = []
    for ahead in range(1, months_ahead + 1):
        # weeks from the calibration month's end to the end of the month `ahead` months later
        horizons.append(
            ((month_start(calibration + ahead + 1) - start).days - (month_start(calibration + 1) - start).days) / 7.0
        )
    # every horizon at once: P(alive) once, the bracket once per distinct (x, T)
    curve = cv.expected_occasions_curve(
        chosen, r, alpha, a, b, horizons, x, triples["recency_days"] / 7.0, triples["age_days"] / 7.0
    )
    batches = []
    for ahead, expected in enumerate(curve, start=1):
        batches.append(
            pa.Table.from_arrays(
                [
                    pa.array(np.full(size, (start - datetime.date(1970, 1, 1)).days, dtype=np.int32)).cast(pa.date32()),
                    pa.array(np.full(size, calibration, dtype=np.int32)),
                    pa.array(np.full(size, ahead, dtype=np.int32)),
                    pa.nulls(size, pa.string()).fill_null(chosen),
                    pa.array(triples["x"].astype(np.int32)),
                    pa.array(triples["recency_days"].astype(np.int32)),
                    pa.array(triples["age_days"].astype(np.int32)),
                    pa.array(triples["customers"].astype(np.int64)),
                    pa.array(np.asarray(expected, dtype=float)),
                ],
                schema=SCHEMA,
            )
        )
    return as_relation(session, pa.concat_tables(batches))
