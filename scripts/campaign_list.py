#!/usr/bin/env python3
"""Campaign lists as CSV or Excel: the CLI of crm_warehouse.campaign_list (see its --help).

.venv/bin/python scripts/campaign_list.py --out list.csv [filters] [--campaign-name NAME ...]
"""

import sys

from crm_warehouse.campaign_list import main

if __name__ == "__main__":
    sys.exit(main())
