"""Display constants and month arithmetic shared by the app, the Excel report and the tests.

Only orders and labels live here: every KPI and business rule is computed in SQL, in the marts.
"""

from __future__ import annotations

import datetime as dt

NOT_ACTIVE = "Not Active"
ANONYMOUS = "Anonymous"
# value_tier values of fct_customer_monthly_snapshot, best first (SPEC section 5), then Not Active.
TIER_ORDER = ("Diamond", "Platinum", "Gold", "Silver", "Bronze", "Passive", NOT_ACTIVE)

# Measures of kpi_monthly_board, in board order: (column, label, kind); kind is "money" or "count".
KPI_MEASURES = (
    ("sales", "Sales", "money"),
    ("orders", "Orders", "count"),
    ("buying_customers", "Buying customers", "count"),
    ("active_customers", "Active customers", "count"),
    ("new_customers", "New customers", "count"),
    ("lost_customers", "Lost customers", "count"),
    ("reactivated_customers", "Reactivated customers", "count"),
    ("average_order_value", "Average order value", "money"),
    ("sales_per_customer", "Sales per buying customer", "money"),
)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, if negative) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    """The last day of the month of `month`."""
    return add_months(month, 1) - dt.timedelta(days=1)
