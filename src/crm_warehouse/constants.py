"""Display constants and month arithmetic shared by the app, the Excel report and the tests.

Only orders and labels live here: every KPI and business rule is computed in SQL, in the marts.
"""

from __future__ import annotations

import datetime as dt

from crm_warehouse import project_settings

NOT_ACTIVE = project_settings.not_active_label()
ANONYMOUS = "Anonymous"
# value_tier values of fct_customer_monthly_snapshot, best first (SPEC section 5), then Not Active.
TIER_ORDER = ("Diamond", "Platinum", "Gold", "Silver", "Bronze", "Passive", NOT_ACTIVE)

# Measures of kpi_monthly_board, in board order: (column, label, kind); kind is "money" or "count"
# (var crm_board_measures of dbt_project.yml, which the models' macro crm_board_measures reads too).
KPI_MEASURES = project_settings.board_measures()


def or_not_active(expression: str) -> str:
    """SQL: expression, or the Not Active label where it is null (the snapshot's value_tier and
    rfm_segment of customers who are not Active; the models' macro crm_not_active)."""
    return f"coalesce({expression}, '{NOT_ACTIVE}')"


def segment_order(alias: str) -> str:
    """SQL ordering segments as dim_rfm_segments ranks them (segment_priority: RFM segments, then Not
    Active and Anonymous), a label missing from dim_rfm_segments (alias) last."""
    return f"coalesce({alias}.segment_priority, 1000)"


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, if negative) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    """The last day of the month of `month`."""
    return add_months(month, 1) - dt.timedelta(days=1)
