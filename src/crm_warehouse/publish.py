#!/usr/bin/env python3
"""Publish the marts for BI: a serving DuckDB file and Parquet files.

    python scripts/publish.py [--build-db PATH] [--serving-db PATH] [--parquet-dir DIR]

Defaults come from the environment: CRM_DUCKDB_PATH (the build warehouse dbt writes, default
warehouse/crm.duckdb), CRM_SERVING_PATH (default: crm_serving.duckdb beside the build file) and
CRM_PARQUET_DIR (default: parquet/ beside the build file).

Why a separate serving file: DuckDB locks a database file for writing while any other process has
it open, even read-only. Power BI (ODBC), notebooks and the self-service app therefore open the
serving file, never the build file, so they can never make `dbt build` fail. The serving file is
written under a temporary name and swapped in with an atomic rename only after a successful build:
a build that fails or is killed leaves the previous serving file intact and readable, and a reader
holding the old file keeps reading it until it reconnects (POSIX rename semantics). On Windows a
file open in another process cannot be replaced: the new file is then left as
<serving>.pending.duckdb and swapped in by the next publish, and the command says so.

Personal data (SPEC section 12, crm_warehouse/pii.py): before anything is written, every column of
the marts is checked against the columns tagged `contains_pii` (the build's serving.pii_columns); a
mart column with a tagged name stops the publish with an error naming it. The restricted models
(schema `restricted`: contact details) are published only when var crm_serving_include_pii is
true, and only to the owner-only restricted serving file crm_serving_restricted.duckdb beside the
serving file (never to the serving file or the Parquet files); when it is false, a restricted file
left by an earlier publish is deleted.

The tables the app reads one report month at a time (SERVING_ORDER: the customer snapshot, the
customer value, kpi_customer_grid, kpi_customer_value_leaving) are written sorted by report_month, in
the serving file and in Parquet, so that a month's query skips the other months' row groups.

The serving file is written with storage_version v1.0.0 so DuckDB 1.x clients (many ODBC drivers in
the field) can read it as well as the pinned DuckDB.

`dbt build` publishes by itself: its last node, the Python model models/serving/publish_serving.py,
calls publish() with dbt's own DuckDB connection (dbt holds the build file, so no second process may
open it), after every mart and its data tests passed. This script is for publishing again without
rebuilding (e.g. on Windows once Power BI has closed the serving file, see docs/powerbi.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from crm_warehouse import pii
from crm_warehouse.paths import ROOT

MARTS_SCHEMA = pii.MARTS_SCHEMA
RESTRICTED_SCHEMA = pii.RESTRICTED_SCHEMA
STORAGE_VERSION = "v1.0.0"
# Parquet row groups of ~1M rows (DuckDB's default is 122,880): fewer, larger groups compress better
# with zstd and are what Power BI and Arrow readers handle best; a mart below it is one group.
PARQUET_ROW_GROUP_ROWS = 1_048_576
# Storage order of the tables the app and the campaign lists read one report month at a time
# (app/crm_data.py, crm_warehouse/campaign_list.py: `report_month = ?` on the DATE column). DuckDB
# stores a table in row groups of 122,880 rows with the min and max of every column (zone maps) and
# skips a row group whose range cannot match a filter. The build writes these tables customer by
# customer (the order of its windows), every month in every row group, so one month (1/48 of the rows
# at 10M) read them all; sorted by report_month, a month fills a few adjacent row groups and a page
# reads only those (1M lines: RFM table 330-400 ms -> 35-55 ms, campaign list preview 210-440 ms ->
# 60-130 ms). The keys after report_month keep the compression of the build's order: sorted by month
# and customer_id the snapshot took 1.7x the space (its running sums, equal month after month for a
# customer, lost their runs); rows with equal inputs side by side (m_total; the model inputs of the
# customer value) give runs again (snapshot +3%, customer value -24% at 1M). The sort costs ~4 CPU s
# of 12 at 1M. The Parquet copies are written from the sorted serving tables: the same order, no
# second sort (Parquet row-group statistics help other readers; Power BI ignores them).
SERVING_ORDER = {
    "fct_customer_monthly_snapshot": ("report_month", "m_total"),
    "fct_customer_value": ("report_month", "t_weeks", "x", "t_x_weeks", "m_x"),
    "kpi_customer_grid": ("report_month",),
    "kpi_customer_value_leaving": ("report_month",),
}


def default_paths(build_db: Path | None = None) -> tuple[Path, Path, Path]:
    """(build file, serving file, Parquet folder) from CRM_DUCKDB_PATH, CRM_SERVING_PATH and
    CRM_PARQUET_DIR; the serving file and the Parquet folder default to the build file's folder."""
    if build_db is None:
        build_db = Path(os.environ.get("CRM_DUCKDB_PATH") or ROOT / "warehouse" / "crm.duckdb")
    serving_db = Path(os.environ.get("CRM_SERVING_PATH") or build_db.with_name("crm_serving.duckdb"))
    parquet_dir = Path(os.environ.get("CRM_PARQUET_DIR") or build_db.parent / "parquet")
    return build_db, serving_db, parquet_dir


