"""The raw landing files' names and columns (SPEC section 1)."""

from __future__ import annotations

TX_COLUMNS = ["invoice_id", "customer_id", "invoice_date", "product_id", "quantity", "revenue", "store_id"]
CUSTOMER_COLUMNS = [
    "customer_id",
    "customer_name",
    "customer_group",
    "city",
    "created_date",
    "email",
    "mobile_number",
    "opt_email",
    "opt_sms",
    "opt_phone",
]
PRODUCT_COLUMNS = ["product_id", "product_name", "brand", "category", "unit_size"]
CUSTOMERS_FILE = "customers_master.csv"
PRODUCTS_FILE = "products_master.csv"
