"""The generated period: months, their first days and lengths, and the calendar years."""

from __future__ import annotations

import datetime as dt

import numpy as np

from crm_warehouse.synth.basics import day_number


class ReportCalendar:
    def __init__(self, start_year: int, end_date: dt.date):
        self.start = dt.date(start_year, 1, 1)
        self.end = end_date
        self.start_day = day_number(self.start)
        self.end_day = day_number(end_date)
        self.n_months = (end_date.year - start_year) * 12 + end_date.month
        ms, ml = [], []
        for m in range(self.n_months):
            y, mo = start_year + m // 12, m % 12 + 1
            first = dt.date(y, mo, 1)
            nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1)
            last = min(nxt - dt.timedelta(days=1), end_date)
            ms.append(day_number(first))
            ml.append((last - first).days + 1)
        self.month_start = np.array(ms, dtype=np.int64)
        self.month_len = np.array(ml, dtype=np.int64)
        self.years = list(range(start_year, end_date.year + 1))
        self.year_start_day = np.array([day_number(dt.date(y, 1, 1)) for y in self.years] + [self.end_day + 1])
