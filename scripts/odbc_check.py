#!/usr/bin/env python3
"""What Power BI sees through the DuckDB ODBC driver: catalog, column types and values of the serving file.

    python scripts/odbc_check.py [--driver PATH] [--database PATH] [--json FILE]

Connects with the DSN-less connection string of docs/powerbi.md (read-only; only the driver and the
file path are replaced), lists the tables and their columns the way Power BI's navigator does
(SQLTables, SQLColumns), and prints, for every DuckDB column type of the marts, the ODBC type the
driver reports and the Power BI type it becomes. Exit code 1 when a column is reported with an ODBC
type that does not give the intended Power BI type (e.g. DECIMAL as binary, text as unknown).

The ODBC calls run in a child process (`--worker`): a driver that crashes (as the DuckDB driver does
when a client sets fields of the application row descriptor, which pyodbc 5 does for numeric
columns) is reported as an error instead of killing the caller. Needs unixODBC (Debian: `apt-get
install unixodbc`) and pyodbc (requirements.txt) on Linux; on Windows the driver manager is built in.

Defaults: --driver from CRM_ODBC_DRIVER, else ../shared/odbc/libduckdb_odbc.so beside the checkout
(on Windows: the registered "DuckDB Driver"); --database is the serving file (scripts/publish.py).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "powerbi.md"
SHARED_DRIVER = ROOT.parent / "shared" / "odbc" / "libduckdb_odbc.so"

# ODBC SQL type codes (sql.h / sqlext.h).
ODBC_TYPES = {
    1: "SQL_CHAR",
    2: "SQL_NUMERIC",
    3: "SQL_DECIMAL",
    4: "SQL_INTEGER",
    5: "SQL_SMALLINT",
    6: "SQL_FLOAT",
    7: "SQL_REAL",
    8: "SQL_DOUBLE",
    12: "SQL_VARCHAR",
    91: "SQL_TYPE_DATE",
    92: "SQL_TYPE_TIME",
    93: "SQL_TYPE_TIMESTAMP",
    -1: "SQL_LONGVARCHAR",
    -2: "SQL_BINARY",
    -3: "SQL_VARBINARY",
    -4: "SQL_LONGVARBINARY",
    -5: "SQL_BIGINT",
    -6: "SQL_TINYINT",
    -7: "SQL_BIT",
    -8: "SQL_WCHAR",
    -9: "SQL_WVARCHAR",
    -10: "SQL_WLONGVARCHAR",
    0: "SQL_UNKNOWN_TYPE",
}
TEXT = {1, 12, -1, -8, -9, -10}
BINARY = {-2, -3, -4}


def intended(duckdb_type: str) -> tuple[str, set[int]]:
    """(Power BI type the column should become, ODBC types that give it) for a DuckDB column type."""
    data_type = duckdb_type.upper()
    if data_type == "VARCHAR":
        return "Text", TEXT
    if data_type in {"BIGINT", "INTEGER", "SMALLINT", "TINYINT"}:
        return "Whole number", {-5, 4, 5, -6}
    if data_type.startswith("DECIMAL"):
        return "Fixed decimal number", {2, 3}
    if data_type in {"DOUBLE", "FLOAT", "REAL"}:
        return "Decimal number", {8, 6, 7}
    if data_type == "DATE":
        return "Date", {91}
    if data_type == "TIMESTAMP":
        return "Date/Time", {93}
    if data_type == "BOOLEAN":
        # The driver reports BOOLEAN as SQL_CHAR with the text 'true' / 'false' (never SQL_BIT), so
        # Power BI shows Text; docs/powerbi.md changes the type to True/False in Power Query.
        return "Text 'true'/'false' -> True/False (Power Query step)", {1}
    return "not BI-safe", set()


def type_problem(duckdb_type: str, column: dict) -> str | None:
    """Why the reported ODBC column does not give the intended Power BI type, or None."""
    code = column["data_type"]
    target, allowed = intended(duckdb_type)
    if code in BINARY:
        return f"reported as binary ({ODBC_TYPES[code]}): Power BI would show Binary"
    if code not in allowed:
        return f"reported as {ODBC_TYPES.get(code, code)}, which does not give {target}"
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type.upper())
    if decimal and (column["column_size"], column["decimal_digits"]) != (int(decimal[1]), int(decimal[2])):
        return (
            f"precision/scale reported as {column['column_size']},{column['decimal_digits']} "
            f"instead of {decimal[1]},{decimal[2]}"
        )
    return None


# ---------------------------------------------------------------------------------------------
# connection string: the one docs/powerbi.md gives
# ---------------------------------------------------------------------------------------------
def documented_connection_string(docs: Path = DOCS) -> str:
    """The DSN-less connection string in the `text` block of section 2c of docs/powerbi.md."""
    text = docs.read_text(encoding="utf-8")
    section = text.split("### c. A DSN-less connection string", 1)[1]
    match = re.search(r"```text\n(.+?)\n```", section, re.S)
    if not match:
        raise SystemExit(f"{docs}: no ```text block with the connection string in section 2c")
    return match[1].strip()


def connection_string(driver: str, database: Path, template: str | None = None) -> str:
    """The documented string with only its Driver and Database values replaced."""
    template = template or documented_connection_string()
    parts = []
    for part in template.strip(";").split(";"):
        key, value = part.split("=", 1)
        if key.lower() == "driver":
            value = driver if driver.startswith("{") else "{" + driver + "}"
        elif key.lower() == "database":
            value = str(database)
        parts.append(f"{key}={value}")
    return ";".join(parts)


def default_driver() -> str | None:
    if os.environ.get("CRM_ODBC_DRIVER"):
        return os.environ["CRM_ODBC_DRIVER"]
    if SHARED_DRIVER.exists():
        return str(SHARED_DRIVER)
    return "DuckDB Driver" if os.name == "nt" else None


# ---------------------------------------------------------------------------------------------
# the ODBC side, in a child process
# ---------------------------------------------------------------------------------------------
def worker(connection: str, out: Path, text_ctype: str, read_rows: bool, only: list[str] | None = None) -> None:
    import pyodbc  # noqa: PLC0415  (only the child needs it)

    con = pyodbc.connect(connection, autocommit=True)
    if text_ctype == "wide":  # fetch text as UTF-16 (SQL_C_WCHAR), as Unicode Windows applications do
        con.setdecoding(pyodbc.SQL_CHAR, encoding="utf-16le", ctype=pyodbc.SQL_WCHAR)
        con.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-16le", ctype=pyodbc.SQL_WCHAR)
    else:
        con.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8", ctype=pyodbc.SQL_CHAR)
    result = {
        "driver": {
            "name": con.getinfo(pyodbc.SQL_DRIVER_NAME),
            "odbc": con.getinfo(pyodbc.SQL_DRIVER_ODBC_VER),
            "pyodbc": pyodbc.version,
        },
        "tables": [],
        "columns": {},
        "described": {},
        "rows": {},
    }
    for row in con.cursor().tables():
        result["tables"].append(
            {"catalog": row.table_cat, "schema": row.table_schem, "name": row.table_name, "type": row.table_type}
        )
    for table in result["tables"]:
        name = table["name"]
        result["columns"][name] = [
            {
                "name": column.column_name,
                "data_type": column.data_type,
                "type_name": column.type_name,
                "column_size": column.column_size,
                "decimal_digits": column.decimal_digits,
                "nullable": column.nullable,
            }
            for column in con.cursor().columns(table=name, schema=table["schema"])
        ]
        if read_rows and (not only or name in only):
            cursor = con.cursor()
            cursor.execute(f'select * from "{table["schema"]}"."{name}" order by all')
            result["described"][name] = [(item[0], item[1].__name__) for item in cursor.description]
            result["rows"][name] = [tuple(row) for row in cursor.fetchall()]
    con.close()
    with open(out, "wb") as handle:
        pickle.dump(result, handle)


def read_through_odbc(
    driver: str,
    database: Path,
    text_ctype: str = "narrow",
    read_rows: bool = True,
    python: str | None = None,
    timeout: int = 600,
    template: str | None = None,
    tables: list[str] | None = None,
) -> dict:
    """Catalog, columns and (optionally) every row of every table, read through the driver in a child
    process. Raises RuntimeError with the child's output when it fails or crashes."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "odbc.pickle"
        command = [
            python or sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(out),
            "--connection",
            connection_string(driver, database, template),
            "--text-ctype",
            text_ctype,
        ]
        if not read_rows:
            command.append("--catalog-only")
        for table in tables or []:
            command += ["--table", table]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            how = (
                f"was killed by signal {-result.returncode} (driver crash)"
                if result.returncode < 0
                else f"failed with exit code {result.returncode}"
            )
            raise RuntimeError(f"the ODBC reader {how}:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
        with open(out, "rb") as handle:
            return pickle.load(handle)


# ---------------------------------------------------------------------------------------------
# client fetch patterns, through the raw ODBC API (ctypes on unixODBC's libodbc.so.2)
# ---------------------------------------------------------------------------------------------
# Each pattern runs in its own child process: a driver crash only ends that child.
PATTERNS = {
    # pyodbc 5 fetches NUMERIC/DECIMAL as SQL_C_NUMERIC with precision and scale set on the application
    # row descriptor (SQLSetDescField), then SQLGetData(SQL_ARD_TYPE)
    "decimal: SQLSetDescField(ARD, SQL_DESC_SCALE) then SQLGetData(SQL_ARD_TYPE)": ("decimal", "setdesc"),
    "varchar: SQLSetDescField(ARD, SQL_DESC_SCALE) then SQLGetData(SQL_ARD_TYPE)": ("varchar", "setdesc"),
    "decimal: SQLGetData as SQL_C_WCHAR text": ("decimal", "get:-8"),
    "decimal: SQLGetData as SQL_C_NUMERIC (default precision/scale)": ("decimal", "get:2"),
    "decimal: SQLGetData as SQL_C_DOUBLE": ("decimal", "get:8"),
    "boolean: SQLGetData as SQL_C_WCHAR text": ("boolean", "get:-8"),
    "boolean: SQLGetData as SQL_C_BIT": ("boolean", "get:-7"),
    "boolean: SQLBindCol SQL_C_WCHAR, buffer sized from COLUMN_SIZE (1 character + NUL)": ("boolean", "bind:-8:4"),
    "varchar: SQLGetData as SQL_C_WCHAR text (accents)": ("accents", "get:-8"),
    "varchar: SQLGetData as SQL_C_CHAR text (accents)": ("accents", "get:1"),
}
PATTERN_QUERIES = {
    "decimal": "select cast(1234.5678 as decimal(18,4))",
    "varchar": "select 'x'",
    "boolean": "select false",
    "accents": "select 'José Zürich'",
}
PATTERN_CHILD = r"""
import ctypes as C, sys
odbc = C.CDLL("libodbc.so.2")
H = C.c_void_p
env, dbc, stmt, ard = H(), H(), H(), H()
odbc.SQLAllocHandle(1, None, C.byref(env)); odbc.SQLSetEnvAttr(env, 200, C.c_void_p(3), 0)
odbc.SQLAllocHandle(2, env, C.byref(dbc))
cs = sys.argv[1].encode()
if odbc.SQLDriverConnect(dbc, None, cs, len(cs), None, 0, None, 0) not in (0, 1):
    sys.exit("connect failed")
odbc.SQLAllocHandle(3, dbc, C.byref(stmt))
query, mode = sys.argv[2].encode(), sys.argv[3]
odbc.SQLExecDirect(stmt, query, len(query))
indicator, buffer = C.c_long(), C.create_string_buffer(64)
if mode == "setdesc":
    odbc.SQLGetStmtAttr(stmt, 10010, C.byref(ard), 0, None)  # SQL_ATTR_APP_ROW_DESC
    odbc.SQLSetDescField(ard, 1, 1006, C.c_void_p(4), 0)       # SQL_DESC_SCALE = 4, passed by value
    odbc.SQLFetch(stmt)
    rc = odbc.SQLGetData(stmt, 1, -99, buffer, 64, C.byref(indicator))
elif mode.startswith("get:"):
    odbc.SQLFetch(stmt)
    rc = odbc.SQLGetData(stmt, 1, int(mode[4:]), buffer, 64, C.byref(indicator))
else:
    _, ctype, size = mode.split(":")
    buffer = C.create_string_buffer(int(size))
    odbc.SQLBindCol(stmt, 1, int(ctype), buffer, int(size), C.byref(indicator))
    rc = odbc.SQLFetch(stmt)
raw = buffer.raw[:max(0, min(indicator.value, len(buffer.raw)))] if rc in (0, 1) else b""
print(rc, indicator.value, raw.hex())
"""


def fetch_patterns(driver: str, database: Path, python: str | None = None) -> dict[str, str]:
    """What each client fetch pattern gets from the driver: 'crash (signal N)', 'error', or the value."""
    results = {}
    for name, (kind, mode) in PATTERNS.items():
        child = subprocess.run(
            [
                python or sys.executable,
                "-c",
                PATTERN_CHILD,
                connection_string(driver, database),
                PATTERN_QUERIES[kind],
                mode,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if child.returncode < 0:
            results[name] = f"crash (signal {-child.returncode})"
            continue
        if child.returncode != 0:
            results[name] = f"failed: {child.stderr.strip()[-200:]}"
            continue
        rc, indicator, raw = (child.stdout.split() + [""])[:3]
        data = bytes.fromhex(raw)
        if rc not in ("0", "1"):
            results[name] = f"error (SQLRETURN {rc})"
        elif mode.endswith(":-8") or mode.startswith("bind:-8"):
            text = data.decode("utf-16-le", errors="replace").rstrip("\x00")
            truncated = " truncated (SQL_SUCCESS_WITH_INFO)" if rc == "1" else ""
            results[name] = f"{text!r}{truncated}, {indicator} bytes available"
        elif mode == "get:1":
            results[name] = f"{data.rstrip(bytes(1))!r} (UTF-8 bytes)"
        elif mode == "get:8":
            import struct  # noqa: PLC0415

            results[name] = repr(struct.unpack("<d", data[:8])[0])
        else:
            results[name] = f"ok ({indicator} bytes)"
    return results


# ---------------------------------------------------------------------------------------------
# the DuckDB side and the report
# ---------------------------------------------------------------------------------------------
def duckdb_types(database: Path) -> dict[str, dict[str, str]]:
    import duckdb  # noqa: PLC0415

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = 'main' "
            "order by table_name, ordinal_position"
        ).fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        types.setdefault(table, {})[column] = data_type
    return types


def type_report(types: dict[str, dict[str, str]], odbc: dict) -> tuple[list[dict], list[str]]:
    """One line per (DuckDB type, reported ODBC type) with its columns, and the problems found."""
    lines: dict[tuple, dict] = {}
    problems = []
    for table, columns in odbc["columns"].items():
        for column in columns:
            duckdb_type = types.get(table, {}).get(column["name"], "?")
            problem = type_problem(duckdb_type, column)
            if problem:
                problems.append(f"{table}.{column['name']} ({duckdb_type}): {problem}")
            size = (column["column_size"], column["decimal_digits"]) if duckdb_type.startswith("DECIMAL") else None
            key = (duckdb_type, column["data_type"], column["type_name"], size)
            line = lines.setdefault(
                key,
                {
                    "duckdb_type": duckdb_type,
                    "odbc_code": column["data_type"],
                    "odbc_name": ODBC_TYPES.get(column["data_type"], "?"),
                    "type_name": column["type_name"],
                    "size": size,
                    "power_bi": intended(duckdb_type)[0],
                    "columns": [],
                },
            )
            line["columns"].append(f"{table}.{column['name']}")
    return sorted(lines.values(), key=lambda line: line["duckdb_type"]), problems


def markdown(lines: list[dict]) -> str:
    out = ["| DuckDB type | ODBC type reported (SQLColumns DATA_TYPE) | Power BI type | columns |", "|---|---|---|---|"]
    for line in lines:
        reported = f"{line['odbc_code']} {line['odbc_name']} (TYPE_NAME {line['type_name']}"
        reported += f", precision {line['size'][0]}, scale {line['size'][1]})" if line["size"] else ")"
        columns = line["columns"]
        shown = ", ".join(columns[:6]) + (f" and {len(columns) - 6} more" if len(columns) > 6 else "")
        out.append(f"| {line['duckdb_type']} | {reported} | {line['power_bi']} | {len(columns)}: {shown} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--driver",
        default=None,
        help="driver path or registered name (default: CRM_ODBC_DRIVER, ../shared/odbc/libduckdb_odbc.so)",
    )
    parser.add_argument("--database", type=Path, default=None, help="serving file (default: scripts/publish.py's)")
    parser.add_argument("--json", type=Path, default=None, help="also write the type table as JSON here")
    parser.add_argument(
        "--fetch-patterns",
        action="store_true",
        help="also show what client fetch patterns get (Linux: ctypes on libodbc.so.2)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--connection", help=argparse.SUPPRESS)
    parser.add_argument("--text-ctype", choices=["narrow", "wide"], default="narrow", help=argparse.SUPPRESS)
    parser.add_argument("--catalog-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--table", action="append", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.connection, args.worker, args.text_ctype, not args.catalog_only, args.table)
        return 0

    driver = args.driver or default_driver()
    if not driver:
        print("no DuckDB ODBC driver: pass --driver or set CRM_ODBC_DRIVER", file=sys.stderr)
        return 2
    database = args.database
    if database is None:
        from crm_warehouse.publish import default_paths

        database = default_paths()[1]
    if not database.exists():
        print(f"serving file {database} does not exist: run `make build` first", file=sys.stderr)
        return 2
    try:
        odbc = read_through_odbc(driver, database.resolve(), read_rows=False)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    lines, problems = type_report(duckdb_types(database), odbc)
    print(
        f"driver {odbc['driver']['name']} (ODBC {odbc['driver']['odbc']}), {len(odbc['tables'])} tables in {database}"
    )
    print(markdown(lines))
    if args.json:
        args.json.write_text(json.dumps(lines, indent=2), encoding="utf-8")
    if args.fetch_patterns:
        print("\n| client fetch pattern | result |\n|---|---|")
        for name, outcome in fetch_patterns(driver, database.resolve()).items():
            print(f"| {name} | {outcome} |")
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
