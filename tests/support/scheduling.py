"""The pytest-xdist groups and the slowest-first order of the test files (make test)."""

from __future__ import annotations

from pathlib import Path

# pytest-xdist (`make test` runs CRM_TEST_WORKERS workers, default 2, with --dist loadgroup
# --no-loadscope-reorder, scripts/tasks.py), with the groups of xdist_group_of below (xdist 3.8's
# own xdist_group marks have no effect under pytest 9, which ignores the node id xdist rewrites):
# a test file is one group, kept in one worker so that its module fixtures are built once; the
# tests of SPREAD_FILES (which use only session fixtures, built once per run under a lock, see
# build_once, and their own tmp_path) and of OWN_GROUP (a module fixture of their own) are groups
# of their own and go to whichever worker is free. Groups are handed out in file_order, the longest
# first, so that the workers finish together; the first groups need no session warehouse, so one
# worker starts on them while the other builds it. Without xdist the order is the same.
SPREAD_FILES = {"test_incremental.py"}
OWN_GROUP = {"test_calendar_eras.py::test_thirty_years_give_372_report_months_in_every_monthly_mart"}
# The order of a run without measurements of its own (a fresh clone: pytest's cache is empty), the
# longest first as measured on a `make test` run; after a full run, the next run orders the files by
# the seconds that run measured (FILE_SECONDS_KEY in pytest's cache, record_file_seconds).
SLOW_FIRST = (
    "test_calendar_eras.py",
    "test_incremental.py",
    "test_customer_value_cdnow.py",
    "test_bi_handoff.py",
    "test_refresh.py",
    "test_benchmark.py",
    "test_odbc.py",
    "test_staging_quality.py",
    "test_app_browser.py",
    "test_pii.py",
    "test_rfm_schemes.py",
    "test_campaigns.py",
    "test_snapshot_reference.py",
    "test_app_streamlit.py",
    "test_customer_value_recovery.py",
    "test_export_safety.py",
)
FILE_SECONDS_KEY = "crm/file_seconds"


def xdist_group_of(nodeid: str) -> str:
    """The group of a test: its file, or the test itself (SPREAD_FILES, OWN_GROUP)."""
    path = nodeid.split("::", 1)[0]
    name = Path(path).name
    if name in SPREAD_FILES or name + nodeid[len(path) :] in OWN_GROUP:
        return nodeid
    return path


def file_order(names: list[str], measured: dict[str, float] | None) -> list[str]:
    """The test files (names in collection order), longest first: by the seconds of the last full run
    when it measured every one of them, else SLOW_FIRST's order, files it does not list after in
    collection order. Deterministic (a stable sort of a list, never of a set): every xdist worker
    must collect the same order."""
    if measured and set(names) <= set(measured):
        return sorted(names, key=lambda name: -measured[name])
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    return sorted(names, key=lambda name: rank.get(name, len(rank)))


def slowest_first(items, measured: dict[str, float] | None = None) -> None:
    """Sort the collected tests in file_order (stable: a file's own order is kept)."""
    names = list(dict.fromkeys(item.path.name for item in items))
    order = {name: position for position, name in enumerate(file_order(names, measured))}
    items.sort(key=lambda item: order[item.path.name])


def record_file_seconds(seconds: dict[str, float], report) -> None:
    """Add a test report's duration (setup, call, teardown) to its file's seconds."""
    name = Path(report.nodeid.split("::", 1)[0]).name
    seconds[name] = seconds.get(name, 0.0) + report.duration
