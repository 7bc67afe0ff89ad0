"""CSV writing through DuckDB: the SQL that formats a block's arrays (transactions, customers, with
their spoiled values), one part file per block, the parts concatenated under one header."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from crm_warehouse.synth.bad_input import (
    BAD_CONSENTS,
    BAD_CREATED,
    BAD_IMPOSSIBLE_DATES,
    BAD_QUANTITIES,
    BAD_REVENUES,
    TXB_BAD_CUST,
    TXB_BAD_DATE,
    TXB_BAD_QTY,
    TXB_BAD_REV,
    TXB_IMPOSSIBLE_DATE,
    TXB_MISSING_CUST,
    TXB_MISSING_INV,
    TXB_MISSING_PROD,
)
from crm_warehouse.synth.basics import sql_list
from crm_warehouse.synth.name_lists import CITIES, DOMAINS, FIRST_NAMES, G_ANON_FIRST, GROUPS, LAST_NAMES


def transaction_csv_sql(inv_w: int, cust_w: int) -> str:
    cust_txt = f"lpad(cust::VARCHAR, {cust_w}, '0')"
    return f"""
    SELECT
      CASE WHEN cls = {TXB_MISSING_INV} THEN NULL ELSE printf('INV%0{inv_w}d', inv) END,
      CASE WHEN cls = {TXB_MISSING_CUST} THEN NULL
           WHEN cls = {TXB_BAD_CUST} THEN (CASE vr % 3
                WHEN 0 THEN 'C ' || cust::VARCHAR || '#'
                WHEN 1 THEN 'C#' || {cust_txt}
                ELSE 'C' || substr({cust_txt}, 1, 3) || ' ' || substr({cust_txt}, 4) END)
           ELSE printf('C%0{cust_w}d', cust) END,
      CASE WHEN cls = {TXB_BAD_DATE} THEN (CASE vr % 4
                WHEN 0 THEN yr || '-13-45'
                WHEN 1 THEN 'not a date'
                WHEN 2 THEN strftime(d, '%d/%m/%Y')
                ELSE NULL END)
           WHEN cls = {TXB_IMPOSSIBLE_DATE} THEN yr || {sql_list(BAD_IMPOSSIBLE_DATES)}[vr % {len(BAD_IMPOSSIBLE_DATES)} + 1]
           ELSE strftime(d, '%Y-%m-%d') END,
      CASE WHEN cls = {TXB_MISSING_PROD} THEN NULL ELSE printf('P%04d', prod) END,
      CASE WHEN cls = {TXB_BAD_QTY} THEN {sql_list(BAD_QUANTITIES)}[vr % {len(BAD_QUANTITIES)} + 1]
           ELSE qty::VARCHAR END,
      CASE WHEN cls = {TXB_BAD_REV} THEN {sql_list(BAD_REVENUES)}[vr % {len(BAD_REVENUES)} + 1]
           ELSE printf('%.2f', rev / 100.0) END,
      CASE WHEN store < 0 THEN NULL ELSE printf('S%03d', store) END
    FROM (SELECT *, DATE '1970-01-01' + day::INTEGER AS d,
                 year(DATE '1970-01-01' + day::INTEGER)::VARCHAR AS yr FROM t)
    ORDER BY sk, ri
    """


def customer_csv_sql(cust_w: int, y: int, y0: int) -> str:
    fn = sql_list(FIRST_NAMES)
    ln = sql_list(LAST_NAMES)
    created_bad = sql_list([v.format(y=y, y0=y0) for v in BAD_CREATED])
    opt = []
    for col_i, col in enumerate(("oe", "os", "op")):
        opt.append(f"""CASE WHEN cls = 3 AND (vr // 3) % 3 = {col_i} THEN {sql_list(BAD_CONSENTS)}[vr % 3 + 1]
                WHEN {col} < 0 THEN NULL ELSE {col}::VARCHAR END""")
    return f"""
    SELECT
      CASE WHEN cls = 1 THEN NULL ELSE printf('C%0{cust_w}d', cid) END,
      CASE WHEN grp >= {G_ANON_FIRST} THEN 'Walk-in Customer ' || printf('S%03d', store)
           ELSE {fn}[fn + 1] || ' ' || {ln}[ln + 1] END,
      {sql_list(GROUPS)}[grp + 1],
      {sql_list(CITIES)}[city + 1],
      CASE WHEN cls = 4 THEN {created_bad}[vr % {len(BAD_CREATED)} + 1]
           ELSE strftime(DATE '1970-01-01' + created::INTEGER, '%Y-%m-%d') END,
      CASE WHEN em = 0 THEN NULL
           ELSE lower({fn}[fn + 1]) || '.' || lower({ln}[ln + 1]) || cid::VARCHAR || '@' || {sql_list(DOMAINS)}[dom + 1] END,
      CASE WHEN mob < 0 THEN NULL ELSE '07' || lpad(mob::VARCHAR, 8, '0') END,
      {opt[0]},
      {opt[1]},
      {opt[2]}
    FROM t
    ORDER BY sk, ri
    """


def copy_to_csv(con, arrays: dict, sql: str, path: Path) -> None:
    arrays = dict(arrays, ri=np.arange(len(next(iter(arrays.values()))), dtype=np.int64))
    con.register("t", arrays)
    try:
        con.execute(f"COPY ({sql}) TO '{path.as_posix()}' (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"')")
    finally:
        con.unregister("t")


def concatenate_parts(out_path: Path, header: list[str], parts: list[Path]) -> None:
    with open(out_path, "wb") as out:
        out.write((",".join(header) + "\n").encode())
        for p in parts:
            if p.exists():
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)


def block_share(total: int, n_chunks: int, i: int) -> int:
    return total * (i + 1) // n_chunks - total * i // n_chunks
