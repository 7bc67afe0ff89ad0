"""Spreadsheet-safe exports: no cell of a CSV or .xlsx file we write runs as a formula.

Customer names, cities, e-mail addresses and other text come from source systems fed by web forms,
so they are attacker-controlled. A spreadsheet evaluates a cell that starts with `=`, `+`, `-` or
`@` (and, on import, with a tab or carriage return) as a formula: `=HYPERLINK(...)` can send data
to another site, DDE payloads can start programs (OWASP "CSV Injection"). Every CSV and .xlsx
export of the project goes through this module; it is the one place the rules live:

.xlsx (`save_workbook`, `workbook_bytes`)
    Every text value is stored as a text cell with its exact content: a string that openpyxl would
    store as a formula (it starts with `=`) is stored as text instead, and a string that looks like
    a formula (see `looks_like_formula`) also gets the "quote prefix" cell style, so Excel keeps it
    as text even when a user edits the cell. Numbers, dates and booleans are untouched. The project
    writes no formulas of its own; `save_workbook` turns any formula cell into its text.

CSV (`csv_bytes`), two modes
    safe (default, for people who open the file in a spreadsheet): a text value that looks like a
    formula is prefixed with a single quote `'` (OWASP), so `=2+3` is written `'=2+3` and shown as
    text. Every text field is quoted, so a value such as `x;=1+1` cannot become a cell of its own
    in a spreadsheet that splits on `;`. Numeric columns (amounts, counts, scores, negative values)
    are written as numbers, unquoted and unchanged. A text value that is only a number
    (`+254712345678`, `+254 712 345 678`, `-12.5`, `0712345678`) is left as it is: a spreadsheet
    reads it as a number at worst, never as a function call or a reference, and a phone number
    keeps its `+` for SMS tools.
    raw (for machine imports): every value is written exactly as it is, nothing is prefixed or
    quoted beyond what CSV needs. Only for programs, never for a person to open in a spreadsheet.

Control characters (.xlsx only, `replace_control_characters`)
    openpyxl refuses a text value holding a control character other than tab, line feed and carriage
    return (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F: XML 1.0 cannot store them), so one bad
    name or city in a master row would abort a whole list. Before a frame is written to .xlsx each
    such character is replaced by the visible placeholder U+FFFD `�`, and the number of cells
    changed is reported. CSV keeps every value as it is.

No dependency beyond pandas and openpyxl; imported by crm_warehouse.campaign_list, scripts/excel_report.py
and, through crm_warehouse.campaign_list, by the app.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

# Leading characters a spreadsheet evaluates (OWASP CSV injection: = + - @ tab carriage return).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Only a number: optional sign, digits, optional single spaces between digit groups, optional decimals.
# No letter (no function name, no A1/R1C1 reference), no `:`, `!`, `|`, `(`: nothing to evaluate.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?: [0-9]+)*(?:\.[0-9]+)?")
CSV_ESCAPE = "'"
# What openpyxl (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE) refuses in a cell: C0 controls but tab,
# line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_PLACEHOLDER = "\ufffd"


def looks_like_formula(value: object) -> bool:
    """True for a str a spreadsheet would evaluate: its first character after leading spaces is one
    of FORMULA_PREFIXES, unless the value is only a number (see PLAIN_NUMBER)."""
    if not isinstance(value, str):
        return False
    text = value.lstrip(" ")
    return text[:1] in FORMULA_PREFIXES and not PLAIN_NUMBER.fullmatch(text)


def escape_csv_value(value: object) -> object:
    """The CSV (safe mode) form of one value: a formula-looking str gets a leading `'`; any other
    value is returned unchanged."""
    return CSV_ESCAPE + value if looks_like_formula(value) else value


def csv_bytes(frame: pd.DataFrame, *, raw: bool = False) -> bytes:
    """UTF-8 CSV with a BOM (Excel detects the encoding), header row, no index.

    raw=False (default): safe to open in a spreadsheet (see the module docstring).
    raw=True: every value as it is, for machine imports.
    """
    if raw:
        return frame.to_csv(index=False).encode("utf-8-sig")
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].astype("object").map(escape_csv_value)
    safe.columns = [escape_csv_value(str(column)) for column in safe.columns]
    # QUOTE_NONNUMERIC quotes every text field (and empty values) and leaves numbers bare.
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def replace_control_characters(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """(a copy of frame with every control character of a text value replaced by
    CONTROL_PLACEHOLDER, the number of cells changed), for an .xlsx export. Numbers, dates and
    missing values are untouched; the frame itself is not changed."""
    cleaned = frame.copy()
    changed = 0
    for column in cleaned.columns:
        if pd.api.types.is_numeric_dtype(cleaned[column]):
            continue
        values = cleaned[column]
        bad = values.map(lambda value: isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None)
        count = int(bad.sum())
        if count:
            cleaned[column] = values.astype("object").where(
                ~bad, values[bad].map(lambda value: CONTROL_CHARACTERS.sub(CONTROL_PLACEHOLDER, value))
            )
            changed += count
    return cleaned, changed


def neutralise_workbook(workbook) -> int:
    """Store every text cell of every sheet as literal text; returns how many cells were changed.

    A cell that openpyxl typed as a formula (a str starting with `=`) becomes a text cell with the
    same content; a formula-looking str also gets the quote-prefix style (Excel shows no quote)."""
    changed = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                if cell.data_type == "f" or looks_like_formula(value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed


def workbook_bytes(workbook) -> bytes:
    """The workbook as .xlsx bytes, text cells neutralised first (see neutralise_workbook)."""
    neutralise_workbook(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def save_workbook(workbook, out: Path | str) -> Path:
    """Write the workbook to `out` (.xlsx), text cells neutralised first (see neutralise_workbook)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(workbook_bytes(workbook))
    return out
