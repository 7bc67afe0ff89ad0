#!/usr/bin/env python3
"""Synthetic raw landing data for the CRM warehouse (SPEC section 1): the command line of the
generator package src/crm_warehouse/synth/ (its docstring describes the files and the personas).

Usage::

    python scripts/generate_data.py --out data/demo --customers 3000 --start-year 2023 --years 3 --seed 42 --campaigns
    python scripts/generate_data.py --out /tmp/raw_bgnbd --customers 100000 --years 2 \
        --bgnbd-params 0.5,8,0.7,2.5 --gamma-gamma-params 6,4,15

    python scripts/generate_data.py --help    every option
"""

from __future__ import annotations

import sys

from crm_warehouse.synth import *  # noqa: F403  (generate, generate_bg_nbd and the file layouts, for older callers)
from crm_warehouse.synth.cli import main

if __name__ == "__main__":
    sys.exit(main())
