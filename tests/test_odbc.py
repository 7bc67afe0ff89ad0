"""Power BI's real path: the DuckDB ODBC driver reading the serving file (docs/powerbi.md).

Runs wherever a driver is available: CRM_ODBC_DRIVER (a driver library path or a registered driver
name), else ../shared/odbc/libduckdb_odbc.so beside the checkout (a Linux build of the official
driver, the same code Windows users install). Skipped with the reason elsewhere; in CI (CI=true) a
missing or unusable driver (no unixODBC, no pyodbc) is a failure, not a skip (tests/support/machine.py).

Everything goes through scripts/odbc_check.py, which connects with exactly the DSN-less connection
string of docs/powerbi.md (read-only) in a child process, so a driver crash is a test failure with a
message instead of a dead pytest:

* the navigator's view (SQLTables / SQLColumns) of every mart of the serving file, whatever marts
  exist, and the ODBC type of every column against the Power BI type it should become;
* every row of every mart read through the driver equals DuckDB's own reading (values, NULLs, text
  as UTF-16 like Power BI and as UTF-8); accents, emoji, leading zeros and extreme decimals on a
  serving file published from a doctored copy of the build warehouse;
* a reader holding the serving file over ODBC while plain `dbt build` runs and publishes: the build
  succeeds, every read sees the old or the new file completely, never a mix, and right after the
  swap a new connection sees the new data (a failing gate skipping the publish: tests/test_refresh.py);
* the publish node descends from every model and every data test has parents, so dbt runs it last.
"""

from __future__ import annotations

import decimal
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

import odbc_check  # scripts/ is on the import path: pyproject.toml [tool.pytest.ini_options]
from conftest import BIN, ROOT, dbt_env, lacking
from crm_warehouse import publish

DEMO_RAW = ROOT / "data" / "demo"


