#!/usr/bin/env python3
"""Publish the marts for BI again without rebuilding: the CLI of crm_warehouse.publish.

.venv/bin/python scripts/publish.py [--build-db PATH] [--serving-db PATH] [--parquet-dir DIR]
"""

import sys

from crm_warehouse.publish import main

if __name__ == "__main__":
    sys.exit(main())
