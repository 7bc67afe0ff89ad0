"""An independent, deliberately naive pandas implementation of SPEC sections 3-6.

It re-reads the raw CSV files and, for every report month, filters the lines dated up to the month
end and recomputes every field from scratch (no running sums, no deltas), the way a user would
write it by hand. The end-to-end test compares it field by field with the warehouse. It assumes a
clean raw folder (no rejected rows) and the default seeds and vars.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from crm_warehouse import project_settings

# the snapshot fields of SPEC sections 3-5 (window aggregates, dates, status, tier, event) and of
# section 6 (RFMT), as named in fct_customer_monthly_snapshot; compared by the end-to-end test and
# the benchmark's verification
STATE_COLUMNS = (
    "m_total",
    "m1",
    "m6",
    "m12",
    "m13",
    "m24",
    "m25",
    "o6",
    "first_entry_purchase_date",
    "first_core_purchase_date",
    "last_core_purchase_date",
    "tenure_months",
    "avg_monthly_consumption",
    "avg_order_size",
    "activity_status",
    "value_tier",
    "lifecycle_event",
)
RFMT_COLUMNS = (
    "recency_days",
    "frequency_orders",
    "monetary_value",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "tenure_score",
    "rfm_segment",
)
THRESHOLDS = project_settings.value_tier_thresholds()  # the seed value_tier_calibration
ROLES = {"consumable": "core", "device": "entry", "accessories": "other", "spare_parts": "other"}


def month_index(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month - 1


def load(raw_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    files = sorted(Path(raw_dir).glob("sales_transactions_*.csv"))
    lines = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
    customers = pd.read_csv(Path(raw_dir) / "customers_master.csv", dtype=str, keep_default_na=False)
    products = pd.read_csv(Path(raw_dir) / "products_master.csv", dtype=str, keep_default_na=False)
    products["role"] = products["category"].str.strip().str.lower().map(ROLES)
    products["unit_size"] = pd.to_numeric(products["unit_size"].replace("", np.nan))
    lines["invoice_date"] = pd.to_datetime(lines["invoice_date"], format="%Y-%m-%d")
    lines["quantity"] = pd.to_numeric(lines["quantity"])
    lines["revenue"] = pd.to_numeric(lines["revenue"])
    lines = lines.merge(products[["product_id", "role", "unit_size"]], on="product_id", how="inner")
    lines["units"] = np.where(lines["role"] == "core", lines["quantity"] * lines["unit_size"], np.nan)
    lines["month"] = month_index(lines["invoice_date"])
    customers["created"] = pd.to_datetime(customers["created_date"], format="%Y-%m-%d", errors="coerce")
    customers["anonymous"] = customers["customer_group"].str.strip().str.lower().isin({"general"})
    return lines, customers


def score(values: pd.Series, bins: int, higher_is_better: bool = True) -> pd.Series:
    """least(bins, 1 + floor(bins * percent_rank)), percent_rank from pandas' min rank."""
    ranks = (values if higher_is_better else -values).rank(method="min")
    n = len(values)
    if n == 1:
        return pd.Series(1, index=values.index)
    percent_rank = (ranks - 1) / (n - 1)
    return np.minimum(bins, 1 + np.floor(bins * percent_rank + 1e-9)).astype(int)


def segment_of(cell: tuple[int, int, int], rules: pd.DataFrame) -> str:
    r, f, m = cell
    for rule in rules.itertuples():
        if rule.r_min <= r <= rule.r_max and rule.f_min <= f <= rule.f_max and rule.m_min <= m <= rule.m_max:
            return rule.segment_name
    return None