def restricted_path(serving_db: Path) -> Path:
    """The restricted serving file (contact details, only with var crm_serving_include_pii):
    CRM_SERVING_RESTRICTED_PATH, default crm_serving_restricted.duckdb beside the serving file."""
    configured = os.environ.get("CRM_SERVING_RESTRICTED_PATH")
    return Path(configured) if configured else serving_db.with_name(serving_db.stem + "_restricted" + serving_db.suffix)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def mart_tables(connection: duckdb.DuckDBPyConnection, catalog: str = "build", schema: str = MARTS_SCHEMA) -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? "
        "and table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [catalog, schema],
    ).fetchall()
    return [row[0] for row in rows]


def replace_file(new: Path, target: Path) -> bool:
    """Atomically put `new` in place of `target`; False when the target is locked (Windows)."""
    try:
        os.replace(new, target)
        return True
    except PermissionError:
        pending = target.with_name(target.stem + ".pending" + target.suffix)
        os.replace(new, pending)
        return False


@contextlib.contextmanager
def publish_lock(serving_db: Path):
    """One publish at a time per serving file. The OS drops the lock when the process dies, so a
    killed publish never blocks the next one."""
    with open(serving_db.with_name(serving_db.name + ".publish-lock"), "a+b") as handle:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def remove_temporaries(serving_db: Path, parquet_dir: Path) -> None:
    """Temporaries of publishes that died (killed, power cut): each is a full copy of the marts."""
    for path in [
        *serving_db.parent.glob(f"{serving_db.stem}.tmp-*"),
        *restricted_path(serving_db).parent.glob(f"{restricted_path(serving_db).stem}.tmp-*"),
        *parquet_dir.parent.glob(f"{parquet_dir.name}.tmp-*"),
        *parquet_dir.parent.glob(f"{parquet_dir.name}.old-*"),
    ]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def serving_order(connection: duckdb.DuckDBPyConnection, catalog: str, table: str) -> tuple[str, ...]:
    """The SERVING_ORDER keys of a mart that it has (none without report_month): a renamed column
    costs compression or speed, never a failed publish (tests/test_app_marts.py checks the keys)."""
    wanted = SERVING_ORDER.get(table, ())
    if not wanted:
        return ()
    columns = {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns where table_catalog = ? and table_schema = ? "
            "and table_name = ?",
            [catalog, MARTS_SCHEMA, table],
        ).fetchall()
    }
    return tuple(column for column in wanted if column in columns) if wanted[0] in columns else ()


@contextlib.contextmanager
def insertion_order_kept(connection: duckdb.DuckDBPyConnection):
    """preserve_insertion_order on while the marts are copied (DuckDB writes the rows of an ORDER BY in
    that order only then: SERVING_ORDER), restored afterwards on a connection that had it off."""
    before = connection.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    if not before:
        connection.execute("set preserve_insertion_order = true")
    try:
        yield
    finally:
        if not before:
            connection.execute("set preserve_insertion_order = false")


def connection_config() -> dict:
    """The same memory limit, threads and spill folder as the build (profiles.yml): without them
    DuckDB takes 80% of the RAM, and publishing a 100M-line warehouse peaked at 20 GB of 23."""
    config = {
        "memory_limit": os.environ.get("CRM_DUCKDB_MEMORY") or "16GB",
        "threads": int(os.environ.get("CRM_DUCKDB_THREADS") or 2),
    }
    temp_dir = os.environ.get("CRM_DUCKDB_TEMP_DIR")
    if temp_dir:
        config["temp_directory"] = temp_dir
    return config


