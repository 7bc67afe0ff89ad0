"""Every use of a library's private API in the test suite, each behind one function.

tests/test_support.py calls each of them against the installed library, so an upgrade that removes or
renames what they reach into fails there, with a message that names the library and what changed,
instead of as a puzzling error in the middle of an unrelated test.
"""

from __future__ import annotations


class PrivateApiChanged(RuntimeError):
    """A library no longer has the private attribute the test suite relies on."""


def _require(owner: object, name: str, library: str, purpose: str) -> None:
    if not hasattr(owner, name):
        raise PrivateApiChanged(
            f"{library}: {getattr(owner, '__qualname__', owner)}.{name} is gone; tests/support/private_api.py "
            f"uses it to {purpose}. Find its replacement in the new version and update that function."
        )


def release_dbt_duckdb_instance() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in the process after a dbt command (its class
    attribute DuckDBConnectionManager._ENV, guarded by _LOCK), as the end of a dbt process would, so
    that a test can read or copy the file dbt wrote (tests/support/dbt_runner.invoke_dbt)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    purpose = "release the DuckDB file after an in-process dbt command"
    _require(DuckDBConnectionManager, "_LOCK", "dbt-duckdb", purpose)
    _require(DuckDBConnectionManager, "_ENV", "dbt-duckdb", purpose)
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def group_scheduler(config, log, group_of):
    """pytest-xdist's --dist loadscope scheduler with its scope (the group a test is sent with) given
    by group_of(nodeid): it overrides LoadScopeScheduling._split_scope, xdist's own hook for that."""
    from xdist.scheduler import LoadScopeScheduling

    _require(LoadScopeScheduling, "_split_scope", "pytest-xdist", "give each test file its own xdist group")

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)
