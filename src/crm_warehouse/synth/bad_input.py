"""The bad input the generator injects unless --clean: its classes (the order is the code used
internally: code = index + 1) and the spoiled values each class writes."""

from __future__ import annotations

TX_BAD_CLASSES = [
    "missing_invoice_id",  # invoice_id empty
    "missing_customer_id",  # customer_id empty
    "unparsable_customer_id",  # 'C 123#', 'C#0000123', 'C000 0123'
    "missing_product_id",  # product_id empty
    "invalid_invoice_date",  # 'YYYY-13-45', 'not a date', 'DD/MM/YYYY', empty
    "impossible_invoice_date",  # 'YYYY-02-30', 'YYYY-04-31', ...
    "non_numeric_quantity",  # 'two', '1,5', '3 pcs'
    "non_numeric_revenue",  # 'N/A', '12.3.4', '1.234,50'
    "orphan_customer_id",  # well-formed id not in customers_master (C9999xxx)
    "orphan_product_id",  # well-formed id not in products_master (P9xxx)
    "exact_duplicate",  # identical copy of a good line (adjacent or not)
]
(
    TXB_MISSING_INV,
    TXB_MISSING_CUST,
    TXB_BAD_CUST,
    TXB_MISSING_PROD,
    TXB_BAD_DATE,
    TXB_IMPOSSIBLE_DATE,
    TXB_BAD_QTY,
    TXB_BAD_REV,
    TXB_ORPHAN_CUST,
    TXB_ORPHAN_PROD,
    TXB_DUP,
) = range(1, 12)
TX_REF_UNKNOWN_CATEGORY = 20  # a valid line whose product has an unknown category in products_master
TX_REF_BAD_UNIT_SIZE = 21  # a valid line whose product is a consumable with a bad unit_size

CUSTOMER_BAD_CLASSES = [
    "missing_customer_id",  # extra row, customer_id empty
    "duplicate_customer_id",  # extra row later in the file, same id as an existing row, other name
    "invalid_consent_flag",  # one opt_* of an existing row is '2', 'yes' or '-1'
    "invalid_created_date",  # created_date of an existing row is 'not a date', 'YYYY-02-30', ...
]
PRODUCT_BAD_CLASSES = [
    "missing_product_id",  # extra row, product_id empty
    "duplicate_product_id",  # extra row later in the file, same id as an existing product, other name
    "unknown_category",  # extra product (own id) with category 'gadgets', 'toys' or 'misc'
    "invalid_core_unit_size",  # extra consumable product (own id) with unit_size empty, '0' or '-50'
]

BAD_INVALID_DATES = ["YYYY-13-45", "not a date", "DD/MM/YYYY", ""]
BAD_IMPOSSIBLE_DATES = ["-02-30", "-04-31", "-06-31", "-09-31", "-11-31"]
BAD_QUANTITIES = ["two", "1,5", "3 pcs"]
BAD_REVENUES = ["N/A", "12.3.4", "1.234,50"]
BAD_CONSENTS = ["2", "yes", "-1"]
BAD_CREATED = ["not a date", "{y}-02-30", "31/12/{y0}", "{y}-13-01"]
BAD_CATEGORIES = ["gadgets", "toys", "misc"]
BAD_UNIT_SIZES = [None, "0", "-50"]
