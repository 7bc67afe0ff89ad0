"""What a test needs from this machine and cannot build itself (a browser, an ODBC driver).

A test that lacks it is skipped on a developer's machine and fails in CI (CI=true), where every
test must run: a skip there would be a test that passes without testing.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def lacking(reason: str):
    """Skip the test (fail under CI=true): this machine lacks what it needs (reason says what and how to get it)."""
    if IN_CI:
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)
