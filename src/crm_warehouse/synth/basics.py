"""Day numbers, the seeded random streams, SQL list literals and progress messages."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def random_stream(seed: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *[int(t) for t in tags]]))


def sql_list(values) -> str:
    def lit(v):
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    return "[" + ", ".join(lit(v) for v in values) + "]"


def log_progress(msg: str) -> None:
    print(f"[generate_data] {msg}", file=sys.stderr, flush=True)
