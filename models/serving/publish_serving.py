"""Last node of the DAG: publish the marts for BI (serving DuckDB file + Parquet) from inside dbt.

It descends from every model (the dbt.ref calls below), so `dbt build` runs it only after every model
was built and every data test passed: when a model or a data test fails, dbt skips this node and the
previous serving file stays as it was. It runs crm_warehouse.publish.publish() (src/)
with dbt's own DuckDB connection (dbt holds the build file, so no other process may open it), which
writes the serving file under a temporary name and swaps it in with one atomic rename.

It does not publish (and says why in its result table and the dbt log) when the run is not a
`dbt build` (`dbt run` runs no data tests), when data tests are excluded (--resource-type /
--exclude-resource-type), with --empty, or when the var crm_publish is false.

Personal data (SPEC section 12): on every run, first, the columns of the marts are checked against
the columns tagged `contains_pii` (the model pii_columns); a mart column with a tagged name fails
this node, naming the column, so the build fails and nothing is published (crm_warehouse.pii).
The build file, which holds the contact details (schema restricted), is made owner-only on POSIX.

Result: one row per published mart (mart_name, row_count, ...), or one row with published = false.
"""

import datetime
from pathlib import Path


def declare_dependencies(dbt):
    # Literal refs (dbt reads a Python model's dependencies from its source code) to every mart and
    # every other model (or seed) without children, so that this node descends from every model and
    # from every node a data test checks: `dbt build`
    # runs it only after every data test of every model passed (a test on several models holds back
    # only the nodes that descend from all of them). A new leaf model must be added here:
    # tests/test_odbc.py fails when a model is not an ancestor of this node.
    # the build completed: every month-recomputed model and its data tests (models/build/, the last
    # model of the DAG before this one; docs/incremental.md)
    dbt.ref("int_build_completed")
    dbt.ref("dim_customers")
    dbt.ref("dim_dates")
    dbt.ref("dim_products")
    dbt.ref("dim_rfm_segments")
    dbt.ref("dim_stores")
    dbt.ref("fct_campaign_members")
    dbt.ref("fct_customer_monthly_snapshot")
    dbt.ref("fct_customer_stores")
    dbt.ref("fct_customer_value")
    dbt.ref("fct_customer_value_model_fits")
    dbt.ref("fct_data_quality")
    dbt.ref("fct_sales")
    dbt.ref("kpi_campaign_response")
    dbt.ref("kpi_cohort_retention")
    dbt.ref("kpi_customer_grid")
    dbt.ref("kpi_customer_rfm")
    dbt.ref("kpi_customer_value_leaving")
    dbt.ref("kpi_customer_value_p_alive_bands")
    dbt.ref("kpi_customer_value_by_segment")
    dbt.ref("kpi_customer_value_by_tier")
    dbt.ref("kpi_customer_value_validation")
    dbt.ref("kpi_monthly_board")
    dbt.ref("kpi_monthly_board_by_segment")
    dbt.ref("kpi_rfm_score_bands")
    dbt.ref("kpi_sales_by_category")
    dbt.ref("kpi_sales_by_period")
    dbt.ref("kpi_segment_migration")
    dbt.ref("kpi_segment_summary")
    dbt.ref("kpi_tier_migration")
    dbt.ref("kpi_tier_migration_by_segment")
    dbt.ref("kpi_tier_summary")
    dbt.ref("stg_crm__customers_rejects")
    dbt.ref("stg_crm__products_rejects")
    dbt.ref("stg_crm__sales_transactions_rejects")
    dbt.ref("stg_crm__campaign_members_rejects")
    # personal data: the restricted contacts (published to the restricted file with var
    # crm_serving_include_pii) and the list of tagged columns the publish step checks the marts against
    dbt.ref("dim_customer_contacts")
    dbt.ref("pii_columns")
    # seeds no model reads but data tests check
    dbt.ref("reject_reasons")


def reason_not_to_publish(dbt):
    """None when this run may publish, else why not (one line)."""
    if str(dbt.config.get("crm_publish", "true")).strip().lower() in {"false", "0", "no", "off", "none"}:
        return "var crm_publish is false"
    try:
        from dbt.flags import get_flags

        flags = get_flags()
    except ImportError:  # not run by dbt-core in this process: refuse rather than guess
        return "dbt's run flags are not available"
    which = getattr(flags, "WHICH", None)
    if which != "build":
        return f"`dbt {which}` runs no data tests; `dbt build` (or scripts/publish.py) publishes"
    if getattr(flags, "EMPTY", False):
        return "--empty builds marts without rows"
    included = [str(kind) for kind in (getattr(flags, "RESOURCE_TYPES", None) or [])]
    excluded = [str(kind) for kind in (getattr(flags, "EXCLUDE_RESOURCE_TYPES", None) or [])]
    if (included and "test" not in included) or "test" in excluded:
        return "the data tests are excluded from this build"
    return None


def model(dbt, session):
    dbt.config(materialized="table")
    declare_dependencies(dbt)
    now = datetime.datetime.now().replace(microsecond=0)
    catalog, build_path = session.execute(
        "select database_name, path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0]  # fetchall: DuckDB 2.0 refuses other work on a connection with an unfinished result

    from crm_warehouse import pii  # the package installed editable into .venv (src/crm_warehouse)

    # before anything else, whether or not this run publishes: no tagged column in a mart
    pii.check_published_columns(session, catalog)
    if build_path:
        pii.restrict_file(build_path)

    reason = reason_not_to_publish(dbt)
    if reason is None and not build_path:
        reason = "the build database is in memory"
    if reason is not None:
        print(f"[crm] serving file not published: {reason}", flush=True)
        rows = [(None, None, None, False, now, reason)]
    else:
        from crm_warehouse import publish  # the package installed editable into .venv (src/crm_warehouse)

        build_db, serving_db, parquet_dir = publish.default_paths(Path(build_path).resolve())
        result = publish.publish(
            build_db,
            serving_db,
            parquet_dir,
            log=lambda message: print(message, flush=True),
            connection=session,
            catalog=catalog,
        )
        note = (
            "published"
            if result["swapped"]
            else ("serving file in use: new marts left in the .pending file, swapped in by the next publish")
        )
        rows = [
            (table, count, str(serving_db), result["swapped"], now, note)
            for table, count in sorted(result["tables"].items())
        ]

    values = ", ".join("(" + ", ".join(literal(value) for value in row) + ")" for row in rows)
    return session.sql(
        "select mart_name::varchar as mart_name, row_count::bigint as row_count, "
        "serving_path::varchar as serving_path, published::boolean as published, "
        "published_at::timestamp as published_at, note::varchar as note "
        f"from (values {values}) as published_marts "
        "(mart_name, row_count, serving_path, published, published_at, note)"
    )


def literal(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
