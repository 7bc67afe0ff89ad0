"""What the customer value dbt Python models (models/intermediate/int_customer_value__*.py) share
besides the math (crm_warehouse.customer_value): writing their result, the months an incremental run
computes, the grouped (x, t_x, T) triples read month by month, and the month numbering.

dbt reads a Python model's config, refs and config keys from the model file itself (dbt.config(...),
dbt.ref(...), dbt.config.meta_get(...) are parsed, not run): those calls stay in the model files, and
the functions here take what they return.
"""

from __future__ import annotations

import datetime

import numpy as np

from crm_warehouse.customer_value import MODELS


def as_relation(session, table):
    """A relation on dbt's own connection: dbt-duckdb then writes it inside dbt's transaction
    (a pyarrow table would be written through another cursor, which the incremental
    materialization's schema check and persist_docs do not see)."""
    return session.from_arrow(table)


def months_lacking(dbt, session, months) -> list[int]:
    """The month indexes of `months` that the model's table lacks, in order: all of them on a full
    build; on an incremental run the months its pre_hook deleted (the months this run recomputes) and
    the months new since the last run."""
    wanted = {int(month) for month in months}
    if dbt.is_incremental:
        present = session.sql(f"select distinct report_month_index from {dbt.this}").fetchall()
        wanted -= {row[0] for row in present}
    return sorted(wanted)


def frequency_triples(groups, months) -> dict[str, np.ndarray]:
    """The (x, recency_days, age_days, customers) rows of int_customer_value__frequency_groups (the
    relation `groups`) for the month indexes `months`, in one scan, sorted by month and triple: cut
    them by month with month_slice."""
    month_list = ", ".join(str(int(month)) for month in months) or "null"
    return groups.query(
        "frequency_groups",
        "select report_month_index, x, recency_days, age_days, customers from frequency_groups "
        f"where report_month_index in ({month_list}) order by report_month_index, x, recency_days, age_days",
    ).fetchnumpy()


def month_slice(columns, month_index):
    """The rows of one month of columns sorted by report_month_index."""
    months = columns["report_month_index"]
    # bounds in the column's own dtype: a Python int would convert the whole column on every call
    low, high = np.searchsorted(months, np.array([month_index, month_index + 1], dtype=months.dtype))
    return {name: values[low:high] for name, values in columns.items()}


def month_start(month_index: int) -> datetime.date:
    """The first day of the month numbered month_index (year * 12 + month - 1, macro crm_month_index)."""
    return datetime.date(int(month_index) // 12, int(month_index) % 12 + 1, 1)


def chosen_model(value) -> str:
    """The model of var crm_value_model (read by the model file: dbt.config.meta_get), checked."""
    if value not in MODELS:
        raise ValueError(f"var crm_value_model = {value!r}: expected one of {', '.join(MODELS)}")
    return value