# ---------------------------------------------------------------------------------------------
# is a driver usable here?
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def odbc_driver() -> str:
    driver = odbc_check.default_driver()
    explicit = bool(os.environ.get("CRM_ODBC_DRIVER"))
    if driver is None or (not explicit and not Path(driver).exists()):
        lacking(f"no DuckDB ODBC driver: set CRM_ODBC_DRIVER or provide {odbc_check.SHARED_DRIVER}")
    if explicit and ("/" in driver or "\\" in driver) and not Path(driver).exists():
        pytest.fail(f"CRM_ODBC_DRIVER={driver} does not exist")
    probe = subprocess.run(
        [sys.executable, "-c", "import pyodbc; print(pyodbc.version)"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        lacking(
            "pyodbc cannot be imported (Linux: `apt-get install -y unixodbc` for libodbc.so.2, "
            f"and requirements.txt for pyodbc): {probe.stderr.strip().splitlines()[-1:]}"
        )
    if probe.stdout.strip() != "4.0.39":
        pytest.fail(
            f"pyodbc {probe.stdout.strip()} is installed; requirements.txt pins 4.0.39 "
            "(pyodbc 5 crashes the DuckDB driver on DECIMAL columns, see docs/powerbi.md)"
        )
    return driver


def odbc_read(driver: str, database: Path, **kwargs) -> dict:
    try:
        return odbc_check.read_through_odbc(driver, database.resolve(), **kwargs)
    except RuntimeError as error:
        pytest.fail(str(error))


def duckdb_catalog(database: Path) -> dict[str, dict[str, str]]:
    return odbc_check.duckdb_types(database)


def as_odbc_sees_it(value):
    """DuckDB's Python value in the form the driver hands it over (BOOLEAN comes as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def duckdb_rows(database: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(f'select * from main."{table}" order by all').fetchall()
    return [tuple(as_odbc_sees_it(value) for value in row) for row in rows]


def assert_same_rows(table: str, through_odbc: list[tuple], through_duckdb: list[tuple]) -> None:
    assert len(through_odbc) == len(through_duckdb), (
        f"{table}: {len(through_odbc)} rows over ODBC, {len(through_duckdb)} in DuckDB"
    )
    for number, (seen, expected) in enumerate(zip(through_odbc, through_duckdb)):
        if seen != expected:
            differing = [(i, a, b) for i, (a, b) in enumerate(zip(seen, expected)) if a != b or type(a) is not type(b)]
            raise AssertionError(f"{table} row {number} differs over ODBC (column, odbc, duckdb): {differing[:5]}")
        # same value and same Python type: a Decimal stays a Decimal, a date a date, text text
        for a, b in zip(seen, expected):
            assert type(a) is type(b), (table, number, a, b)


# ---------------------------------------------------------------------------------------------
# connection string and pinning
# ---------------------------------------------------------------------------------------------
def test_documented_connection_string_is_read_only_and_the_pbids_one():
    documented = odbc_check.documented_connection_string()
    settings = dict(part.split("=", 1) for part in documented.strip(";").split(";"))
    assert settings["Driver"] == "{DuckDB Driver}"
    assert settings["access_mode"] == "read_only"
    pbids = json.loads((ROOT / "docs" / "crm_serving.pbids").read_text(encoding="utf-8"))
    assert pbids["connections"][0]["details"]["address"]["connectionString"] == documented
    # the test connection string is the documented one with only the driver and the path replaced
    built = odbc_check.connection_string("/x/libduckdb_odbc.so", Path("/data/crm_serving.duckdb"), documented)
    assert built == "Driver={/x/libduckdb_odbc.so};Database=/data/crm_serving.duckdb;access_mode=read_only"


def test_a_driver_crash_is_reported_as_a_failure_with_a_message(tmp_path):
    """The ODBC reads run in a child: a child killed by SIGSEGV becomes a RuntimeError, not a dead pytest."""
    if os.name == "nt":
        pytest.skip("POSIX signals")
    crashing = tmp_path / "python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    with pytest.raises(RuntimeError, match=r"killed by signal 11 \(driver crash\)"):
        odbc_check.read_through_odbc("/nowhere/driver.so", tmp_path / "x.duckdb", python=str(crashing))


# ---------------------------------------------------------------------------------------------
# what the navigator shows: every mart, every column with a type Power BI maps as intended
# ---------------------------------------------------------------------------------------------
def test_type_check_rejects_what_older_drivers_reported():
    """The check has teeth: DECIMAL as binary (drivers before 1.2.2.2 / 1.3.0.0), wrong precision,
    VARCHAR as unknown, DATE as text are problems."""
    assert odbc_check.type_problem("DECIMAL(18,4)", {"data_type": -2, "column_size": 16, "decimal_digits": None})
    assert odbc_check.type_problem("DECIMAL(18,4)", {"data_type": -3, "column_size": 16, "decimal_digits": None})
    assert odbc_check.type_problem("DECIMAL(18,4)", {"data_type": 2, "column_size": 38, "decimal_digits": 0})
    assert odbc_check.type_problem("VARCHAR", {"data_type": 0, "column_size": None, "decimal_digits": None})
    assert odbc_check.type_problem("DATE", {"data_type": 12, "column_size": None, "decimal_digits": None})
    assert odbc_check.type_problem("BIGINT", {"data_type": 8, "column_size": 53, "decimal_digits": None})
    assert odbc_check.type_problem("HUGEINT", {"data_type": 2, "column_size": 38, "decimal_digits": 0})
    assert odbc_check.type_problem("DECIMAL(18,4)", {"data_type": 2, "column_size": 18, "decimal_digits": 4}) is None


def test_navigator_lists_every_mart_with_the_intended_power_bi_types(serving_db, odbc_driver, tmp_path):
    odbc = odbc_read(odbc_driver, serving_db, read_rows=False)
    catalog = duckdb_catalog(serving_db)
    assert len(catalog) >= 16
    # SQLTables lists exactly the tables of the serving file (whatever marts exist), as tables
    assert sorted(table["name"] for table in odbc["tables"]) == sorted(catalog)
    assert {(table["schema"], table["type"]) for table in odbc["tables"]} == {("main", "TABLE")}
    # SQLColumns gives every column, in order
    for table, columns in catalog.items():
        assert [column["name"] for column in odbc["columns"][table]] == list(columns), table
    lines, problems = odbc_check.type_report(catalog, odbc)
    assert problems == []
    by_type = {line["duckdb_type"]: line for line in lines}
    # the types the marts use today are all seen (a new type shows up in the table below)
    assert {"VARCHAR", "DATE", "DECIMAL(18,4)", "BIGINT", "INTEGER", "DOUBLE", "BOOLEAN"} <= set(by_type)
    assert by_type["DECIMAL(18,4)"]["odbc_code"] in {2, 3} and by_type["DECIMAL(18,4)"]["size"] == (18, 4)
    assert by_type["DATE"]["odbc_code"] == 91
    assert by_type["BOOLEAN"]["odbc_code"] == 1  # SQL_CHAR 'true' / 'false': see docs/powerbi.md
    assert all(line["odbc_code"] not in odbc_check.BINARY for line in lines)
    print("\n" + odbc_check.markdown(lines))  # the table for the record (pytest -s)


# ---------------------------------------------------------------------------------------------
# every row of every mart, as DuckDB reads it
# ---------------------------------------------------------------------------------------------
def test_every_row_of_every_mart_reads_as_duckdb_reads_it(serving_db, odbc_driver):
    """Text fetched as UTF-16 (SQL_C_WCHAR), as Power BI's Unicode ODBC calls do."""
    odbc = odbc_read(odbc_driver, serving_db, text_ctype="wide")
    catalog = duckdb_catalog(serving_db)
    assert sorted(odbc["rows"]) == sorted(catalog)
    for table, columns in catalog.items():
        expected = duckdb_rows(serving_db, table)
        assert expected, f"{table} is empty: the comparison would prove little"
        assert_same_rows(table, odbc["rows"][table], expected)
        described = dict(odbc["described"][table])
        names = list(described)
        for column, data_type in columns.items():
            if data_type.startswith("DECIMAL"):
                assert described[column] == "Decimal", (table, column, described[column])  # never bytes
            if data_type == "BOOLEAN":  # what the Power Query step of docs/powerbi.md converts
                values = {row[names.index(column)] for row in odbc["rows"][table]}
                assert values <= {"true", "false", None} and values & {"true", "false"}, (table, column, values)
    # the real data has NULL text (customers without a tier); leading zeros: the edge test below
    # (mobile numbers, the real leading-zero text, are personal data and left the serving file)
    customers = odbc["rows"]["dim_customers"]
    names = [name for name, _ in odbc["described"]["dim_customers"]]
    tiers = [row[names.index("latest_value_tier")] for row in customers]
    assert any(value is None for value in tiers) and any(value is not None for value in tiers)


# What docs/powerbi.md (section "Troubleshooting") states about the driver, measured through the raw
# ODBC API. A new driver that behaves differently fails this test: re-measure and update the docs.
DOCUMENTED_FETCH_PATTERNS = {
    "decimal: SQLSetDescField(ARD, SQL_DESC_SCALE) then SQLGetData(SQL_ARD_TYPE)": "crash (signal 11)",
    "varchar: SQLSetDescField(ARD, SQL_DESC_SCALE) then SQLGetData(SQL_ARD_TYPE)": "crash (signal 11)",
    "decimal: SQLGetData as SQL_C_WCHAR text": "'1234.5678', 18 bytes available",
    "decimal: SQLGetData as SQL_C_NUMERIC (default precision/scale)": "ok (19 bytes)",
    "decimal: SQLGetData as SQL_C_DOUBLE": "1234.5678",
    "boolean: SQLGetData as SQL_C_WCHAR text": "'false', 10 bytes available",
    "boolean: SQLGetData as SQL_C_BIT": "error (SQLRETURN -1)",
    "boolean: SQLBindCol SQL_C_WCHAR, buffer sized from COLUMN_SIZE (1 character + NUL)": "'f' truncated (SQL_SUCCESS_WITH_INFO), 10 bytes available",
    "varchar: SQLGetData as SQL_C_WCHAR text (accents)": "'José Zürich', 22 bytes available",
    "varchar: SQLGetData as SQL_C_CHAR text (accents)": "b'Jos\\xc3\\xa9 Z\\xc3\\xbcrich' (UTF-8 bytes)",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ctypes on unixODBC's libodbc.so.2")
def test_client_fetch_patterns_behave_as_documented(serving_db, odbc_driver):
    found = odbc_check.fetch_patterns(odbc_driver, serving_db.resolve())
    assert found == DOCUMENTED_FETCH_PATTERNS, (
        "the driver behaves differently from what docs/powerbi.md states: re-measure "
        "(python scripts/odbc_check.py --fetch-patterns) and update the docs and this test"
    )


EDGE_TEXT = {  # text columns of dim_customers (names and contact details are not in the serving file)
    "customer_group": "José Ñúñez-Łukasz 山田 Ωμέγα 🙂",
    "city": "Zürich – Saint-Étienne",
    "latest_rfm_cell": "0007123456",  # leading zeros, as a phone number would have
    "dq_flags": "",  # empty text is not NULL
}
EDGE_DECIMALS = [
    decimal.Decimal("99999999999999.9999"),
    decimal.Decimal("-99999999999999.9999"),
    decimal.Decimal("-0.0001"),
    decimal.Decimal("0.0000"),
]


@pytest.fixture(scope="module")
def edge_serving(build_db, tmp_path_factory) -> Path:
    """A serving file published (scripts/publish.py) from a copy of the build warehouse in which a
    customer holds accents, emoji and leading-zero text, and sales lines hold the extreme
    DECIMAL(18,4) values."""
    root = tmp_path_factory.mktemp("odbc_edge")
    copy = root / "crm.duckdb"
    shutil.copy(build_db, copy)
    with duckdb.connect(str(copy)) as con:
        customer = con.execute("select min(customer_id) from marts.dim_customers where not is_anonymous").fetchone()[0]
        con.execute(
            "update marts.dim_customers set customer_group = ?, city = ?, latest_rfm_cell = ?, dq_flags = ? "
            "where customer_id = ?",
            [*EDGE_TEXT.values(), customer],
        )
        lines = [
            row[0]
            for row in con.execute(
                "select rowid from marts.fct_sales order by rowid limit ?", [len(EDGE_DECIMALS)]
            ).fetchall()
        ]
        for line, value in zip(lines, EDGE_DECIMALS):
            con.execute("update marts.fct_sales set revenue = ? where rowid = ?", [value, line])
    publish.publish(copy, root / "crm_serving.duckdb", root / "parquet", log=lambda message: None)
    return root / "crm_serving.duckdb"


@pytest.mark.parametrize("text_ctype", ["wide", "narrow"])
def test_accents_emoji_leading_zeros_and_extreme_decimals(edge_serving, odbc_driver, text_ctype):
    odbc = odbc_read(odbc_driver, edge_serving, text_ctype=text_ctype, tables=["dim_customers", "fct_sales"])
    for table in ("dim_customers", "fct_sales"):
        assert_same_rows(table, odbc["rows"][table], duckdb_rows(edge_serving, table))
    names = [name for name, _ in odbc["described"]["dim_customers"]]
    edge = [
        row
        for row in odbc["rows"]["dim_customers"]
        if row[names.index("customer_group")] == EDGE_TEXT["customer_group"]
    ]
    assert len(edge) == 1, "the accented customer did not come through the driver unchanged"
    assert {column: edge[0][names.index(column)] for column in EDGE_TEXT} == EDGE_TEXT
    revenue = names_of(odbc, "fct_sales").index("revenue")
    seen = {row[revenue] for row in odbc["rows"]["fct_sales"]}
    assert set(EDGE_DECIMALS) <= seen
    assert all(isinstance(value, decimal.Decimal) for value in seen if value is not None)


def names_of(odbc: dict, table: str) -> list[str]:
    return [name for name, _ in odbc["described"][table]]


# ---------------------------------------------------------------------------------------------
# a reader on ODBC while plain `dbt build` runs and publishes
# ---------------------------------------------------------------------------------------------
# mode "fresh": every round opens a new connection (the only one of this process), reads the row
# count of every table the navigator lists and the build time stamp, closes it, prints one JSON line.
# mode "held": opens one connection at start and keeps it; every round reads on it, and also on a new
# connection opened while the held one is open. Any error ends the reader with a non-zero exit.
ODBC_READER = textwrap.dedent("""
    import json, os, sys, time, pyodbc
    connection, stop_file, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    def state(con):
        tables = sorted(row.table_name for row in con.cursor().tables())
        out = {t: con.cursor().execute('select count(*) from "' + t + '"').fetchone()[0] for t in tables}
        out["built_at"] = str(con.cursor().execute("select max(built_at) from fct_data_quality").fetchone()[0])
        return out
    def fresh_state():
        con = pyodbc.connect(connection, autocommit=True)
        try:
            return state(con)
        finally:
            con.close()
    held = pyodbc.connect(connection, autocommit=True) if mode == "held" else None
    while True:
        if mode == "held":
            print(json.dumps({"held": state(held), "fresh_while_held": fresh_state()}), flush=True)
        else:
            print(json.dumps({"fresh": fresh_state()}), flush=True)
        if os.path.exists(stop_file):
            break
        time.sleep(0.2)
""")


def odbc_state(driver: str, database: Path) -> dict:
    """What a new ODBC connection in a new process reads: row counts and the build time stamp."""
    stop = database.with_name("odbc-state-stop")
    stop.touch()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                ODBC_READER,
                odbc_check.connection_string(driver, database.resolve()),
                str(stop),
                "fresh",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop.unlink()
    assert result.returncode == 0, f"ODBC read failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.splitlines()[0])["fresh"]


@pytest.fixture
def build_copy(build_db, tmp_path) -> Path:
    """A copy of the demo build warehouse (built by `make build` / `make test`) with its serving file."""
    with duckdb.connect(str(build_db), read_only=True) as con:  # fails clearly if dbt holds it right now
        con.execute("select 1").fetchall()
    copy = tmp_path / "wh" / "crm.duckdb"
    copy.parent.mkdir()
    shutil.copy(build_db, copy)
    publish.publish(copy, copy.with_name("crm_serving.duckdb"), copy.parent / "parquet", log=lambda message: None)
    return copy


def plain_dbt_build(build_db: Path, raw_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Literally `dbt build` in the project: no wrapper, the serving file and Parquet at their defaults."""
    env = dbt_env(raw_dir, build_db)
    for name in ("CRM_SERVING_PATH", "CRM_PARQUET_DIR"):
        env.pop(name, None)
    return subprocess.run(
        [str(BIN / "dbt"), "build", *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def node_status(build_db: Path, name: str) -> str:
    results = json.loads((build_db.parent / "target" / "run_results.json").read_text())["results"]
    return next(result["status"] for result in results if result["unique_id"] == f"model.crm_warehouse.{name}")


def read_rounds(path: Path) -> list[dict]:
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def wait_for_round(path: Path, reader: subprocess.Popen, accept, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(accept(round_) for round_ in read_rounds(path)):
            return
        if reader.poll() is not None:
            raise AssertionError(f"the ODBC reader ended ({reader.returncode}):\n{reader.stderr.read()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError("the ODBC reader never produced the expected read")


@pytest.mark.skipif(os.name == "nt", reason="POSIX rename: on Windows a held serving file is left as *.pending.duckdb")
def test_plain_dbt_build_publishes_while_odbc_readers_read(build_copy, odbc_driver, tmp_path):
    serving = build_copy.with_name("crm_serving.duckdb")
    before = odbc_state(odbc_driver, serving)
    inode_before = serving.stat().st_ino
    stop = tmp_path / "stop"
    readers, logs = {}, {}
    try:
        for mode in ("held", "fresh"):
            logs[mode] = tmp_path / f"{mode}.jsonl"
            with open(logs[mode], "w") as output:
                readers[mode] = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        ODBC_READER,
                        odbc_check.connection_string(odbc_driver, serving.resolve()),
                        str(stop),
                        mode,
                    ],
                    stdout=output,
                    stderr=subprocess.PIPE,
                    text=True,
                )
        for mode, reader in readers.items():  # both read before the build starts
            wait_for_round(logs[mode], reader, lambda round_: True)
        started = time.monotonic()
        build = plain_dbt_build(build_copy, DEMO_RAW)
        build_seconds = time.monotonic() - started
        assert build.returncode == 0, (
            f"dbt build failed while ODBC readers held the serving file:\n{build.stdout[-5000:]}"
        )
        for mode, reader in readers.items():
            assert reader.poll() is None, (
                f"the {mode} ODBC reader died during the build:\n{reader.stderr.read()[-3000:]}"
            )
        # right after the swap, a new ODBC connection (new process) sees the new file
        after = odbc_state(odbc_driver, serving)
        wait_for_round(logs["fresh"], readers["fresh"], lambda round_: round_["fresh"] == after)
    finally:
        stop.touch()
        errors = {}
        for mode, reader in readers.items():
            try:
                errors[mode] = reader.communicate(timeout=60)[1]
            except subprocess.TimeoutExpired:
                reader.kill()
                errors[mode] = reader.communicate()[1]
    for mode, reader in readers.items():
        assert reader.returncode == 0, f"the {mode} ODBC reader failed ({reader.returncode}):\n{errors[mode][-3000:]}"

    assert node_status(build_copy, "publish_serving") == "success"
    assert f"published {len(before) - 1} marts to {serving}" in build.stdout
    assert serving.stat().st_ino != inode_before, "the serving file was not replaced"
    assert after["built_at"] > before["built_at"], "plain dbt build did not change what Power BI reads"
    assert after.keys() == before.keys()
    assert not list(serving.parent.glob("*.tmp-*")) and not serving.with_name("crm_serving.pending.duckdb").exists()

    # every new connection saw the old or the new file, complete, never a mix; it read during the build
    fresh = [round_["fresh"] for round_ in read_rounds(logs["fresh"])]
    assert all(state in (before, after) for state in fresh), [state["built_at"] for state in fresh]
    during = [state for state in fresh if state == before]
    assert len(during) >= 3, f"only {len(during)} reads of the old file in a {build_seconds:.0f} s build"
    assert fresh[0] == before and fresh[-1] == after
    # a held connection keeps the file it opened; and so does every new connection of that process:
    # the driver shares one database instance per file and process (docs/powerbi.md, section 6)
    held = read_rounds(logs["held"])
    assert len(held) >= 3
    assert all(round_["held"] == before and round_["fresh_while_held"] == before for round_ in held)


def test_publish_node_runs_after_every_model_and_every_data_test(demo_manifest):
    """dbt build runs a node after a data test only when the node descends from every node the test
    depends on. publish_serving must descend from every model, and every data test must depend on
    some of its ancestors, so no failing test can let a publish through. A new leaf model (or a test without a
    ref) makes this fail."""
    manifest = demo_manifest
    nodes = manifest["nodes"]
    publish_node = "model.crm_warehouse.publish_serving"
    ancestors, pending = set(), [publish_node]
    while pending:
        for parent in nodes.get(pending.pop(), {}).get("depends_on", {}).get("nodes", []):
            if parent not in ancestors:
                ancestors.add(parent)
                pending.append(parent)
    models = {key for key, node in nodes.items() if node["resource_type"] == "model"} - {publish_node}
    assert sorted(models - ancestors) == [], "add dbt.ref(...) for these to models/serving/publish_serving.py"
    marts = {f"model.crm_warehouse.{path.stem}" for path in (ROOT / "models" / "marts").glob("*.sql")}
    type_test = nodes["test.crm_warehouse.assert_marts_use_bi_safe_types"]["depends_on"]["nodes"]
    assert sorted(marts - set(type_test)) == [], (
        "add -- depends_on: {{ ref(...) }} for these to data_tests/assert_marts_use_bi_safe_types.sql"
    )
    for key, node in nodes.items():
        if node["resource_type"] == "test" and publish_node not in node["depends_on"]["nodes"]:
            parents = set(node["depends_on"]["nodes"])
            assert parents, f"{key} depends on nothing, so dbt build may publish before it runs"
            assert parents <= ancestors, f"{key} depends on nodes publish_serving does not descend from"
