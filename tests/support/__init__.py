"""Helpers of the test suite, imported by tests/conftest.py (which re-exports the names tests use).

- dbt_runner: run dbt against a raw folder and a throw-away DuckDB file (in this process or as one)
- shared: session results built once per test run, even with several pytest-xdist workers
- scheduling: the pytest-xdist groups and the slowest-first order of `make test`
- machine: what a test needs from this machine (a browser, a driver): skip here, fail in CI
- private_api: every use of a library's private API, each behind one function with its own test
"""
