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
- project_settings the dbt project's vars and seeds that Python reads too (one home: dbt_project.yml, seeds/)
- serving_file     the serving file: its path, one read-only query, its report months
- synth            the synthetic raw landing data generator (CLI: scripts/generate_data.py)

The test oracle (an independent pandas snapshot) is test code: tests/support/reference_snapshot.py.
"""
