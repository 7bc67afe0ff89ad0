"""Incremental builds give the same rows as a full refresh, for every kind of change, and do only the work it calls for."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import conftest
import generate_data
from conftest import build_once, query

# Speed: every scenario starts from a warehouse built on a small clean raw folder (small_raw), and
# most compare with a full refresh of that same folder. Both are made once per run (small_warehouse,
# build_once): a scenario copies the DuckDB file instead of building it again. Only the builds that
# a scenario's change calls for (its incremental run, the full refresh of its changed folder, a
# "before" folder that differs from the small one) run per scenario. The folder has a quarter of the
# customers of the session's clean_raw (conftest.py): the ~25 builds of this file are its longest
# part, and what they prove (incremental = full refresh, what a run rebuilds) holds at any size;
# small_raw asserts the few things the scenarios need of the data.

MODELS = ("build", "--resource-type", "seed", "--resource-type", "model")


def run_dbt(raw_dir: Path, db_path: Path, *args: str, check: bool = True):
    """conftest.run_dbt with the raw folder behind a link of a fixed name, so that the ~30 builds of
    this file, on many different raw folders, reuse one dbt parse: the tests here read tables only (the
    views would read whatever folder the link points to later)."""
    return conftest.run_dbt(raw_dir, db_path, *args, raw_link=True, check=check)


SMALL_CUSTOMERS = 300  # clean_raw (conftest.py) has 1,200: same years, seed and settings otherwise


def assert_small_raw_serves_the_scenarios(raw: Path) -> None:
    """What the scenarios below need of small_raw, so that a smaller folder cannot make them vacuous."""
    lines = {
        path.name: pd.read_csv(path, dtype=str, keep_default_na=False) for path in raw.glob("sales_transactions_*.csv")
    }
    assert sorted(lines) == [f"sales_transactions_{year}.csv" for year in (2023, 2024, 2025)], sorted(lines)
    dates = pd.concat(frame["invoice_date"] for frame in lines.values())
    # _new_lines copies the first 25 and the 31st December line of the 2025 file
    assert _december_lines(raw / "sales_transactions_2025.csv")[30:], "fewer than 31 December lines"
    # December changes after the 15th (partial month), November has lines after the 15th (the gap)
    assert (dates > "2025-12-15").any() and ((dates > "2025-11-15") & (dates < "2025-12-01")).any()
    # two new months after October; a 2024-06 line with a positive quantity (old_line_corrected,
    # the future-dated line)
    assert (dates.str[:7] == "2025-11").any() and (dates.str[:7] == "2025-12").any()
    june = lines["sales_transactions_2024.csv"]
    assert (june["invoice_date"].str.startswith("2024-06") & (june["quantity"].astype(float) > 0)).any()
    _an_active_customer(raw)  # an in-scope customer with 2024 lines (raises StopIteration if none)
    products = pd.read_csv(raw / "products_master.csv", dtype=str, keep_default_na=False)
    assert (products["category"].str.strip().str.lower() == "consumable").any()


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    """A clean generated raw folder like clean_raw (conftest.py) with fewer customers, for this file."""

    def make(out: Path) -> None:
        generate_data.generate(out / "raw", customers=SMALL_CUSTOMERS, start_year=2023, years=3, seed=7, clean=True)
        assert_small_raw_serves_the_scenarios(out / "raw")

    return build_once(tmp_path_factory, "raw_incremental_small", make) / "raw"


@pytest.fixture(scope="session")
def small_warehouse(small_raw, tmp_path_factory) -> Path:
    """The whole warehouse (models only) built on small_raw, once per run. Copy it before changing it."""

    def make(folder: Path) -> None:
        run_dbt(small_raw, folder / "crm.duckdb", *MODELS, "--full-refresh")

    return build_once(tmp_path_factory, "wh_incremental_small", make) / "crm.duckdb"


SNAPSHOT = "select * from marts.fct_customer_monthly_snapshot order by customer_id, report_month"


def copy_warehouse(source: Path, target: Path) -> Path:
    """A private copy of a session-built warehouse file, for a scenario to change."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


