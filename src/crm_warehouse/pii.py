"""Personal data (SPEC section 12): where it may go, how it is read, and the log of its exports.

The rules, each defined here once:

Tagging
    A column holding personal data (name, e-mail, phone) carries `config: {meta: {contains_pii: true}}`
    in its YAML, from the source to the restricted model `dim_customer_contacts` (schema
    `restricted`, the only model past staging that holds such columns). The dbt model
    `serving.pii_columns` lists every tagged column, read from dbt's graph at run time.

Publishing (`check_published_columns`, used by crm_warehouse.publish)
    The serving file and the Parquet files are made of the tables of schema `marts`. A mart column
    whose name is the name of a tagged column (tagged in the mart's own YAML, or anywhere upstream,
    e.g. a copy of stg_crm__customers.email) stops the publish with an error naming it, so `dbt
    build` fails and nothing is published. The tables of schema `restricted` go to a separate,
    owner-only restricted serving file only when var crm_serving_include_pii is true.

Reading contact details (`read_contacts`)
    Campaign lists with --include-pii and the app's campaign page read names and contact columns
    from the build warehouse (CRM_DUCKDB_PATH), read-only, in one query whose connection is closed
    at once: the serving file never holds them. While a build holds the file, the read fails with
    a clear message instead of waiting.

Files holding personal data (`write_private_bytes`, `restrict_file`)
    Created owner-only (0600) on POSIX: exported lists with contact columns, the restricted serving
    file, the build warehouse (by publish_serving), the export log. A site may grant a group read
    access (e.g. 0640): the project never widens a mode and keeps a mode that grants nothing to
    others, also when a publish replaces the restricted file. On Windows the folder's NTFS ACLs
    decide (docs/powerbi.md "Personal data").

Export log (`log_export`)
    Every list or download that contains personal data appends one JSON line to
    `<build folder>/logs/pii_exports.log` (or CRM_PII_EXPORT_LOG): time, OS user, host, source
    (command line or app page), filters, row count, the personal columns it held, output. Never the
    personal data itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import platform
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd

MARTS_SCHEMA = "marts"
RESTRICTED_SCHEMA = "restricted"
PII_COLUMNS_TABLE = ("serving", "pii_columns")
CONTACTS_TABLE = "dim_customer_contacts"
CONTACT_COLUMNS = ("customer_name", "email", "mobile_number")
OWNER_ONLY = 0o600
EXPORT_LOG_NAME = "pii_exports.log"


class PiiPublishError(RuntimeError):
    """A published table would hold a column tagged as personal data (or the tags are unknown)."""


class ExportNotLogged(RuntimeError):
    """The export log could not be written: the export of personal data was withdrawn."""


class ContactsUnavailable(RuntimeError):
    """Contact details cannot be read from the build warehouse (missing, locked by a build, old)."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------------
# tags and the publish guard


def tagged_columns(connection: duckdb.DuckDBPyConnection, catalog: str) -> tuple[dict[str, list[str]], bool]:
    """({tagged column name: [resource where it is tagged, ...]}, var crm_serving_include_pii) from the
    build's serving.pii_columns table. PiiPublishError when the table is missing (a warehouse built
    before the tags existed: rebuild it)."""
    schema, table = PII_COLUMNS_TABLE
    exists = connection.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_name = ?",
        [catalog, schema, table],
    ).fetchall()[0][0]
    if not exists:
        raise PiiPublishError(
            f"{schema}.{table} is missing from the build warehouse, so the columns tagged as personal "
            "data are unknown and nothing is published: run `make build` (dbt build) first"
        )
    rows = connection.execute(
        f"select lower(column_name), resource_name, serving_include_pii from {_quote(catalog)}.{schema}.{table} "
        "order by 1, 2"
    ).fetchall()
    tagged: dict[str, list[str]] = {}
    for column, resource, _ in rows:
        tagged.setdefault(column, []).append(resource)
    include_pii = any(bool(row[2]) for row in rows)
    return tagged, include_pii


