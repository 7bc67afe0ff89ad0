"""The pytest-xdist groups and the slowest-first order of the test files (make test)."""

from __future__ import annotations

from pathlib import Path

# pytest-xdist (`make test` runs CRM_TEST_WORKERS workers, default 2, with --dist loadgroup
# --no-loadscope-reorder, scripts/tasks.py), with the groups of xdist_group_of below (xdist 3.8's
# own xdist_group marks have no effect under pytest 9, which ignores the node id xdist rewrites):
# a test file is one group, kept in one worker so that its module fixtures are built once; the
# tests of SPREAD_FILES (which use only session fixtures, built once per run under a lock, see
# build_once, and their own tmp_path) and of OWN_GROUP (a module fixture of their own) are groups
# of their own and go to whichever worker is free. Groups are handed out in SLOW_FIRST's order,
# the longest first, so that the workers finish together; the first groups need no session
# warehouse, so one worker starts on them while the other builds it; files not listed come after,
# in their usual order. Without xdist the order is the same.
SPREAD_FILES = {"test_incremental.py"}
OWN_GROUP = {"test_calendar_eras.py::test_thirty_years_give_372_report_months_in_every_monthly_mart"}
SLOW_FIRST = (  # worker seconds of each file in a make test run (2 workers), longest first
    "test_calendar_eras.py",  # 55 s (two module builds of other eras, with every data test)
    "test_incremental.py",  # 175 s: 15 tests of 5-18 s, one by one
    "test_bi_handoff.py",  # 50 s (real builds and publishes)
    "test_refresh.py",  # 48 s
    "test_benchmark.py",  # 42 s (scripts/benchmark.py at 4k lines)
    "test_odbc.py",  # 40 s (a plain dbt build while ODBC readers read)
    "test_staging_quality.py",  # 37 s
    "test_app_browser.py",  # 34 s (Streamlit + chromium)
    "test_rfm_schemes.py",  # 23 s
    "test_campaigns.py",  # 19 s (a 9,000-customer build with campaigns)
    "test_customer_value_cdnow.py",  # 15 s
    "test_snapshot_reference.py",  # 11 s
    "test_app_streamlit.py",  # 11 s
    "test_customer_value_recovery.py",  # 9 s
    "test_export_safety.py",  # 7 s
)


def xdist_group_of(nodeid: str) -> str:
    """The group of a test: its file, or the test itself (SPREAD_FILES, OWN_GROUP)."""
    path = nodeid.split("::", 1)[0]
    name = Path(path).name
    if name in SPREAD_FILES or name + nodeid[len(path) :] in OWN_GROUP:
        return nodeid
    return path


def slowest_first(items) -> None:
    """Sort the collected tests in SLOW_FIRST's order of their files (stable: a file's order is kept)."""
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