def cut_raw(source: Path, target: Path, last_date: str) -> None:
    """Copy a raw folder keeping only the transaction lines dated up to last_date."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name.startswith("sales_transactions_"):
            lines = pd.read_csv(path, dtype=str, keep_default_na=False)
            kept = lines[lines["invoice_date"] <= last_date]
            if len(kept):
                kept.to_csv(target / path.name, index=False)
        else:
            shutil.copy(path, target / path.name)


def test_new_and_partial_month_incremental_equals_full_refresh(small_raw, small_warehouse, tmp_path):
    database = tmp_path / "incremental" / "crm.duckdb"
    # November complete and December half-way: the December row is partial.
    cut_raw(small_raw, tmp_path / "raw_mid_december", "2025-12-15")
    run_dbt(tmp_path / "raw_mid_december", database, *MODELS, "--full-refresh")
    before = query(database, SNAPSHOT)
    assert str(before["report_month"].max())[:7] == "2025-12"

    # The rest of December arrives: the incremental run recomputes December only.
    run_dbt(small_raw, database, *MODELS)
    incremental = query(database, SNAPSHOT)

    refreshed = query(small_warehouse, SNAPSHOT)  # the full refresh of small_raw

    pd.testing.assert_frame_equal(incremental, refreshed)
    # History before December is exactly as it was published.
    old = before[before["report_month"] < before["report_month"].max()].reset_index(drop=True)
    kept = incremental[incremental["report_month"] < before["report_month"].max()].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, kept)
    # December changed (the test would prove nothing if the second half of the month were empty).
    assert (
        not before[before["report_month"] == before["report_month"].max()]
        .reset_index(drop=True)
        .equals(incremental[incremental["report_month"] == before["report_month"].max()].reset_index(drop=True))
    )


def test_two_new_months_incremental_equals_full_refresh(small_raw, small_warehouse, tmp_path):
    database = tmp_path / "incremental" / "crm.duckdb"
    cut_raw(small_raw, tmp_path / "raw_to_october", "2025-10-31")
    run_dbt(tmp_path / "raw_to_october", database, *MODELS, "--full-refresh")
    run_dbt(small_raw, database, *MODELS)
    full = small_warehouse  # the full refresh of small_raw
    for table in (
        "marts.fct_customer_monthly_snapshot",
        "intermediate.int_customer_months__windows",
        "marts.fct_customer_value",
    ):
        order = "customer_id, report_month"
        pd.testing.assert_frame_equal(
            query(database, f"select * from {table} order by {order}"),
            query(full, f"select * from {table} order by {order}"),
        )
    # the run rebuilt (the customer value models refit and rescored) only the two new months
    assert rebuilt(database) == (month_index(2025, 11), False)


def test_a_partial_month_is_completed_by_a_later_month_incremental_equals_full_refresh(small_raw, tmp_path):
    """Month to date (SPEC section 13, int_report_months): data up to 2025-11-15 leaves November
    partial; when December's lines arrive (and never the rest of November), November becomes
    complete although none of its own lines changed: the incremental run rewrites it (the
    month_completeness digest of int_source_digests) and equals a full refresh."""
    before_raw, after_raw = tmp_path / "raw_mid_november", tmp_path / "raw_november_gap"
    cut_raw(small_raw, before_raw, "2025-11-15")
    cut_raw(small_raw, after_raw, "2025-12-31")
    for path in after_raw.glob("sales_transactions_*.csv"):
        lines = pd.read_csv(path, dtype=str, keep_default_na=False)
        dates = lines["invoice_date"]
        lines[(dates <= "2025-11-15") | (dates >= "2025-12-01")].to_csv(path, index=False)
    database = tmp_path / "incremental" / "crm.duckdb"
    run_dbt(before_raw, database, *MODELS, "--full-refresh")
    board = "select report_month, is_month_complete, data_as_of_date from marts.kpi_monthly_board order by 1"
    before = query(database, board).set_index("report_month")
    november = before.loc[pd.Timestamp("2025-11-01")]
    assert not november["is_month_complete"] and str(november["data_as_of_date"])[:10] <= "2025-11-15"
    assert before["is_month_complete"].iloc[:-1].all()

    run_dbt(after_raw, database, *MODELS)
    reference = tmp_path / "reference" / "crm.duckdb"
    run_dbt(after_raw, reference, *REFERENCE)
    after = query(database, board).set_index("report_month")
    assert after.loc[pd.Timestamp("2025-11-01"), "is_month_complete"]
    assert str(after.loc[pd.Timestamp("2025-11-01"), "data_as_of_date"])[:10] == "2025-11-30"
    assert_same_tables(database, reference)


# --- every kind of change: an incremental run equals a full refresh on every incremental table ---

INCREMENTAL_TABLES = {
    "staging.base_crm__sales_transaction_lines": "source_file, source_row_number",
    "intermediate.int_customer_months__activity": "customer_id, month_index",
    "intermediate.int_customer_months__windows": "customer_id, report_month",
    "marts.fct_customer_monthly_snapshot": "customer_id, report_month",
    "marts.fct_sales": "source_file, source_row_number",
    "marts.kpi_monthly_board": "report_month",
    "marts.kpi_cohort_retention": "cohort_month, months_since_acquisition",
    "marts.kpi_segment_summary": "report_month, rfm_segment",
    "marts.kpi_tier_summary": "report_month, value_tier",
    "marts.kpi_segment_migration": "report_month, from_rfm_segment, to_rfm_segment",
    "marts.kpi_tier_migration": "report_month, from_value_tier, to_value_tier",
    "marts.kpi_tier_migration_by_segment": "report_month, rfm_segment, from_value_tier, to_value_tier",
    "marts.kpi_monthly_board_by_segment": "report_month, segment_label",
    "marts.kpi_rfm_score_bands": "report_month, dimension, score",
    "marts.kpi_sales_by_period": "period_type, period_start, segment_label",
    "marts.kpi_sales_by_category": "sales_month, category, brand, crm_role, segment_label",
    "marts.dim_customers": "customer_id",
    "intermediate.int_customer_periods__sales": "period_type, period_start, customer_id",
    "intermediate.int_customer_months__category_sales": "sales_month, category, brand, crm_role, customer_id",
    "intermediate.int_customer_value__inputs": "customer_id, report_month",
    "intermediate.int_customer_value__frequency_groups": "report_month, x, recency_days, age_days",
    "intermediate.int_customer_value__model_fits": "report_month, model",
    "intermediate.int_customer_value__scores": "report_month, x, recency_days, age_days",
    "marts.fct_customer_value": "customer_id, report_month",
    "marts.kpi_customer_value_by_segment": "report_month, rfm_segment",
    "marts.kpi_customer_value_by_tier": "report_month, value_tier",
}
# The full refresh that an incremental run is compared with builds only what the compared tables
# are made from (a "before" warehouse is always built whole, as a real one is).
REFERENCE = (*MODELS, "--full-refresh", "--select", *(f"+{table.split('.')[1]}" for table in INCREMENTAL_TABLES))
# columns that legitimately differ between two builds of the same data
VOLATILE = {"source_file_modified_at", "source_file_size", "source_file_md5", "loaded_at"}


def copy_raw(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        shutil.copy2(path, target / path.name)
    return target


def assert_same_tables(left: Path, right: Path) -> None:
    """Every table of INCREMENTAL_TABLES holds the same rows in both warehouses, VOLATILE aside.

    Speed: DuckDB compares first, both files attached: the same column names and types and no row
    of one missing from the other (`except all`, both ways, so duplicates count) mean equal tables.
    Any difference goes on to the pandas comparison, which names the first differing rows and
    accepts doubles that differ only in their last digits (as between two summation orders)."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as left_db (read_only)")
        connection.execute(f"attach '{right}' as right_db (read_only)")
        for table, order in INCREMENTAL_TABLES.items():
            columns = {
                side: {
                    name: kind
                    for name, kind in connection.execute(
                        f"select column_name, column_type from (describe {side}.{table})"
                    ).fetchall()
                    if name not in VOLATILE
                }
                for side in ("left_db", "right_db")
            }
            if columns["left_db"] == columns["right_db"]:
                listed = ", ".join(f'"{name}"' for name in sorted(columns["left_db"]))
                one_way = "select {c} from {a}.{t} except all select {c} from {b}.{t}"
                differing = connection.execute(
                    f"select count(*) from ({one_way.format(c=listed, a='left_db', b='right_db', t=table)}) "
                    f"union all select count(*) from ({one_way.format(c=listed, a='right_db', b='left_db', t=table)})"
                ).fetchall()
                if differing == [(0,), (0,)]:
                    continue
            a = query(left, f"select * from {table} order by {order}")
            b = query(right, f"select * from {table} order by {order}")
            keep = [c for c in a.columns if c not in VOLATILE]
            assert sorted(set(a.columns) - VOLATILE) == sorted(set(b.columns) - VOLATILE), table
            pd.testing.assert_frame_equal(a[keep], b[keep], obj=table)