def published_pii(columns: Iterable[tuple[str, str]], tagged: Mapping[str, Sequence[str]]) -> list[str]:
    """The published columns (table, column) whose name is a tagged column name, as sentences."""
    return [
        f"{table}.{column} (tagged contains_pii in {', '.join(tagged[column.lower()])})"
        for table, column in columns
        if column.lower() in tagged
    ]


def check_published_columns(
    connection: duckdb.DuckDBPyConnection, catalog: str, schema: str = MARTS_SCHEMA
) -> tuple[dict[str, list[str]], bool]:
    """Refuse (PiiPublishError naming every column) when a table of `schema` has a column whose name
    is tagged as personal data; returns tagged_columns() otherwise."""
    tagged, include_pii = tagged_columns(connection, catalog)
    columns = connection.execute(
        "select table_name, column_name from information_schema.columns where table_catalog = ? "
        "and table_schema = ? order by table_name, ordinal_position",
        [catalog, schema],
    ).fetchall()
    found = published_pii(columns, tagged)
    if found:
        raise PiiPublishError(
            "personal data would reach the serving file and Parquet files; nothing was published. "
            f"Column(s): {'; '.join(found)}. Remove the column from the mart, or move it to a restricted "
            f"model (models/restricted/, schema {RESTRICTED_SCHEMA}; docs/powerbi.md, 'Personal data')"
        )
    return tagged, include_pii


# --------------------------------------------------------------------------------------------------
# owner-only files


def restrict_file(path: Path | str, like: Path | str | None = None) -> None:
    """Owner-only (0600) on POSIX for a file that holds personal data; Windows: the folder's NTFS
    ACLs apply (docs/powerbi.md "Personal data").

    A file that grants nothing to others (a site gave its group read access, e.g. 0640) keeps its
    mode; `like`: a new file that replaces `like` takes its mode on the same condition. A mode that
    lets others read (a new file under the usual umask 022 is 0644) becomes 0600."""
    if os.name == "nt":
        return
    for reference in (like, path):
        if reference is not None and os.path.exists(reference):
            mode = stat.S_IMODE(os.stat(reference).st_mode)
            if not mode & 0o007 and mode & 0o600 == 0o600:
                os.chmod(path, mode)
                return
            break
    os.chmod(path, OWNER_ONLY)


