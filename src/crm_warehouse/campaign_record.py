"""Recording a campaign list as a campaign with a holdout (SPEC section 11).

A campaign is a name, a channel, a send date and its members. A share of the members (default 10%)
is held out at random and not contacted. The draw is reproducible: a member is held out when the
SHA-256 hash of "<campaign id>|<customer id>", read as a number in [0, 1), is below the holdout
share. The campaign id is derived from the send date and the name, so the same command twice gives
the same id, the same groups and the same file (Python's hash() is salted per process and is
never used).

The record is one CSV file per campaign in the campaigns folder, the layout the warehouse reads
(source crm_campaigns, models/staging/crm/_crm__sources.yml):

    campaign_id,campaign_name,channel,send_date,report_month,customer_id,member_group

The folder is CRM_CAMPAIGN_DIR, by default the `campaigns` folder inside the raw landing folder
CRM_RAW_DIR (default data/demo); a relative path is relative to the project root, as for dbt.

A channel campaign never records a customer without that channel's consent, in either group: the
members are the list's customers whose consent flag for the channel is 1.

Used by crm_warehouse/campaign_list.py (scripts/campaign_list.py --campaign-name ...), the app's campaign page and
scripts/generate_data.py (the demo campaigns). Only the standard library is needed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crm_warehouse import project_settings
from crm_warehouse.paths import ROOT

RECORD_COLUMNS = ["campaign_id", "campaign_name", "channel", "send_date", "report_month", "customer_id", "member_group"]
CONTACTED = "contacted"
HOLDOUT = "holdout"
DEFAULT_HOLDOUT_SHARE = 0.10
# {channel: consent column}: var crm_contact_channels of dbt_project.yml
CONSENT_COLUMNS = {name: columns["consent_column"] for name, columns in project_settings.contact_channels().items()}


def campaign_dir() -> Path:
    """The campaigns folder: CRM_CAMPAIGN_DIR, or `campaigns` inside CRM_RAW_DIR (default data/demo)."""
    configured = os.environ.get("CRM_CAMPAIGN_DIR")
    if configured:
        folder = Path(configured)
    else:
        folder = Path(os.environ.get("CRM_RAW_DIR") or ROOT / "data" / "demo") / "campaigns"
    return folder if folder.is_absolute() else ROOT / folder


def slug(name: str) -> str:
    """'Winter reactivation (email)!' -> 'winter_reactivation_email'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return text[:60] or "campaign"


def make_campaign_id(name: str, send_date: dt.date) -> str:
    """The campaign id: send date and name, e.g. 20251201_winter_reactivation."""
    return f"{send_date:%Y%m%d}_{slug(name)}"


def holdout_score(campaign_id: str, customer_id: str) -> float:
    """A number in [0, 1) fixed by the campaign and the customer (SHA-256, first 8 bytes)."""
    digest = hashlib.sha256(f"{campaign_id}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def member_group(campaign_id: str, customer_id: str, holdout_share: float) -> str:
    return HOLDOUT if holdout_score(campaign_id, customer_id) < holdout_share else CONTACTED


def parse_date(value: str | dt.date, what: str = "send date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ValueError(f"invalid {what} {value!r}: expected YYYY-MM-DD") from error


@dataclass
class Campaign:
    campaign_id: str
    campaign_name: str
    channel: str | None
    send_date: dt.date
    report_month: dt.date
    holdout_share: float
    members: list[tuple[str, str]]  # (customer_id, member_group), ordered by customer_id
    excluded_without_consent: int = 0

    @property
    def contacted(self) -> list[str]:
        return [customer for customer, group in self.members if group == CONTACTED]

    @property
    def holdout(self) -> list[str]:
        return [customer for customer, group in self.members if group == HOLDOUT]

    @property
    def file_name(self) -> str:
        return f"campaign_{self.campaign_id}.csv"

    def record_rows(self) -> list[list[str]]:
        return [
            [
                self.campaign_id,
                self.campaign_name,
                self.channel or "",
                self.send_date.isoformat(),
                self.report_month.isoformat(),
                customer,
                group,
            ]
            for customer, group in self.members
        ]

    def to_csv_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(RECORD_COLUMNS)
        writer.writerows(self.record_rows())
        return buffer.getvalue().encode("utf-8")


def draw_campaign(
    customers: Iterable[dict],
    *,
    campaign_name: str,
    channel: str | None,
    send_date: str | dt.date,
    report_month: dt.date,
    holdout_share: float = DEFAULT_HOLDOUT_SHARE,
) -> Campaign:
    """Members and groups of a campaign from the list's customers (dicts with customer_id and, for a
    channel campaign, that channel's consent column opt_email / opt_sms / opt_phone)."""
    name = (campaign_name or "").strip()
    if not name:
        raise ValueError("a campaign needs a name (--campaign-name)")
    if not 0 <= float(holdout_share) < 1:
        raise ValueError(f"holdout share must be at least 0 and below 1, got {holdout_share}")
    channel = (channel or "").strip().lower() or None
    if channel is not None and channel not in CONSENT_COLUMNS:
        raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(CONSENT_COLUMNS)}")
    send = parse_date(send_date)
    month = report_month.replace(day=1)
    if send < month:
        raise ValueError(f"send date {send} is before the list's report month {month:%Y-%m}")
    campaign_id = make_campaign_id(name, send)
    members: dict[str, str] = {}
    excluded = 0
    for row in customers:
        customer_id = str(row["customer_id"])
        if channel is not None and not _consents(row.get(CONSENT_COLUMNS[channel])):
            excluded += 1  # never a member, in either group, without the channel's consent
            continue
        members[customer_id] = member_group(campaign_id, customer_id, float(holdout_share))
    if not members:
        raise ValueError("the list is empty: nothing to record")
    return Campaign(campaign_id, name, channel, send, month, float(holdout_share), sorted(members.items()), excluded)


def _consents(value) -> bool:
    try:
        return value is not None and int(value) == 1
    except (TypeError, ValueError):
        return False


def write_campaign(campaign: Campaign, folder: Path | str | None = None) -> Path:
    """Write the record into the campaigns folder (created if needed); the same campaign overwrites
    its own file with the same content."""
    folder = Path(folder) if folder else campaign_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / campaign.file_name
    temporary = path.with_suffix(".csv.tmp")
    temporary.write_bytes(campaign.to_csv_bytes())
    os.replace(temporary, path)
    return path
