"""The project's own generic data tests (macros/tests/generic_tests.sql) return exactly the failing rows.

expressions_are_true and unique_combination_of_columns (its exact pre-pass by customer and 60-month
block, month_column / month_index_column) are rendered by dbt as the build renders them (one
`dbt compile --inline` for every variant, no build) and run on tiny DuckDB tables. A test that cannot
fail is a defect: each case below fails when the macro is wrong (an inverted `having`, `=` instead
of `is not distinct from`, a missing block or coalesce, a dropped null check)."""

from __future__ import annotations

import datetime
import random

import duckdb
import pytest

from conftest import ROOT, run_dbt

SPLIT = "-- crm generic test variant --"
BASE = 2000 * 12  # month index of January 2000: a 60-month block starts there (24000 = 400 * 60)


def unique_combination(columns: list[str], **month) -> str:
    arguments = ", ".join(f"{name}='{value}'" for name, value in month.items())
    return (
        f"{{{{ test_unique_combination_of_columns(model='tested', combination_of_columns={columns!r}"
        f"{', ' + arguments if arguments else ''}) }}}}"
    )


EXPRESSIONS = "{'a_positive': 'a > 0', 'b_below_a': 'b < a'}"
VARIANTS = {
    "expressions": f"{{{{ test_expressions_are_true(model='tested', expressions={EXPRESSIONS}) }}}}",
    "expressions_where": (
        f"{{{{ test_expressions_are_true(model='tested', expressions={EXPRESSIONS}, where_clause='id <> 4') }}}}"
    ),
    "by_month_column": unique_combination(["customer_id", "report_month"], month_column="report_month"),
    "by_month_index_column": unique_combination(["customer_id", "month_index"], month_index_column="month_index"),
    "plain_month_column": unique_combination(["customer_id", "report_month"]),
    "plain_month_index_column": unique_combination(["customer_id", "month_index"]),
    "three_by_month_index_column": unique_combination(
        ["customer_id", "channel", "month_index"], month_index_column="month_index"
    ),
    "three_plain": unique_combination(["customer_id", "channel", "month_index"]),
}
PRE_PASS = {"by_month_column": "plain_month_column", "by_month_index_column": "plain_month_index_column"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    """Each variant's SQL as dbt renders it in this project (its macros, DuckDB's dispatch)."""
    inline = f"\n{SPLIT}\n".join(VARIANTS.values())
    folder = tmp_path_factory.mktemp("generic_tests")
    result = run_dbt(ROOT / "data" / "demo", folder / "crm.duckdb", "compile", "--quiet", "--inline", inline)
    parts = result.stdout.split(SPLIT)
    assert len(parts) == len(VARIANTS), result.stdout
    return dict(zip(VARIANTS, parts, strict=True))


def candidate_keys_sql(test_sql: str) -> str:
    """The pre-pass alone: the keys it sends to the exact group by."""
    assert "checked_rows as (" in test_sql, test_sql
    return test_sql[: test_sql.index("checked_rows as (")].rstrip().rstrip(",") + "\nselect * from candidate_keys"


def run(test_sql: str, rows: list[tuple], columns: str) -> list[tuple]:
    """The test's failing rows on a table `tested` (columns: 'name type, ...') holding rows, sorted."""
    with duckdb.connect() as connection:
        connection.execute(f"create table tested ({columns})")
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            connection.executemany(f"insert into tested values ({marks})", rows)
        return sorted(connection.execute(test_sql).fetchall(), key=repr)


# --- expressions_are_true ---------------------------------------------------------------------------

ROWS = [
    (1, 5, 1),  # passes both
    (2, -1, 0),  # fails both
    (3, 3, 7),  # fails b_below_a
    (4, None, 1),  # both expressions null: fails both
    (5, 2, None),  # b_below_a null: fails it
]


def test_expressions_are_true_returns_each_failing_row_once_per_failed_rule_with_its_name(rendered):
    failing = run(rendered["expressions"], ROWS, "id integer, a integer, b integer")
    assert failing == sorted(
        [
            ("a_positive", 2, -1, 0),
            ("b_below_a", 2, -1, 0),
            ("b_below_a", 3, 3, 7),
            ("a_positive", 4, None, 1),
            ("b_below_a", 4, None, 1),
            ("b_below_a", 5, 2, None),
        ],
        key=repr,
    )
    assert run(rendered["expressions"], [(1, 5, 1), (6, 9, 8)], "id integer, a integer, b integer") == []


def test_expressions_are_true_where_clause_limits_the_rows_checked(rendered):
    failing = run(rendered["expressions_where"], ROWS, "id integer, a integer, b integer")
    assert [(check, row_id) for check, row_id, *_ in failing] == sorted(
        [("a_positive", 2), ("b_below_a", 2), ("b_below_a", 3), ("b_below_a", 5)], key=repr
    )


# --- unique_combination_of_columns with the pre-pass ------------------------------------------------


def month_start(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def keyed(variant: str, rows: list[tuple]) -> tuple[list[tuple], str]:
    """(customer_id, month index) rows as the variant's table: a month index, or its first day."""
    if variant.endswith("month_index_column"):
        return rows, "customer_id varchar, month_index integer"
    dated = [(customer, None if index is None else month_start(index)) for customer, index in rows]
    return dated, "customer_id varchar, report_month date"


def duplicates(rendered: dict[str, str], variant: str, rows: list[tuple]) -> list[tuple]:
    """The variant's failing rows as (customer_id, month index, rows)."""
    table, columns = keyed(variant, rows)
    failing = run(rendered[variant], table, columns)
    if variant.endswith("month_index_column"):
        return failing
    return sorted(
        [
            (customer, None if month is None else month.year * 12 + month.month - 1, count)
            for customer, month, count in failing
        ],
        key=repr,
    )


@pytest.fixture(params=list(PRE_PASS))
def variant(request) -> str:
    """Each way of naming the month: month_column (a date), month_index_column (a month number)."""
    return request.param


def test_a_repeated_customer_month_is_found(variant, rendered):
    rows = [("C1", BASE + 3), ("C1", BASE + 3), ("C1", BASE + 4), ("C2", BASE + 3), ("C3", BASE + 7)]
    assert duplicates(rendered, variant, rows) == [("C1", BASE + 3, 2)]
    assert duplicates(rendered, variant, rows + [("C1", BASE + 3)]) == [("C1", BASE + 3, 3)]  # three rows


def test_a_key_whose_months_lie_60_months_apart_is_not_reported_nor_even_a_candidate(variant, rendered):
    """Months 60 apart set the same bit, in different blocks; the last month of a block and the
    first of the next set bits 59 and 0."""
    rows = [("C1", BASE + 5), ("C1", BASE + 65), ("C1", BASE + 125), ("C2", BASE + 59), ("C2", BASE + 60)]
    assert duplicates(rendered, variant, rows) == []
    table, columns = keyed(variant, rows)
    assert run(candidate_keys_sql(rendered[variant]), table, columns) == []  # the pre-pass prunes them


def test_a_null_customer_or_month_repeated_is_found_like_the_plain_group_by(variant, rendered):
    rows = [
        (None, BASE + 3),
        (None, BASE + 3),
        (None, BASE + 4),
        ("C1", None),
        ("C1", None),
        ("C2", None),
        ("C2", BASE + 1),
    ]
    expected = [(None, BASE + 3, 2), ("C1", None, 2)]
    assert duplicates(rendered, variant, rows) == sorted(expected, key=repr)
    assert duplicates(rendered, PRE_PASS[variant], rows) == sorted(expected, key=repr)


def test_keys_in_different_60_month_blocks(variant, rendered):
    """A duplicate in the first month (bit 0) and in the last month (bit 59) of later blocks, keys
    with rows in several blocks, months before 2000 (a block starting at 1995); only the keys with a
    repeat are candidates of the pre-pass."""
    rows = [
        *[("C1", BASE + month) for month in range(0, 180, 7)],
        ("C1", BASE + 179),
        ("C1", BASE + 179),
        *[("C2", BASE + month) for month in range(-60, 130, 11)],
        ("C2", BASE + 120),
        ("C2", BASE + 120),
        ("C3", BASE - 60),
        ("C3", BASE - 60),
        ("C3", BASE),
        ("C4", BASE - 1),
        ("C4", BASE + 59),
        ("C5", BASE + 130),
        ("C5", BASE + 130),
    ]
    assert duplicates(rendered, variant, rows) == [
        ("C1", BASE + 179, 2),
        ("C2", BASE + 120, 2),
        ("C3", BASE - 60, 2),
        ("C5", BASE + 130, 2),
    ]
    table, columns = keyed(variant, rows)
    assert run(candidate_keys_sql(rendered[variant]), table, columns) == [("C1",), ("C2",), ("C3",), ("C5",)]


def test_a_date_within_a_month_is_not_a_repeat_of_its_first_day(rendered):
    """With month_column, two dates of one month share a bit: the exact pass sees that they differ."""
    rows = [("C1", datetime.date(2024, 3, 1)), ("C1", datetime.date(2024, 3, 15)), ("C2", datetime.date(2024, 3, 15))]
    columns = "customer_id varchar, report_month date"
    assert run(rendered["by_month_column"], rows, columns) == []
    assert run(rendered["by_month_column"], rows + [("C2", datetime.date(2024, 3, 15))], columns) == [
        ("C2", datetime.date(2024, 3, 15), 2)
    ]


def pre_pass_candidates(rows: list[tuple]) -> list[tuple]:
    """The keys the pre-pass must send to the exact pass: those with a (key, 60-month block) group
    of more rows than distinct months (a null month sets no bit: its rows always go)."""
    groups: dict[tuple, list] = {}
    for *key, month in rows:
        groups.setdefault((tuple(key), None if month is None else month - month % 60), []).append(month)
    repeated = {
        key
        for (key, _), months in groups.items()
        if len(months) != len({month for month in months if month is not None})
    }
    return sorted(repeated, key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_pre_pass_agrees_with_the_plain_group_by_on_a_random_table(rendered, seed):
    generator = random.Random(seed)
    customers = [None, *[f"C{number}" for number in range(12)]]
    months = [None, *range(BASE - 70, BASE + 130)]
    rows = [(generator.choice(customers), generator.choice(months)) for _ in range(300)]
    rows += [generator.choice(rows) for _ in range(20)]  # some certain repeats
    for with_pre_pass, plain in PRE_PASS.items():
        table, columns = keyed(with_pre_pass, rows)
        expected = run(rendered[plain], table, columns)
        assert len(expected) >= 15  # the repeats are there to be found
        assert run(rendered[with_pre_pass], table, columns) == expected
        assert run(candidate_keys_sql(rendered[with_pre_pass]), table, columns) == pre_pass_candidates(rows)
    channels = [None, "shop", "web"]
    three = [(customer, generator.choice(channels), month) for customer, month in rows]
    three += [generator.choice(three) for _ in range(20)]
    columns = "customer_id varchar, channel varchar, month_index integer"
    expected = run(rendered["three_plain"], three, columns)
    assert len(expected) >= 15
    assert run(rendered["three_by_month_index_column"], three, columns) == expected
    assert run(candidate_keys_sql(rendered["three_by_month_index_column"]), three, columns) == pre_pass_candidates(
        three
    )
