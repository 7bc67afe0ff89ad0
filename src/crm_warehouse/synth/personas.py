"""Customer personas (their shares and buying behaviour) and the product categories and pack sizes."""

from __future__ import annotations

import numpy as np

PERSONAS = [
    "none",
    "device_only",
    "other_only",
    "diamond",
    "platinum",
    "gold",
    "silver",
    "bronze",
    "lapser",
    "returner",
    "newcomer",
    "casual",
    "anonymous",
    "one_time",
]
(
    P_NONE,
    P_DEVICE,
    P_OTHER,
    P_DIAMOND,
    P_PLATINUM,
    P_GOLD,
    P_SILVER,
    P_BRONZE,
    P_LAPSER,
    P_RETURNER,
    P_NEWCOMER,
    P_CASUAL,
    P_ANON,
    P_ONE_TIME,
) = range(14)
# shares of the identified (non-anonymous) customers; casual buyers take the rest
PERSONA_SHARES = {
    P_NONE: 0.07,
    P_DEVICE: 0.05,
    P_OTHER: 0.04,
    P_DIAMOND: 0.02,
    P_PLATINUM: 0.025,
    P_GOLD: 0.05,
    P_SILVER: 0.07,
    P_BRONZE: 0.09,
    P_LAPSER: 0.14,
    P_RETURNER: 0.09,
    P_NEWCOMER: 0.06,
}
ANON_SHARE = 0.004  # share of customers that are walk-in accounts (at least 3)
ANON_LINE_SHARE = 0.08  # share of the target lines bought by walk-in accounts
# one-time buyers (only with --one-time-share, retail-like data): one invoice, or a second one within
# a year, of the casual buyers' basket; their share is taken from the identified customers first
P_ONE_TIME_SECOND = 0.35  # share of them with a second invoice
ONE_TIME_SECOND_GAP = 12  # the second invoice 1..12 months after the first (within the report period)

# buying behaviour of the schedule personas ("tier codes")
T_DIAMOND, T_PLATINUM, T_GOLD, T_SILVER, T_BRONZE = range(5)
SCHEDULE_PERSONAS = (P_DIAMOND, P_PLATINUM, P_GOLD, P_SILVER, P_BRONZE, P_LAPSER, P_RETURNER, P_NEWCOMER)
# behaviour drawn for lapsers / returners / newcomers
SUB_TIER_P = np.array([0.07, 0.08, 0.30, 0.35, 0.20])

P_EXTRA_OTHER_LINE = 0.12  # a schedule order also has an accessories / spare_parts line
P_RETURN = 0.02  # share of purchase lines returned later (own return invoice)
P_DEVICE_FIRST = 0.45  # core buyers with a device invoice before the first consumable

PACKS = np.array([50, 100, 250, 500, 1000])
CATEGORIES = ["device", "consumable", "accessories", "spare_parts"]
C_DEVICE, C_CONSUMABLE, C_ACCESSORY, C_SPARE = range(4)
