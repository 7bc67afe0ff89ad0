"""The command line of scripts/generate_data.py."""

from __future__ import annotations

import argparse
import json
import sys

import crm_warehouse.synth as synth
from crm_warehouse.synth.bg_nbd import generate_bg_nbd
from crm_warehouse.synth.landing_files import generate


def parameter_list(text: str, names: str):
    values = [part.strip() for part in str(text).split(",")]
    wanted = names.split(",")
    try:
        numbers = [float(value) for value in values]
    except ValueError:
        numbers = []
    if len(numbers) != len(wanted):
        raise argparse.ArgumentTypeError(f"expected {len(wanted)} comma-separated numbers {names}, got {text!r}")
    return numbers


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=synth.__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", required=True, help="output folder (created; existing generated files replaced)")
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--start-year", type=int, default=2023)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument(
        "--lines",
        type=int,
        default=None,
        help="target number of transaction lines (default customers * 20; reached within ~+-10%% as long as "
        "it is at least ~10 lines per customer for 3 years of data, what the steady personas alone make)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--bad-share",
        type=float,
        default=0.01,
        help="share of bad rows per file, split evenly over the bad classes (min 2 each)",
    )
    ap.add_argument("--clean", action="store_true", help="no bad input at all")
    ap.add_argument(
        "--end-date",
        default=None,
        help="last invoice date YYYY-MM-DD (default Dec 31 of the last year); when given, the years "
        "written are --start-year .. the year of --end-date",
    )
    ap.add_argument(
        "--block-customers",
        type=int,
        default=None,
        help="customers per processing block (memory tuning; default ~1M lines per block)",
    )
    ap.add_argument(
        "--campaigns",
        action="store_true",
        help="record the demo campaigns (campaigns/ folder) and append their simulated responses",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("--json", action="store_true", help="print the full summary as JSON on stdout")
    bgnbd = ap.add_argument_group(
        "BG/NBD process (recovery tests of the customer value models, SPEC section 9)",
        "With --bgnbd-params the files hold customers of the BG/NBD generative process with these known "
        "parameters instead of the personas (one core product, one line per purchase day, no bad rows); "
        "--customers, --start-year, --years, --end-date, --seed apply, --lines / --campaigns / --bad-share do not. "
        "Time unit: weeks, as the warehouse's t_x and T; each customer's first purchase is on a day drawn "
        "uniformly from the first --cohort-weeks weeks, so T (to the end date) varies.",
    )
    bgnbd.add_argument(
        "--bgnbd-params",
        metavar="R,ALPHA,A,B",
        default=None,
        type=lambda text: parameter_list(text, "r,alpha,a,b"),
        help="BG/NBD parameters: purchase rate ~ Gamma(r, alpha) per week (alpha in weeks), "
        "drop-out probability after a purchase ~ Beta(a, b); e.g. 0.5,8,0.7,2.5",
    )
    bgnbd.add_argument(
        "--bgnbd-model",
        choices=("bg_nbd", "mbg_nbd"),
        default="bg_nbd",
        help="bg_nbd (default) or mbg_nbd (a customer may also drop out right after the first purchase)",
    )
    bgnbd.add_argument(
        "--gamma-gamma-params",
        metavar="P,Q,GAMMA",
        default=None,
        type=lambda text: parameter_list(text, "p,q,gamma"),
        help="Gamma-Gamma spend: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma) per customer; "
        "e.g. 6,4,15 (mean p*gamma/(q-1) = 30). Default: 10.00 per purchase",
    )
    bgnbd.add_argument(
        "--cohort-weeks",
        type=float,
        default=52.0,
        help="first purchases spread uniformly over this many weeks from Jan 1 of --start-year (default 52)",
    )
    a = ap.parse_args(argv)
    if a.bgnbd_params is not None:
        if a.lines is not None or a.campaigns:
            ap.error("--lines and --campaigns do not apply with --bgnbd-params")
        s = generate_bg_nbd(
            a.out,
            customers=a.customers,
            bgnbd_params=a.bgnbd_params,
            gamma_gamma_params=a.gamma_gamma_params,
            model=a.bgnbd_model,
            start_year=a.start_year,
            years=a.years,
            end_date=a.end_date,
            cohort_weeks=a.cohort_weeks,
            seed=a.seed,
            verbose=not a.quiet,
        )
        if a.json:
            print(json.dumps(s, indent=2))
        return 0
    if a.gamma_gamma_params is not None:
        ap.error("--gamma-gamma-params needs --bgnbd-params")
    s = generate(
        a.out,
        customers=a.customers,
        start_year=a.start_year,
        years=a.years,
        lines=a.lines,
        seed=a.seed,
        bad_share=a.bad_share,
        clean=a.clean,
        end_date=a.end_date,
        verbose=not a.quiet,
        block_customers=a.block_customers,
        campaigns=a.campaigns,
    )
    if a.json:
        print(json.dumps(s, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