def publish(
    build_db: Path,
    serving_db: Path,
    parquet_dir: Path,
    log=print,
    connection: duckdb.DuckDBPyConnection | None = None,
    catalog: str | None = None,
    include_pii: bool | None = None,
) -> dict:
    """Copy the marts of build_db to a new serving file and Parquet folder, then swap them in.

    connection/catalog: an open connection in which build_db is already attached as `catalog` (dbt's
    own connection, from the publish_serving model); without it, build_db is attached read-only.
    include_pii: publish the restricted models to the restricted serving file; None = as var
    crm_serving_include_pii was in the build (serving.pii_columns). pii.PiiPublishError, naming the
    column, when a mart holds a column tagged as personal data: then nothing is written."""
    if not build_db.exists():
        raise SystemExit(f"build warehouse {build_db} does not exist: run `make build` first")
    pii.restrict_file(build_db)  # it holds the contact details (schema restricted): owner-only
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.parent.mkdir(parents=True, exist_ok=True)
    with publish_lock(serving_db):
        remove_temporaries(serving_db, parquet_dir)
        try:
            return _publish(build_db, serving_db, parquet_dir, log, connection, catalog, include_pii)
        finally:
            remove_temporaries(serving_db, parquet_dir)


def _publish(
    build_db: Path,
    serving_db: Path,
    parquet_dir: Path,
    log,
    given_connection: duckdb.DuckDBPyConnection | None = None,
    catalog: str | None = None,
    include_pii: bool | None = None,
) -> dict:
    started = time.perf_counter()
    pending = serving_db.with_name(serving_db.stem + ".pending" + serving_db.suffix)
    temporary = serving_db.with_name(f"{serving_db.stem}.tmp-{os.getpid()}{serving_db.suffix}")
    parquet_temporary = parquet_dir.with_name(f"{parquet_dir.name}.tmp-{os.getpid()}")
    for leftover in (temporary, Path(str(temporary) + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(parquet_temporary, ignore_errors=True)

    connection = given_connection or duckdb.connect(config=connection_config())
    serving = "crm_serving_new"  # the temporary serving file, attached under a name no build uses
    attached = False
    restricted = None
    try:
        if given_connection is None:
            catalog = "build"
            connection.execute(f"attach {sql_string(build_db)} as build (read_only)")
        tables = mart_tables(connection, catalog)
        if not tables:
            raise SystemExit(f"no tables in schema {MARTS_SCHEMA} of {build_db}: did the build succeed?")
        # personal data never reaches the serving file: refuse before writing anything
        _, include_pii_var = pii.check_published_columns(connection, catalog, MARTS_SCHEMA)
        if include_pii is None:
            include_pii = include_pii_var
        parquet_temporary.mkdir(parents=True)
        connection.execute(
            f"attach {sql_string(temporary)} as {serving} (storage_version {sql_string(STORAGE_VERSION)})"
        )
        attached = True
        counts = {}
        with insertion_order_kept(connection):
            for table in tables:
                source = f"{quote(catalog)}.{quote(MARTS_SCHEMA)}.{quote(table)}"
                target = f"{serving}.main.{quote(table)}"
                order = serving_order(connection, catalog, table)
                order_by = f" order by {', '.join(quote(column) for column in order)}" if order else ""
                # CREATE TABLE AS and COPY return their row counts: no third scan to count
                counts[table] = connection.execute(
                    f"create table {target} as select * from {source}{order_by}"
                ).fetchall()[0][0]
                # a sorted table's Parquet file from the table just written: its order without a second sort
                written = connection.execute(
                    f"copy (select * from {target if order else source}) "
                    f"to {sql_string(parquet_temporary / (table + '.parquet'))} "
                    f"(format parquet, compression zstd, row_group_size {PARQUET_ROW_GROUP_ROWS})"
                ).fetchall()[0][0]
                if written != counts[table]:
                    raise RuntimeError(f"{table}: {counts[table]} rows in the serving file but {written} in Parquet")
        connection.execute(f"checkpoint {serving}")
        connection.execute(f"detach {serving}")
        attached = False
        if include_pii:
            restricted = _publish_restricted(connection, catalog, serving_db, log)
    finally:
        if given_connection is None:
            connection.close()
        elif attached:  # dbt's connection lives on: never leave the temporary file attached to it
            with contextlib.suppress(duckdb.Error):
                connection.execute(f"detach {serving}")

    swapped = replace_file(temporary, serving_db)
    if swapped:
        pending.unlink(missing_ok=True)
    old_parquet = parquet_dir.with_name(f"{parquet_dir.name}.old-{os.getpid()}")
    try:
        if parquet_dir.exists():
            os.replace(parquet_dir, old_parquet)
        os.replace(parquet_temporary, parquet_dir)
        parquet_swapped = True
    except PermissionError:  # Windows: a file in the Parquet folder is open in another program
        if old_parquet.exists() and not parquet_dir.exists():
            os.replace(old_parquet, parquet_dir)
        parquet_swapped = False
        log(f"[crm] {parquet_dir} is in use by another program; its files were not updated")
    shutil.rmtree(old_parquet, ignore_errors=True)

    if not include_pii:
        _remove_restricted(serving_db, log)
    elapsed = time.perf_counter() - started
    if swapped:
        log(f"[crm] published {len(tables)} marts to {serving_db} and {parquet_dir} in {elapsed:.1f} s")
    else:
        log(
            f"[crm] {serving_db} is open in another program and cannot be replaced on this system; "
            f"the new marts wait in {pending} and are swapped in by the next publish "
            f"(Parquet files in {parquet_dir} are up to date)"
        )
    return {
        "tables": counts,
        "serving_db": str(serving_db),
        "swapped": swapped,
        "parquet_swapped": parquet_swapped,
        "restricted": restricted,
        "seconds": elapsed,
    }


def _publish_restricted(connection: duckdb.DuckDBPyConnection, catalog: str, serving_db: Path, log) -> dict:
    """Write the tables of schema `restricted` (contact details) to the restricted serving file,
    owner-only: built in a new private folder (mkdtemp, 0700) beside it, made 0600, then renamed in
    place (the .pending name when the file is open on Windows). Returns its path, tables and rows."""
    target = restricted_path(serving_db)
    tables = mart_tables(connection, catalog, RESTRICTED_SCHEMA)
    if not tables:
        raise pii.PiiPublishError(
            f"var crm_serving_include_pii is true but schema {RESTRICTED_SCHEMA} of the build has no table to publish"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{target.stem}.tmp-{os.getpid()}-", dir=target.parent))
    temporary = folder / target.name
    name = "crm_serving_restricted_new"
    counts = {}
    try:
        connection.execute(f"attach {sql_string(temporary)} as {name} (storage_version {sql_string(STORAGE_VERSION)})")
        try:
            for table in tables:
                source = f"{quote(catalog)}.{quote(RESTRICTED_SCHEMA)}.{quote(table)}"
                connection.execute(f"create table {name}.main.{quote(table)} as select * from {source}")
                counts[table] = connection.execute(f"select count(*) from {source}").fetchall()[0][0]
            connection.execute(f"checkpoint {name}")
        finally:
            connection.execute(f"detach {name}")
        pii.restrict_file(temporary, like=target)
        swapped = replace_file(temporary, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    where = target if swapped else target.with_name(target.stem + ".pending" + target.suffix)
    log(f"[crm] personal data (var crm_serving_include_pii): {', '.join(tables)} published to {where}, owner-only")
    return {"path": str(where), "tables": counts, "swapped": swapped}


def _remove_restricted(serving_db: Path, log) -> None:
    """Without crm_serving_include_pii no restricted file may linger from an earlier publish."""
    target = restricted_path(serving_db)
    for path in (target, target.with_name(target.stem + ".pending" + target.suffix)):
        if path.exists():
            try:
                path.unlink()
                log(f"[crm] {path} deleted: var crm_serving_include_pii is false")
            except PermissionError:
                log(f"[crm] {path} is open in another program and could not be deleted; delete it")


def main(argv: list[str] | None = None) -> None:
    build_db, serving_db, parquet_dir = default_paths()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-db", type=Path, default=build_db)
    parser.add_argument("--serving-db", type=Path, default=serving_db)
    parser.add_argument("--parquet-dir", type=Path, default=parquet_dir)
    parser.add_argument(
        "--include-pii",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="publish the contact details to the restricted serving file (default: as var crm_serving_include_pii "
        "was in the last build)",
    )
    args = parser.parse_args(argv)
    try:
        publish(args.build_db, args.serving_db, args.parquet_dir, include_pii=args.include_pii)
    except pii.PiiPublishError as error:
        raise SystemExit(f"[crm] {error}") from error


if __name__ == "__main__":
    sys.exit(main())
