"""Python shared by the CRM warehouse's scripts/, app/, tests/ and dbt Python models.

Installed editable into .venv by `make setup` / `make build` (scripts/tasks.py setup), so
`import crm_warehouse` works from every folder without sys.path edits:

- constants        tier order, KPI measures, month arithmetic (display order only: the rules live in SQL)
- paths            repository root, the .venv tools
- publish          the serving DuckDB file + Parquet hand-off (CLI: scripts/publish.py)
- campaign_list    campaign lists from the serving file (CLI: scripts/campaign_list.py; the app)
- campaign_record  reproducible holdout draw and campaign record files
- safe_export      spreadsheet-safe CSV / .xlsx writing
- customer_value   BG/NBD, MBG/NBD, Gamma-Gamma math of the dbt Python models
- reference_snapshot  the independent pandas implementation the end-to-end tests and benchmark use
"""