def snapshot(raw_dir: Path, segments_csv: Path, bins: int = 5) -> pd.DataFrame:
    lines, customers = load(raw_dir)
    rules = pd.read_csv(segments_csv).sort_values("priority")
    in_scope = customers[~customers["anonymous"]].copy()
    lines = lines[lines["customer_id"].isin(in_scope["customer_id"])]
    first_purchase = load(raw_dir)[0].query("quantity > 0").groupby("customer_id")["month"].min()
    in_scope["exists_from"] = np.fmin(
        month_index(in_scope["created"]).astype("float"),
        in_scope["customer_id"].map(first_purchase).astype("float"),
    )
    all_lines = load(raw_dir)[0]
    first_month, last_month = int(all_lines["month"].min()), int(all_lines["month"].max())
    core = lines[(lines["role"] == "core") & (lines["quantity"] > 0)]
    entry = lines[(lines["role"] == "entry") & (lines["quantity"] > 0)]
    rows = []
    for month in range(first_month, last_month + 1):
        year, month0 = divmod(month, 12)
        month_start = pd.Timestamp(year=year, month=month0 + 1, day=1)
        month_end = month_start + pd.offsets.MonthEnd(0)
        customers_now = in_scope[in_scope["exists_from"] <= month]["customer_id"]
        frame = pd.DataFrame({"customer_id": customers_now.values})
        seen = core[core["month"] <= month]

        def window(k: int, column: str = "units", seen=seen, month=month) -> pd.Series:
            return seen[seen["month"] > month - k].groupby("customer_id")[column].sum()

        frame["m_total"] = frame["customer_id"].map(seen.groupby("customer_id")["units"].sum()).fillna(0).round(4)
        for k in (1, 6, 12, 13, 24, 25):
            frame[f"m{k}"] = frame["customer_id"].map(window(k)).fillna(0).round(4)
        frame["o6"] = (
            frame["customer_id"]
            .map(seen[seen["month"] > month - 6].groupby("customer_id")["invoice_id"].nunique())
            .fillna(0)
            .astype(int)
        )
        o12 = (
            frame["customer_id"]
            .map(seen[seen["month"] > month - 12].groupby("customer_id")["invoice_id"].nunique())
            .fillna(0)
            .astype(int)
        )
        # money is decimal: round the float sums, or equal amounts would split a tie by rounding noise
        r12 = frame["customer_id"].map(window(12, "revenue")).fillna(0).round(4)
        frame["first_core_purchase_date"] = frame["customer_id"].map(seen.groupby("customer_id")["invoice_date"].min())
        frame["last_core_purchase_date"] = frame["customer_id"].map(seen.groupby("customer_id")["invoice_date"].max())
        frame["first_entry_purchase_date"] = frame["customer_id"].map(
            entry[entry["month"] <= month].groupby("customer_id")["invoice_date"].min()
        )
        first_month_of_core = month_index(frame["first_core_purchase_date"])
        frame["tenure_months"] = month - first_month_of_core + 1
        frame["avg_monthly_consumption"] = frame["m6"] / 6
        frame["avg_order_size"] = np.where(frame["o6"] > 0, frame["m6"] / frame["o6"].replace(0, 1), np.nan)
        active = frame["m12"] > 0
        frame["activity_status"] = np.where(active, "Active", project_settings.not_active_label())
        amc, aos, o6 = frame["avg_monthly_consumption"], frame["avg_order_size"], frame["o6"]
        t = THRESHOLDS
        tier = np.select(
            [
                ~active,
                frame["m6"] == 0,
                (amc >= t["t_high"]) & (aos >= t["a_high"]) & (o6 >= t["f_high"]),
                (amc >= t["t_high"]) & (o6 >= t["f_mid"]),
                amc >= t["t_mid_high"],
                amc >= t["t_mid"],
                amc > 0,
            ],
            [None, "Passive", "Diamond", "Platinum", "Gold", "Silver", "Bronze"],
            default=None,
        )
        frame["value_tier"] = tier
        frame["lifecycle_event"] = np.select(
            [
                (frame["m1"] > 0) & (frame["m1"] == frame["m_total"]),
                (frame["m12"] == 0) & (frame["m13"] > 0),
                (frame["m1"] > 0) & (frame["m1"] == frame["m13"]) & (frame["m_total"] > frame["m13"]),
            ],
            ["New", "Lost", "Reactivated"],
            default=None,
        )
        frame["recency_days"] = np.where(active, (month_end - frame["last_core_purchase_date"]).dt.days, np.nan)
        frame["frequency_orders"] = np.where(active, o12, np.nan)
        frame["monetary_value"] = np.where(active, r12, np.nan)
        for name in ("recency_score", "frequency_score", "monetary_score", "tenure_score"):
            frame[name] = np.nan
        scored = frame[active]
        if len(scored):
            frame.loc[active, "recency_score"] = score(-scored["recency_days"], bins)
            frame.loc[active, "frequency_score"] = score(scored["frequency_orders"], bins)
            frame.loc[active, "monetary_score"] = score(scored["monetary_value"], bins)
            frame.loc[active, "tenure_score"] = score(scored["tenure_months"], bins)
        frame["rfm_segment"] = [
            segment_of((int(r), int(f), int(m)), rules) if not math.isnan(r) else None
            for r, f, m in zip(frame["recency_score"], frame["frequency_score"], frame["monetary_score"])
        ]
        frame["report_month"] = month_start
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)
