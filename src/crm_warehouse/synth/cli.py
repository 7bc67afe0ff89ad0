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
    parser = argparse.ArgumentParser(
        description=synth.__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="output folder (created; existing generated files replaced)")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--start-year", type=int, default=2023)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument(
        "--lines",
        type=int,
        default=None,
        help="target number of transaction lines (default customers * 20; reached within ~+-10%% as long as "
        "it is at least ~10 lines per customer for 3 years of data, what the steady personas alone make)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--bad-share",
        type=float,
        default=0.01,
        help="share of bad rows per file, split evenly over the bad classes (min 2 each)",
    )
    parser.add_argument("--clean", action="store_true", help="no bad input at all")
    parser.add_argument(
        "--end-date",
        default=None,
        help="last invoice date YYYY-MM-DD (default Dec 31 of the last year); when given, the years "
        "written are --start-year .. the year of --end-date",
    )
    parser.add_argument(
        "--block-customers",
        type=int,
        default=None,
        help="customers per processing block (memory tuning; default ~1M lines per block)",
    )
    parser.add_argument(
        "--campaigns",
        action="store_true",
        help="record the demo campaigns (campaigns/ folder) and append their simulated responses",
    )
    parser.add_argument(
        "--one-time-share",
        type=float,
        default=0.0,
        help="share of the identified customers who buy once (a second time within a year for ~35%%), "
        "retail-like; the persona shares apply to the rest (default 0: none)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print the full summary as JSON on stdout")
    bgnbd = parser.add_argument_group(
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
    args = parser.parse_args(argv)
    if args.bgnbd_params is not None:
        if args.lines is not None or args.campaigns or args.one_time_share:
            parser.error("--lines, --campaigns and --one-time-share do not apply with --bgnbd-params")
        result = generate_bg_nbd(
            args.out,
            customers=args.customers,
            bgnbd_params=args.bgnbd_params,
            gamma_gamma_params=args.gamma_gamma_params,
            model=args.bgnbd_model,
            start_year=args.start_year,
            years=args.years,
            end_date=args.end_date,
            cohort_weeks=args.cohort_weeks,
            seed=args.seed,
            verbose=not args.quiet,
        )
        if args.json:
            print(json.dumps(result, indent=2))
        return 0
    if args.gamma_gamma_params is not None:
        parser.error("--gamma-gamma-params needs --bgnbd-params")
    result = generate(
        args.out,
        customers=args.customers,
        start_year=args.start_year,
        years=args.years,
        lines=args.lines,
        seed=args.seed,
        bad_share=args.bad_share,
        clean=args.clean,
        end_date=args.end_date,
        verbose=not args.quiet,
        block_customers=args.block_customers,
        campaigns=args.campaigns,
        one_time_share=args.one_time_share,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
