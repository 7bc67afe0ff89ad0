"""crm_warehouse.value_models: what the customer value dbt Python models share besides the math."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crm_warehouse import value_models
from crm_warehouse.constants import add_months


class FakeDbt:
    def __init__(self, is_incremental: bool):
        self.is_incremental = is_incremental
        self.this = "intermediate.some_model"


class FakeSession:
    def __init__(self, present: list[int]):
        self.present = present
        self.asked: list[str] = []

    def sql(self, text: str):
        self.asked.append(text)
        rows = [(month,) for month in self.present]
        return type("Result", (), {"fetchall": lambda _self: rows})()


def test_months_lacking_is_every_month_on_a_full_build_and_the_missing_ones_incrementally():
    session = FakeSession(present=[24300, 24301])
    assert value_models.months_lacking(FakeDbt(False), session, [24302, 24300, 24301]) == [24300, 24301, 24302]
    assert session.asked == []  # a full build does not read the table
    assert value_models.months_lacking(FakeDbt(True), session, {24302: "fit", 24300: "fit", 24301: "fit"}) == [24302]
    assert session.asked == ["select distinct report_month_index from intermediate.some_model"]


def test_month_slice_cuts_the_rows_of_one_month_of_sorted_columns():
    columns = {
        "report_month_index": np.array([5, 5, 7, 8, 8, 8], dtype=np.int32),
        "x": np.array([0, 1, 2, 3, 4, 5]),
    }
    assert value_models.month_slice(columns, 8)["x"].tolist() == [3, 4, 5]
    assert value_models.month_slice(columns, 7)["x"].tolist() == [2]
    assert value_models.month_slice(columns, 6)["x"].tolist() == []
    assert value_models.month_slice(columns, 5)["report_month_index"].tolist() == [5, 5]


def test_month_start_numbers_months_as_the_crm_month_index_macro():
    # macro crm_month_index: year * 12 + month - 1
    for day in (dt.date(2024, 1, 1), dt.date(2024, 12, 1), dt.date(1999, 7, 1)):
        assert value_models.month_start(day.year * 12 + day.month - 1) == day
    assert value_models.month_start(2025 * 12 + 11 + 1) == add_months(dt.date(2025, 12, 1), 1)


def test_chosen_model_names_the_var_and_the_models_when_unknown():
    assert value_models.chosen_model("bg_nbd") == "bg_nbd"
    with pytest.raises(ValueError, match=r"crm_value_model = 'pareto_nbd': expected one of bg_nbd, mbg_nbd"):
        value_models.chosen_model("pareto_nbd")
