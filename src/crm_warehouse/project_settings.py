"""The dbt project's vars that Python reads too: one home (dbt_project.yml) for names and settings the
SQL models and the Python code (app, Excel report, campaign lists, generator) share.

project_var(name) is the var's default as dbt_project.yml declares it (a run may override a var with
--vars; the vocabulary vars read here are part of the marts' contract and are not meant to be).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from crm_warehouse.paths import ROOT

DBT_PROJECT = ROOT / "dbt_project.yml"


@functools.cache
def project_vars(path: Path = DBT_PROJECT) -> dict[str, Any]:
    """Every var of dbt_project.yml with its default."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")).get("vars") or {})


def project_var(name: str) -> Any:
    """The default of one var of dbt_project.yml (KeyError naming the file when it is not declared)."""
    found = project_vars()
    if name not in found:
        raise KeyError(f"var {name} is not declared in {DBT_PROJECT}")
    return found[name]


def not_active_label() -> str:
    """The label of in-scope customers who are not Active (var crm_not_active_label)."""
    return str(project_var("crm_not_active_label"))


def contact_channels() -> dict[str, dict[str, str]]:
    """{channel: {"consent_column": ..., "contact_column": ...}} (var crm_contact_channels)."""
    return {str(name): dict(columns) for name, columns in project_var("crm_contact_channels").items()}


def board_measures() -> tuple[tuple[str, str, str], ...]:
    """(column, label, kind) of the KPI board's measures in board order (var crm_board_measures)."""
    return tuple((str(column), str(label), str(kind)) for column, label, kind in project_var("crm_board_measures"))


def p_alive_bands() -> int:
    """The number of P(alive) bands of the app's Customer value page (var crm_p_alive_bands; bands of
    width 1 / p_alive_bands(), macro crm_p_alive_band)."""
    return int(project_var("crm_p_alive_bands"))


def leaving_customers() -> int:
    """How many customers kpi_customer_value_leaving keeps per report month, segment and P(alive) band
    (var crm_app_leaving_customers): the most the app's "valuable and leaving" list can show."""
    return int(project_var("crm_app_leaving_customers"))


def campaign_response_window_days() -> int:
    """Days after the send date in which a core purchase is a response (var crm_campaign_response_window_days)."""
    return int(project_var("crm_campaign_response_window_days"))


def seed_rows(name: str) -> list[dict[str, str]]:
    """The rows of seeds/<name>.csv (the business parameters' one home), as text."""
    import csv

    with open(ROOT / "seeds" / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def value_tier_thresholds() -> dict[str, float]:
    """{threshold_name: value} of the seed value_tier_calibration (SPEC section 5: t_high, t_mid_high,
    t_mid, a_high, f_high, f_mid), whole numbers as int."""
    found = {}
    for row in seed_rows("value_tier_calibration"):
        value = float(row["threshold_value"])
        found[row["threshold_name"]] = int(value) if value.is_integer() else value
    return found
