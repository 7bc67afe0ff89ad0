"""Personal data (issue 24, SPEC section 12): tags, a serving file without personal data (by name
and by value), the publish guard, the opt-in restricted serving file.

- every name / e-mail / mobile column is tagged `config.meta.contains_pii` from the source to the
  restricted model, and no mart holds one (manifest of `dbt parse`);
- the serving file and the Parquet files of `make build` hold none of the raw customers master's
  names, e-mails or mobile numbers, compared by value in every text column (and the check finds a
  copy under another name, so it can fail);
- a mart column with a tagged name stops the publish (Python and scripts/publish.py), and a tagged
  column added to a mart by mistake fails `dbt build` with a message naming it (a copy of the
  project);
- var crm_serving_include_pii: true publishes the contact details to the owner-only
  crm_serving_restricted.duckdb and never to the serving file; false removes a leftover one.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

import duckdb
import pytest

from conftest import run_dbt, sql
from crm_warehouse import pii, publish

ROOT = Path(__file__).resolve().parent.parent
CONTACTS = {"customer_name", "email", "mobile_number"}


def raw_folder_of(build_db: Path) -> Path:
    """The raw folder the build warehouse was built from: the marker scripts/tasks.py build writes,
    else CRM_RAW_DIR (relative to the project) or the demo data, as `make test` builds it."""
    marker = build_db.parent / (build_db.name + ".raw_dir")
    if marker.exists():
        return Path(marker.read_text().strip())
    configured = Path(os.environ.get("CRM_RAW_DIR") or ROOT / "data" / "demo")
    return configured if configured.is_absolute() else ROOT / configured


def tagged(column: dict) -> bool:
    return bool(
        (column.get("config") or {}).get("meta", {}).get("contains_pii") or column.get("meta", {}).get("contains_pii")
    )


def test_contact_columns_are_tagged_from_source_to_restricted_and_absent_from_the_marts(demo_manifest):
    resources = {**demo_manifest["nodes"], **demo_manifest["sources"]}
    holders = {}
    for unique_id, node in resources.items():
        if node["resource_type"] not in ("model", "source"):
            continue
        for name, column in node.get("columns", {}).items():
            if name in CONTACTS:
                holders.setdefault(unique_id, set()).add(name)
                assert tagged(column), f"{unique_id}.{name} holds personal data but is not tagged contains_pii"
    assert {
        "source.crm_warehouse.crm.customers_master",
        "model.crm_warehouse.base_crm__customers",
        "model.crm_warehouse.stg_crm__customers",
        "model.crm_warehouse.stg_crm__customers_rejects",
        "model.crm_warehouse.dim_customer_contacts",
    } <= set(holders)
    assert all(columns == CONTACTS for columns in holders.values())
    marts = [
        f"{node['name']}.{name}"
        for node in demo_manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
        for name, column in node["columns"].items()
        if name in CONTACTS or tagged(column)
    ]
    assert marts == [], "personal data in a published mart"
    contacts = demo_manifest["nodes"]["model.crm_warehouse.dim_customer_contacts"]
    assert contacts["config"]["schema"] == pii.RESTRICTED_SCHEMA and contacts["config"]["contract"]["enforced"]


def test_the_build_lists_its_tagged_columns(build_db):
    rows = sql(build_db, "select resource_name, column_name, serving_include_pii from serving.pii_columns")
    listed = {(resource, column) for resource, column, _ in rows}
    for resource in ("crm.customers_master", "stg_crm__customers", "dim_customer_contacts"):
        assert {(resource, column) for column in CONTACTS} <= listed
    assert {include for *_, include in rows} == {False}, "the default is no restricted serving file"


def test_serving_file_and_parquet_hold_no_raw_master_value(serving_db, build_db):
    """By value: no text column of the serving file or of any Parquet file holds a name, e-mail or
    mobile number of the raw customers master (a copy under another name would be found)."""
    raw_dir = raw_folder_of(build_db)
    values = pii.raw_master_values(raw_dir)
    assert len(values) > 1000, "the master's personal values were not read"
    parquet_dir = publish.default_paths()[2]
    assert sorted(parquet_dir.glob("*.parquet")), "no Parquet files to check"
    assert pii.find_values(serving_db, parquet_dir, values) == []
    assert not publish.restricted_path(serving_db).exists()


def test_the_value_check_finds_a_copy_under_another_name(serving_db, build_db, tmp_path):
    """The check above can fail: a copy of the e-mails under another column name, in the serving file
    and in a Parquet file, is found."""
    copy = tmp_path / "crm_serving.duckdb"
    shutil.copy(serving_db, copy)
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    emails = [
        row[0] for row in sql(build_db, "select email from restricted.dim_customer_contacts where email is not null")
    ]
    with duckdb.connect(str(copy)) as connection:
        connection.execute("create table leaked (customer_id varchar, contact varchar)")
        connection.executemany(
            "insert into leaked values (?, ?)", [[str(i), f" {e.upper()} "] for i, e in enumerate(emails[:5])]
        )
        connection.execute(f"copy leaked to '{parquet / 'leaked.parquet'}' (format parquet)")
    values = {email.lower() for email in emails}
    assert pii.find_values(copy, parquet, values) == [("leaked", "contact", 5), ("leaked.parquet", "contact", 5)]


def test_publish_refuses_a_mart_column_with_a_tagged_name(build_db, tmp_path, capsys):
    copy = tmp_path / "crm.duckdb"
    shutil.copy(build_db, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("alter table marts.kpi_customer_rfm add column email varchar")
    serving = tmp_path / "crm_serving.duckdb"
    with pytest.raises(
        pii.PiiPublishError, match=r"kpi_customer_rfm\.email \(tagged contains_pii in .*stg_crm__customers"
    ):
        publish.publish(copy, serving, tmp_path / "parquet", log=lambda message: None)
    assert not serving.exists() and not (tmp_path / "parquet").exists(), "nothing may be published"
    with pytest.raises(SystemExit, match=r"kpi_customer_rfm\.email"):
        publish.main(
            ["--build-db", str(copy), "--serving-db", str(serving), "--parquet-dir", str(tmp_path / "parquet")]
        )
    assert not serving.exists()


def test_restricted_file_only_on_request_owner_only(build_db, tmp_path):
    copy = tmp_path / "crm.duckdb"
    shutil.copy(build_db, copy)
    serving, parquet = tmp_path / "crm_serving.duckdb", tmp_path / "parquet"
    restricted = publish.restricted_path(serving)
    assert restricted.name == "crm_serving_restricted.duckdb"
    result = publish.publish(copy, serving, parquet, log=lambda message: None, include_pii=True)
    assert result["restricted"]["path"] == str(restricted) and result["restricted"]["tables"] == {
        "dim_customer_contacts": sql(copy, "select count(*) from restricted.dim_customer_contacts")[0][0]
    }
    if os.name != "nt":
        assert stat.S_IMODE(restricted.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "the build warehouse holds contact details"
    assert sql(restricted, "select count(*) from dim_customer_contacts where email is not null")[0][0] > 0
    assert not any(
        column in CONTACTS for (column,) in sql(serving, "select column_name from information_schema.columns")
    )
    assert not list(tmp_path.glob("*.tmp-*")), "a temporary of the restricted publish was left"
    if os.name != "nt":  # a site that granted its group read access keeps it; others never get any
        os.chmod(restricted, 0o640)
        os.chmod(copy, 0o640)
        publish.publish(copy, serving, parquet, log=lambda message: None, include_pii=True)
        assert stat.S_IMODE(restricted.stat().st_mode) == stat.S_IMODE(copy.stat().st_mode) == 0o640
        os.chmod(restricted, 0o644)
        publish.publish(copy, serving, parquet, log=lambda message: None, include_pii=True)
        assert stat.S_IMODE(restricted.stat().st_mode) == 0o600
    # the default (as var crm_serving_include_pii in the build: false) deletes the leftover file
    messages = []
    publish.publish(copy, serving, parquet, log=messages.append)
    assert not restricted.exists() and any("crm_serving_include_pii is false" in message for message in messages)


# --------------------------------------------------------------------------------------------------
# through dbt: the var, and a tagged column added to a mart by mistake


def test_var_crm_serving_include_pii_publishes_the_restricted_file(clean_raw, clean_warehouse, tmp_path):
    folder = tmp_path / "wh"
    folder.mkdir()
    copy = folder / "crm.duckdb"
    shutil.copy(clean_warehouse, copy)
    raw = clean_raw
    selection = (
        "--select",
        "pii_columns",
        "dim_customer_contacts",
        "publish_serving",
        "--exclude-resource-type",
        "unit_test",
    )
    run_dbt(raw, copy, "build", *selection, "--vars", "{crm_serving_include_pii: true}")
    restricted = folder / "crm_serving_restricted.duckdb"
    assert restricted.exists() and sql(restricted, "select count(*) from dim_customer_contacts")[0][0] > 0
    if os.name != "nt":
        assert stat.S_IMODE(restricted.stat().st_mode) == 0o600
    serving_columns = {
        row[0] for row in sql(folder / "crm_serving.duckdb", "select column_name from information_schema.columns")
    }
    assert not serving_columns & CONTACTS
    run_dbt(raw, copy, "build", *selection)
    assert not restricted.exists(), "with the default var the restricted file is removed"


def test_a_tagged_column_added_to_a_mart_fails_the_build_naming_it(clean_raw, clean_warehouse, tmp_path):
    """A copy of the project in which dim_customers gains the e-mail twice by mistake: once tagged
    (contact_email, contains_pii in its YAML) and once untagged under its upstream name (email).
    `dbt build` fails at the publish step naming both columns, and nothing is published."""
    project = tmp_path / "project"
    for name in ("models", "macros", "seeds", "data_tests"):
        shutil.copytree(ROOT / name, project / name)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, project / name)
    sql_file = project / "models" / "marts" / "dim_customers.sql"
    text = sql_file.read_text()
    marker = "        cast(customers.customer_group as {{ dbt.type_string() }}) as customer_group,\n"
    imported = "        dq_flags\n    from {{ ref('stg_crm__customers') }}"
    assert marker in text and imported in text
    sql_file.write_text(
        text.replace(imported, "        dq_flags,\n        email\n    from {{ ref('stg_crm__customers') }}").replace(
            marker,
            marker
            + "        cast(customers.email as {{ dbt.type_string() }}) as contact_email,\n"
            + "        cast(customers.email as {{ dbt.type_string() }}) as email,\n",
        )
    )
    yml = project / "models" / "marts" / "dim_customers.yml"
    text = yml.read_text()
    marker = "      - name: customer_group\n"
    assert marker in text
    yml.write_text(
        text.replace(
            marker,
            "      - name: contact_email\n"
            "        description: Added by mistake.\n"
            "        data_type: varchar\n"
            "        config:\n"
            "          meta:\n"
            "            contains_pii: true\n"
            "      - name: email\n"
            "        description: Added by mistake, untagged.\n"
            "        data_type: varchar\n" + marker,
        )
    )
    folder = tmp_path / "wh"
    folder.mkdir()
    copy = folder / "crm.duckdb"
    shutil.copy(clean_warehouse, copy)
    result = run_dbt(
        clean_raw,
        copy,
        "build",
        "--project-dir",
        str(project),
        "--target-path",
        str(tmp_path / "target"),
        "--select",
        "dim_customers",
        "pii_columns",
        "publish_serving",
        "--exclude-resource-type",
        "unit_test",
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert re.search(r"dim_customers\.contact_email \(tagged contains_pii in dim_customers\)", output), output[-3000:]
    assert re.search(r"dim_customers\.email \(tagged contains_pii in [^)]*stg_crm__customers", output), output[-3000:]
    assert not (folder / "crm_serving.duckdb").exists(), "nothing may be published"


def test_gate_explanations_never_print_personal_data(build_db, tmp_path):
    """The demo master has customers with invalid flags: the warning stg_customers_without_dq_flags
    lists them in the dbt log (crm_explain_test_failures), with the contact columns masked."""
    folder = tmp_path / "wh"
    folder.mkdir()
    copy = folder / "crm.duckdb"
    shutil.copy(build_db, copy)
    raw_dir = raw_folder_of(build_db)
    result = run_dbt(raw_dir, copy, "test", "--select", "stg_crm__customers", "--exclude-resource-type", "unit_test")
    lines = [line for line in result.stdout.splitlines() if "crm gate   - customer_id=" in line]
    assert lines, "the demo data should warn about customers with dq flags"
    assert all("customer_name=<personal data>" in line and "email=<personal data>" in line for line in lines)
    values = pii.raw_master_values(raw_dir)
    printed = {part.split("=", 1)[1].lower() for line in lines for part in line.split(", ") if "=" in part}
    assert not printed & values
