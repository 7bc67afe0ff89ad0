"""The warehouse against an independent, naive implementation of SPEC sections 3-6, field by field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, query
from support.reference_snapshot import RFMT_COLUMNS, STATE_COLUMNS
from support.reference_snapshot import snapshot as reference_snapshot

COMPARED = [*STATE_COLUMNS, *RFMT_COLUMNS]


@pytest.fixture(scope="module")
def both(clean_raw, clean_warehouse):
    warehouse = query(clean_warehouse, "select * from marts.fct_customer_monthly_snapshot")
    reference = reference_snapshot(clean_raw, ROOT / "seeds" / "rfm_segments.csv")
    return warehouse, reference


def normalise(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value if not hasattr(value, "date") else value
    if isinstance(value, (int, float, np.integer, np.floating)) or type(value).__name__ == "Decimal":
        return round(float(value), 4)
    return value


def test_same_customer_months(both):
    warehouse, reference = both
    keys_w = set(zip(warehouse["customer_id"], pd.to_datetime(warehouse["report_month"])))
    keys_r = set(zip(reference["customer_id"], pd.to_datetime(reference["report_month"])))
    assert keys_w == keys_r, (len(keys_w - keys_r), len(keys_r - keys_w))


@pytest.mark.parametrize("column", COMPARED)
def test_every_field_matches_the_reference(both, column):
    warehouse, reference = both
    warehouse = warehouse.assign(report_month=pd.to_datetime(warehouse["report_month"]))
    reference = reference.assign(report_month=pd.to_datetime(reference["report_month"]))
    merged = warehouse[["customer_id", "report_month", column]].merge(
        reference[["customer_id", "report_month", column]],
        on=["customer_id", "report_month"],
        suffixes=("_warehouse", "_reference"),
    )
    left = merged[f"{column}_warehouse"].map(normalise)
    right = merged[f"{column}_reference"].map(normalise)
    if column.endswith("_date"):
        left = pd.to_datetime(left).dt.date
        right = pd.to_datetime(right).dt.date
    if column in ("avg_monthly_consumption", "avg_order_size"):
        right = right.map(lambda v: None if v is None else round(v + 1e-12, 4))
    differs = ~((left == right) | (left.isna() & right.isna()))
    sample = merged[differs].head(5).to_string()
    assert not differs.any(), f"{differs.sum()} rows differ on {column}:\n{sample}"


def test_reference_data_is_not_degenerate(both):
    """Every tier and event occurs, so the comparison above exercises every rule."""
    warehouse, _ = both
    assert set(warehouse["value_tier"].dropna()) == {"Passive", "Diamond", "Platinum", "Gold", "Silver", "Bronze"}
    assert set(warehouse["lifecycle_event"].dropna()) == {"New", "Lost", "Reactivated"}
    assert warehouse["rfm_segment"].nunique() >= 8