def write_private_bytes(path: Path | str, data: bytes) -> Path:
    """Write data to path, created owner-only (0600) on POSIX: written to a new 0600 temporary file
    in the same folder (tempfile.mkstemp), then renamed over path, so no moment exists where another
    user could open it with wider permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        restrict_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


# --------------------------------------------------------------------------------------------------
# contact details from the build warehouse


def read_contacts(
    customer_ids: Iterable[str], columns: Sequence[str] = CONTACT_COLUMNS, build_db: Path | str | None = None
) -> pd.DataFrame:
    """customer_id and `columns` of restricted.dim_customer_contacts for the given customers, read from
    the build warehouse (default CRM_DUCKDB_PATH) in one read-only query; the connection is closed at
    once. ContactsUnavailable with the reason when the file is missing, held by a running build, or
    built before the contacts model existed."""
    from crm_warehouse.publish import default_paths

    unknown = [column for column in columns if column not in CONTACT_COLUMNS]
    if unknown:
        raise ValueError(f"not a contact column: {', '.join(unknown)}")
    path = Path(build_db) if build_db else default_paths()[0]
    if not path.exists():
        raise ContactsUnavailable(
            f"contact details come from the build warehouse {path}, which does not exist: run `make build` first"
        )
    wanted = pd.DataFrame({"customer_id": pd.Series(list(customer_ids), dtype="object")})
    select = ", ".join(f"contacts.{_quote(column)}" for column in columns)
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            connection.register("wanted_customers", wanted)
            return connection.execute(
                f"select wanted_customers.customer_id, {select} from wanted_customers "
                f"inner join {RESTRICTED_SCHEMA}.{CONTACTS_TABLE} as contacts "
                "on wanted_customers.customer_id = contacts.customer_id"
            ).df()
    except duckdb.CatalogException as error:
        raise ContactsUnavailable(
            f"the build warehouse {path} has no {RESTRICTED_SCHEMA}.{CONTACTS_TABLE}: it was built by an older "
            "version; run `make build`"
        ) from error
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise ContactsUnavailable(
                f"the build warehouse {path} is held by a running build (DuckDB lock); contact details are "
                "read from it only between builds: try again when the build has finished"
            ) from error
        raise


# --------------------------------------------------------------------------------------------------
# the export log


def export_log_path() -> Path:
    """CRM_PII_EXPORT_LOG, or logs/pii_exports.log beside the build warehouse (warehouse/logs/)."""
    from crm_warehouse.publish import default_paths

    configured = os.environ.get("CRM_PII_EXPORT_LOG")
    return Path(configured) if configured else default_paths()[0].parent / "logs" / EXPORT_LOG_NAME


def os_user() -> str:
    """The OS user name of this process (getpass: LOGNAME, USER, LNAME, USERNAME, then the password
    database)."""
    try:
        return getpass.getuser()
    except Exception:  # no name known to the OS (e.g. a container user without a passwd entry)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def log_export(
    *,
    source: str,
    filters: Mapping[str, object],
    rows: int,
    output: str | Path,
    pii_columns: Sequence[str],
    log_path: Path | str | None = None,
) -> dict:
    """Append one JSON line for an export that holds personal data; returns the record.

    The line holds who (OS user, host), when (UTC, ISO 8601), what (source: the command line or the
    app page; the filters; the personal columns; the row count) and where (output). Never a value of
    the personal data. The log is created owner-only (0600) on POSIX; a site that lets several OS users
    export creates it beforehand with the group permissions it wants (kept as they are)."""
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": os_user(),
        "host": platform.node(),
        "source": source,
        "filters": {name: value for name, value in filters.items() if value not in (None, "", [], ())},
        "rows": int(rows),
        "pii_columns": list(pii_columns),
        "output": str(output),
    }
    path = Path(log_path) if log_path else export_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, OWNER_ONLY)
    try:
        os.write(descriptor, line)  # one write of one line: appends from several processes never interleave
    finally:
        os.close(descriptor)
    return record


# --------------------------------------------------------------------------------------------------
# audit by value


def raw_master_values(raw_dir: Path | str) -> set[str]:
    """Every non-empty customer_name, email and mobile_number of the raw customers master (trimmed,
    lower case), the values no shared file may hold."""
    master = Path(raw_dir) / "customers_master.csv"
    with duckdb.connect() as connection:
        rows = connection.execute(
            "select distinct lower(trim(value)) from ("
            "  select unnest([customer_name, email, mobile_number]) as value "
            "  from read_csv(?, header = true, all_varchar = true, strict_mode = false)"
            ") where nullif(trim(value), '') is not null",
            [str(master)],
        ).fetchall()
    return {row[0] for row in rows}


def find_values(
    serving_db: Path | str | None, parquet_dir: Path | str | None, values: Iterable[str]
) -> list[tuple[str, str, int]]:
    """(table or Parquet file, column, matching rows) for every text column of the serving file and of
    every Parquet file of parquet_dir holding one of `values` (compared trimmed, lower case)."""
    found = []
    with duckdb.connect() as connection:
        connection.register("pii_values", pd.DataFrame({"value": sorted(set(values))}, dtype="object"))
        sources: list[tuple[str, str]] = []
        if serving_db is not None:
            connection.execute(f"attach '{str(serving_db).replace(chr(39), chr(39) * 2)}' as shared (read_only)")
            for (table,) in connection.execute(
                "select table_name from information_schema.tables where table_catalog = 'shared' order by 1"
            ).fetchall():
                sources.append((table, f"shared.main.{_quote(table)}"))
        for path in sorted(Path(parquet_dir).glob("*.parquet")) if parquet_dir is not None else []:
            sources.append((path.name, f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"))
        for name, relation in sources:
            described = connection.execute(f"describe select * from {relation}").fetchall()
            for column, column_type, *_ in described:
                if column_type.upper() != "VARCHAR":
                    continue
                count = connection.execute(
                    f"select count(*) from {relation} as shared_rows "
                    f"where lower(trim(shared_rows.{_quote(column)})) in (select value from pii_values)"
                ).fetchall()[0][0]
                if count:
                    found.append((name, column, count))
    return found
