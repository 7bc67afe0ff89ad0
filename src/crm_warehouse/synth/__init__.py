"""Synthetic raw landing data for the CRM warehouse (SPEC section 1).

Writes into ``--out``:

* ``sales_transactions_YYYY.csv`` (one per calendar year):
  ``invoice_id,customer_id,invoice_date,product_id,quantity,revenue,store_id``
* ``customers_master.csv``:
  ``customer_id,customer_name,customer_group,city,created_date,email,mobile_number,opt_email,opt_sms,opt_phone``
* ``products_master.csv``: ``product_id,product_name,brand,category,unit_size``
* ``campaigns/campaign_<id>.csv`` (with ``--campaigns``, as for the demo data): a few recorded campaigns with a
  holdout (SPEC section 11); contacted members get a known extra purchase probability, their
  response lines are appended at the end of the year files (see ``campaigns.simulate_campaigns``).

Every customer gets a *persona* drawn with fixed shares (steady Diamond / Platinum / Gold / Silver /
Bronze buyers on exact schedules, lapsing customers, returners after 13+ silent months, late
newcomers, casual buyers, device-only and accessories-only buyers, customers who never buy, and
anonymous walk-in accounts of the group ``General`` written in mixed case), so that every value
tier, the Not Active status and every lifecycle event of SPEC section 5 occur in the latest month
and in most months of the history. ``--lines`` scales the purchase frequency of the casual buyers
and the walk-in accounts (the tier personas keep their schedules, so their tiers stay stable).

Unless ``--clean``, a small share of bad input is injected (each row has exactly one defect and
is counted in the returned summary), see ``bad_input``: ``TX_BAD_CLASSES``, ``CUSTOMER_BAD_CLASSES`` and
``PRODUCT_BAD_CLASSES``. Bad transaction rows are *extra* rows (copies of good lines with one
field spoiled and an invoice id of their own), so the good data stay complete.

Fast and bounded in memory: everything is vectorised with numpy, customers are processed in
blocks, and DuckDB formats and writes the CSV text (one part per block and year, concatenated at
the end). Deterministic: the same arguments give byte-identical files.

With ``--bgnbd-params r,alpha,a,b`` (and optionally ``--gamma-gamma-params p,q,gamma``) the files hold
customers of the BG/NBD generative process with known parameters instead (``generate_bg_nbd``), for
the recovery test of the customer value models (SPEC section 9).

Modules, one concern each (the command line is scripts/generate_data.py, which calls ``cli.main``):

* ``landing_files``: ``generate()``, the whole run: blocks of customers, bad rows, the final files
* ``file_layouts``: file names and columns; ``bad_input``: the bad-row classes and spoiled values;
  ``bad_rows``: which customers and lines get a bad row, and the spoiled transaction rows
* ``personas``: personas, their shares and buying behaviour; ``name_lists``: names, cities, brands
* ``report_calendar``: the generated months and years; ``basics``: day numbers, random streams, logging
* ``products``: the catalogue; ``customer_parameters``: personas and purchase rates per customer
* ``transactions``: the lines of one block of customers; ``customer_rows``: its customers_master rows
* ``csv_writing``: DuckDB formats and writes the CSV parts; ``campaigns``: the demo campaigns
* ``bg_nbd``: customers of the BG/NBD process; ``cli``: the command line

The output bytes depend only on the arguments (tests/test_generate_data.py compares the digests of
a few option sets with tests/fixtures/generator_digests.json, and the demo with data/demo).

Usage::

    python scripts/generate_data.py --out data/demo --customers 3000 --start-year 2023 --years 3 --seed 42 --campaigns
    python scripts/generate_data.py --out /tmp/raw_bgnbd --customers 100000 --years 2 \
        --bgnbd-params 0.5,8,0.7,2.5 --gamma-gamma-params 6,4,15
"""

from crm_warehouse.synth.bad_input import CUSTOMER_BAD_CLASSES, PRODUCT_BAD_CLASSES, TX_BAD_CLASSES
from crm_warehouse.synth.bg_nbd import generate_bg_nbd
from crm_warehouse.synth.file_layouts import (
    CUSTOMER_COLUMNS,
    CUSTOMERS_FILE,
    PRODUCT_COLUMNS,
    PRODUCTS_FILE,
    TX_COLUMNS,
)
from crm_warehouse.synth.landing_files import generate

__all__ = [
    "CUSTOMERS_FILE",
    "CUSTOMER_BAD_CLASSES",
    "CUSTOMER_COLUMNS",
    "PRODUCTS_FILE",
    "PRODUCT_BAD_CLASSES",
    "PRODUCT_COLUMNS",
    "TX_BAD_CLASSES",
    "TX_COLUMNS",
    "generate",
    "generate_bg_nbd",
]
