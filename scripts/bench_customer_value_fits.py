"""CPU seconds of the customer value fits alone (issue 23's time budget, docs/performance.md): every
report month's BG/NBD, MBG/NBD and Gamma-Gamma fit, in one process, as int_customer_value__model_fits
runs them (each month from the previous month's fits), on the grouped inputs of a built warehouse.

    .venv/bin/python scripts/bench_customer_value_fits.py CHECKOUT WAREHOUSE_DUCKDB [--repeats N] [--json OUT]

CHECKOUT: the project folder whose src/crm_warehouse and model file are timed (e.g. a `git archive`
of the commit to compare; checkouts from before issue 23, whose fits take `start=`, work too).
The checkout's crm_warehouse is timed, not the package installed editable into .venv: the script
runs itself again with PYTHONPATH=CHECKOUT/src (first on the import path, before the installed package).
Prints the smallest process CPU time of the repeats; --json writes every fit (month, model,
log-likelihood, parameters, winning start) to compare two checkouts' results.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("database", type=Path)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    checkout = args.checkout.resolve()
    if os.environ.get("CRM_BENCH_FITS_CHECKOUT") != str(checkout):
        # again, in a process that imports the checkout's package (see the docstring)
        env = {**os.environ, "CRM_BENCH_FITS_CHECKOUT": str(checkout), "PYTHONPATH": str(checkout / "src")}
        raise SystemExit(
            subprocess.run(
                [sys.executable, __file__, *(sys.argv[1:] if argv is None else argv)], env=env, check=False
            ).returncode
        )
    import duckdb
    import numpy  # noqa: F401  as in dbt: the model file imports numpy first (BLAS threads at their default)

    from crm_warehouse import customer_value as cv

    spec = importlib.util.spec_from_file_location(
        "model_fits", checkout / "models" / "intermediate" / "int_customer_value__model_fits.py"
    )
    model_fits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model_fits)
    with duckdb.connect(str(args.database), read_only=True) as connection:
        triples = connection.sql(
            "select report_month_index, x, recency_days, age_days, customers "
            "from intermediate.int_customer_value__frequency_groups "
            "order by report_month_index, x, recency_days, age_days"
        ).fetchnumpy()
        spends = connection.sql(
            "select report_month_index, x, cast(repeat_revenue as double) / x as m_x "
            "from intermediate.int_customer_value__inputs where x >= 1 and repeat_revenue > 0 "
            "order by report_month_index, x, m_x"
        ).fetchnumpy()
    triples = {name: values.copy() for name, values in triples.items()}
    spends = {name: values.copy() for name, values in spends.items()}
    multi_start = hasattr(cv, "prepare_triples")  # issue 23's fits; before it: fit_bg_nbd(x, ..., start=)

    def run() -> list[dict]:
        grouped = model_fits.group_sorted(spends)
        start, rows = {}, []
        for month in sorted(set(triples["report_month_index"].tolist())):
            month_triples = model_fits.month_slice(triples, month)
            month_spends = model_fits.month_slice(grouped, month)
            columns = (
                month_triples["x"],
                month_triples["recency_days"] / 7.0,
                month_triples["age_days"] / 7.0,
                month_triples["customers"],
            )
            if multi_start:
                prepared = cv.prepare_triples(*columns)
                fits = [cv.fit_bg_nbd(model=name, previous=start.get(name), data=prepared) for name in cv.MODELS]
            else:
                fits = [cv.fit_bg_nbd(*columns, model=name, start=start.get(name)) for name in cv.MODELS]
            keyword = "previous" if multi_start else "start"
            spend_columns = (month_spends["x"], month_spends["m_x"], month_spends["customers"])
            fits.append(cv.fit_gamma_gamma(*spend_columns, **{keyword: start.get("gamma_gamma")}))
            start = {
                fit.model: model_fits.usable_start(fit.model, fit.params, fit.converged, fit.at_bound) for fit in fits
            }
            rows += [
                dict(
                    month=int(month),
                    model=fit.model,
                    log_likelihood=fit.log_likelihood,
                    params=fit.params,
                    start=getattr(fit, "start", None),
                    starts_tried=getattr(fit, "starts_tried", 1),
                )
                for fit in fits
            ]
        return rows

    seconds = []
    for _ in range(args.repeats):
        began = time.process_time()
        rows = run()
        seconds.append(time.process_time() - began)
    print(f"{checkout}: fits CPU {min(seconds):.2f} s (runs {', '.join(f'{value:.2f}' for value in seconds)})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