def rebuilt(database: Path) -> tuple[int | None, bool]:
    """What the last run rebuilt (intermediate.int_build_changes): (first month index or None when
    nothing, whether it rebuilt every month)."""
    rows = query(database, "select rebuild_from_month_index, is_full from intermediate.int_build_changes")
    assert len(rows) == 1, rows
    first = rows["rebuild_from_month_index"][0]
    return (None if pd.isna(first) else int(first)), bool(rows["is_full"][0])


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _edit_csv(path: Path, edit) -> None:
    """Rewrite a raw file, as a later extract would: the change is seen by size or modification time
    (like rsync's quick check, one-second resolution), so the edit is dated a minute later."""
    stat = path.stat()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)
    os.utime(path, (stat.st_atime + 60, stat.st_mtime + 60))


def _an_active_customer(raw: Path) -> str:
    lines = pd.read_csv(raw / "sales_transactions_2024.csv", dtype=str, keep_default_na=False)
    customers = pd.read_csv(raw / "customers_master.csv", dtype=str, keep_default_na=False)
    in_scope = set(customers.loc[customers["customer_group"].str.strip().str.lower() != "general", "customer_id"])
    return next(c for c in lines["customer_id"].value_counts().index if c in in_scope)


def _scenario(name: str, raw: Path):
    """Edit the raw folder for a scenario; returns (vars for the second run, expected first month or 'full')."""
    customers = raw / "customers_master.csv"
    products = raw / "products_master.csv"
    if name == "old_line_corrected":

        def edit(frame):
            row = frame.index[frame["invoice_date"].str.startswith("2024-06")][0]
            frame.loc[row, "quantity"] = str(int(float(frame.loc[row, "quantity"])) + 3)
            return frame

        _edit_csv(raw / "sales_transactions_2024.csv", edit)
        return None, month_index(2024, 6)
    if name == "customer_leaves_scope":
        customer = _an_active_customer(raw)

        def edit(frame):
            frame.loc[frame["customer_id"] == customer, "customer_group"] = "General"
            return frame

        _edit_csv(customers, edit)
        return None, "month"
    if name == "new_customer_row_adopts_orphan_lines":
        return None, "month"  # the first run had the customer removed (see below)
    if name == "product_changes_role":

        def edit(frame):
            row = frame.index[frame["category"].str.strip().str.lower() == "consumable"][0]
            frame.loc[row, "category"] = "device"
            return frame

        _edit_csv(products, edit)
        return None, "month"
    if name == "file_removed":
        (raw / "sales_transactions_2023.csv").unlink()
        return None, "month"
    if name == "var_changed":
        return '{"crm_monetary_measure": "units"}', "full"
    if name == "value_var_changed":
        return '{"crm_value_annual_discount_rate": 0.2, "crm_value_margin": 0.5}', "full"
    raise ValueError(name)


SCENARIOS = [
    "old_line_corrected",
    "customer_leaves_scope",
    "new_customer_row_adopts_orphan_lines",
    "product_changes_role",
    "file_removed",
    "var_changed",
    "value_var_changed",
]


# the change whose "after" folder and full refresh two tests need (the failed-run test below too)
SHARED_SCENARIO = "old_line_corrected"


def shared_scenario(small_raw: Path, tmp_path_factory) -> tuple[Path, Path, tuple]:
    """(after folder, its full refresh, _scenario's answer) of SHARED_SCENARIO, made once per run:
    the tests only read them (an incremental run reads the folder, the comparison the warehouse)."""

    def make(folder: Path) -> None:
        answer = _scenario(SHARED_SCENARIO, copy_raw(small_raw, folder / "raw_after"))
        (folder / "scenario.json").write_text(json.dumps(answer))
        run_dbt(folder / "raw_after", folder / "full" / "crm.duckdb", *REFERENCE)

    shared = build_once(tmp_path_factory, "incremental_" + SHARED_SCENARIO, make)
    return (
        shared / "raw_after",
        shared / "full" / "crm.duckdb",
        tuple(json.loads((shared / "scenario.json").read_text())),
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_kind_of_change_incremental_equals_full_refresh(
    small_raw, small_warehouse, tmp_path, tmp_path_factory, scenario
):
    full = None
    if scenario == SHARED_SCENARIO:
        after, full, (variables, expected) = shared_scenario(small_raw, tmp_path_factory)
    else:
        after = copy_raw(small_raw, tmp_path / "raw_after")  # copy2: the files keep their times
        variables, expected = _scenario(scenario, after)
    extra = ("--vars", variables) if variables else ()

    database = tmp_path / "incremental" / "crm.duckdb"
    if scenario == "new_customer_row_adopts_orphan_lines":
        # the "before" folder lacks one customer row: a warehouse of its own
        before = copy_raw(small_raw, tmp_path / "raw_before")
        customer = _an_active_customer(before)
        _edit_csv(before / "customers_master.csv", lambda f: f[f["customer_id"] != customer])
        run_dbt(before, database, *MODELS, "--full-refresh")
    else:
        copy_warehouse(small_warehouse, database)  # built once per session on small_raw
    run_dbt(after, database, *MODELS, *extra)
    first_month, is_full = rebuilt(database)

    if scenario == "new_customer_row_adopts_orphan_lines":
        full = small_warehouse  # its "after" folder is small_raw, copied unchanged
    elif full is None:
        full = tmp_path / "full" / "crm.duckdb"
        run_dbt(after, full, *REFERENCE, *extra)
    assert_same_tables(database, full)

    if expected == "full":
        assert is_full
    else:
        # the change was recomputed from a month, not by a whole rebuild
        assert not is_full and first_month is not None
        if isinstance(expected, int):
            assert first_month == expected


def test_a_run_without_changes_recomputes_nothing(small_warehouse, small_raw, tmp_path):
    database = copy_warehouse(small_warehouse, tmp_path / "again" / "crm.duckdb")
    before = query(database, SNAPSHOT)
    run_dbt(small_raw, database, *MODELS)
    assert rebuilt(database) == (None, False)
    pd.testing.assert_frame_equal(before, query(database, SNAPSHOT))


def test_a_run_that_fails_half_way_is_caught_up_by_the_next_run(small_raw, small_warehouse, tmp_path, tmp_path_factory):
    """A run that fails after int_build_changes (here the customer value scores stop on an unknown
    model, after the snapshot and the fits were rebuilt with another monetary measure) does not reach
    int_build_completed. The next run, with the data of the failed run and the vars set back, must
    still rebuild what the failed run rewrote: every table then equals a full refresh."""
    after, full, _ = shared_scenario(small_raw, tmp_path_factory)  # one line of 2024-06 corrected
    database = copy_warehouse(small_warehouse, tmp_path / "incremental" / "crm.duckdb")
    completed = "select max(run_started_at) as run_started_at from intermediate.int_build_completed"
    before = query(database, completed)

    failing = '{"crm_monetary_measure": "units", "crm_value_model": "no_such_model"}'
    result = run_dbt(after, database, *MODELS, "--vars", failing, check=False)
    assert result.returncode != 0 and "no_such_model" in result.stdout, result.stdout[-3000:]
    assert rebuilt(database) == (12, True)  # the failed run rebuilt every month (the var changed)
    pd.testing.assert_frame_equal(query(database, completed), before)  # ... and did not complete

    run_dbt(after, database, *MODELS)
    # the vars are back and only 2024-06 differs from the completed build, but the failed run
    # rewrote every month: this run rebuilds them all again
    assert rebuilt(database)[1]
    assert query(database, completed)["run_started_at"][0] > before["run_started_at"][0]
    assert_same_tables(database, full)  # the full refresh of the folder `after`

    # a later run without changes rebuilds nothing (the failed run's range was caught up)
    run_dbt(after, database, *MODELS)
    assert rebuilt(database) == (None, False)


def test_a_line_rejected_as_future_dated_is_parsed_again_once_its_date_has_come(small_warehouse, small_raw, tmp_path):
    """The date gate compares with current_date, so a line dated after the day its file was parsed is
    rejected then and valid later, while its file does not change. The next build must parse that
    file again, as a full refresh that day would accept the line. Simulated by marking a parsed
    2024-06 line as it was stored when its date was still in the future."""
    database = copy_warehouse(small_warehouse, tmp_path / "incremental" / "crm.duckdb")
    with duckdb.connect(str(database)) as connection:
        marked = connection.execute(
            """
            update staging.base_crm__sales_transaction_lines
            set parse_reject_reason = 'invoice_date_out_of_range'
            where (source_file, source_row_number) in (
                select (source_file, source_row_number) from staging.base_crm__sales_transaction_lines
                where parse_reject_reason is null and invoice_date >= date '2024-06-01'
                    and invoice_date < date '2024-07-01' and quantity > 0
                order by source_file, source_row_number
                limit 1
            )
            returning source_file, source_row_number
            """
        ).fetchall()
    assert len(marked) == 1
    source_file, row_number = marked[0]

    run_dbt(small_raw, database, *MODELS)
    reason = query(
        database,
        f"""
        select parse_reject_reason from staging.base_crm__sales_transaction_lines
        where source_file = '{source_file}' and source_row_number = {row_number}""",
    )
    assert reason["parse_reject_reason"].isna().all(), "the stale rejection was kept: the file was not parsed again"
    assert_same_tables(database, small_warehouse)


# --- lines appended to a file: only the new lines are parsed, unless the old part changed ---


def _append(path: Path, text: str) -> None:
    stat = path.stat()
    with path.open("a", newline="") as handle:
        handle.write(text)
    os.utime(path, (stat.st_atime + 60, stat.st_mtime + 60))


def _december_lines(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line for line in lines[1:] if ",2025-12-" in line]


def _drop_final_line_break(path: Path) -> None:
    """An extract written without a final line break: the next one continues its last line."""
    path.write_text(path.read_text().rstrip("\n"), newline="")
    os.utime(path, (1_700_000_000, 1_700_000_000))


def _new_lines(path: Path) -> list[str]:
    """The lines appended to a 2025 file: 25 new December lines, a copy of a line already loaded (a
    duplicate) and of a line appended in the same run."""
    december = _december_lines(path)
    new_lines = [f"APPENDED-{number}," + line.split(",", 1)[1] for number, line in enumerate(december[:25])]
    new_lines.append(december[30])
    new_lines.append(new_lines[0])
    return new_lines


def _appended_raw(small_raw: Path, after: Path, case: str) -> list[str]:
    """The "after" raw folder of a case: small_raw with lines appended to the 2025 file (and, by case,
    its old last line continued or an old line edited); returns the appended lines."""
    copy_raw(small_raw, after)
    name = "sales_transactions_2025.csv"
    if case == "old_last_line_continued":
        _drop_final_line_break(after / name)
    new_lines = _new_lines(after / name)
    text = "\n".join(new_lines) + "\n"
    if case == "old_last_line_continued":
        text = "9\n" + text  # the old last line's store id gets a 9
    if case == "old_line_edited_too":
        content = (after / name).read_text()
        first_line_end = content.index("\n", content.index("\n") + 1)
        edited = (
            content[: first_line_end - 1]
            + ("8" if content[first_line_end - 1] != "8" else "7")
            + content[first_line_end:]
        )
        (after / name).write_text(edited, newline="")
    _append(after / name, text)
    return new_lines


# cases whose "after" folder is the same (lines only appended): one full refresh serves them
PLAIN_APPEND = ("only_appended", "warehouse_from_before_the_md5_column")


@pytest.mark.parametrize(
    "case", ["only_appended", "old_line_edited_too", "old_last_line_continued", "warehouse_from_before_the_md5_column"]
)
def test_appended_lines_are_parsed_alone_and_equal_a_full_refresh(
    small_raw, small_warehouse, tmp_path, tmp_path_factory, case
):
    name = "sales_transactions_2025.csv"
    if case in PLAIN_APPEND:
        # the same folder and its full refresh, made once per run (the incremental run only reads it)

        def make(folder: Path) -> None:
            _appended_raw(small_raw, folder / "raw_after", "only_appended")
            run_dbt(folder / "raw_after", folder / "full" / "crm.duckdb", *REFERENCE)

        shared = build_once(tmp_path_factory, "incremental_plain_append", make)
        after, full = shared / "raw_after", shared / "full" / "crm.duckdb"
        new_lines = _new_lines(small_raw / name)  # the lines appended there
    else:
        after, full = tmp_path / "raw_after", tmp_path / "full" / "crm.duckdb"
        new_lines = _appended_raw(small_raw, after, case)

    database = tmp_path / "incremental" / "crm.duckdb"
    if case == "old_last_line_continued":
        # its "before" file differs from small_raw's: the old part without its final line break
        before = copy_raw(small_raw, tmp_path / "raw_before")
        _drop_final_line_break(before / name)
        run_dbt(before, database, *MODELS, "--full-refresh")
    else:
        copy_warehouse(small_warehouse, database)  # built once per session on small_raw
    lines_sql = (
        f"select source_row_number, loaded_at, is_exact_duplicate from staging.base_crm__sales_transaction_lines "
        f"where source_file = '{name}' order by source_row_number"
    )
    first = query(database, lines_sql)
    if case == "warehouse_from_before_the_md5_column":
        # as a warehouse built by an earlier version: the next build adds the column and, having
        # no MD5 to check the old part against, parses the grown file whole
        with duckdb.connect(str(database)) as connection:
            connection.execute("alter table staging.base_crm__sales_transaction_lines drop column source_file_md5")
    run_dbt(after, database, *MODELS)
    second = query(database, lines_sql)
    first_month, is_full = rebuilt(database)

    if case not in PLAIN_APPEND:
        run_dbt(after, full, *REFERENCE)
    assert_same_tables(database, full)

    assert len(second) == len(first) + len(new_lines)
    old_rows = second[second["source_row_number"] <= len(first)]
    kept = (old_rows["loaded_at"].values == first["loaded_at"].values).all()
    assert kept == (case == "only_appended")  # otherwise the whole file was parsed again
    assert (second["loaded_at"] > first["loaded_at"].max()).sum() == (len(new_lines) if kept else len(second))
    # the two copies are flagged, in the incremental build as in the full refresh
    assert second["is_exact_duplicate"].tail(2).tolist() == [True, True]
    assert not is_full and first_month is not None
    if case == "only_appended":
        assert first_month == month_index(2025, 12)
