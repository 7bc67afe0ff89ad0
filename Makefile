# Thin wrappers around scripts/tasks.py (which also runs on Windows without make).
PYTHON ?= $(shell command -v python3.11 || command -v python3)

.PHONY: build test test-spark test-orchestration orchestrate lint docs freshness refresh app bench bench-app setup clean

build: ## create .venv if needed and build the warehouse (CRM_RAW_DIR, CRM_DUCKDB_PATH)
	$(PYTHON) scripts/tasks.py build $(ARGS)

test: ## ruff + sqlfluff, the whole dbt build with its tests, and pytest
	$(PYTHON) scripts/tasks.py test $(ARGS)

test-spark: ## build the demo on a local Apache Spark (.venv-spark, Java 17) and compare every mart with DuckDB
	$(PYTHON) scripts/tasks.py test-spark $(ARGS)

orchestrate: ## Dagster UI + daemon on http://127.0.0.1:3000 (.venv-orchestration): assets, landing-folder sensor, schedule
	$(PYTHON) scripts/tasks.py orchestrate $(ARGS)

test-orchestration: ## the Dagster tests (orchestration/tests) in .venv-orchestration
	$(PYTHON) scripts/tasks.py test-orchestration $(ARGS)

lint: ## ruff (Python, settings in pyproject.toml) + sqlfluff (SQL)
	$(PYTHON) scripts/tasks.py lint

docs:
	$(PYTHON) scripts/tasks.py docs

freshness: ## is the raw landing folder up to date? (latest invoice < 45 days warn, < 75 days error)
	$(PYTHON) scripts/tasks.py freshness

refresh: ## for a scheduler: freshness gate, build + publish, log in warehouse/logs/, exit code and one line
	$(PYTHON) scripts/tasks.py refresh $(ARGS)

app: ## self-service Streamlit app on the serving file (http://localhost:8501)
	$(PYTHON) scripts/tasks.py app

SIZE ?= 1M
bench: ## benchmark: make bench SIZE=1M (or 10M, 100M, a list 1M,10M)
	$(PYTHON) scripts/tasks.py bench $(SIZE)

SERVING ?=
bench-app: ## first visit of every app page in Chromium: make bench-app SERVING=/path/crm_serving.duckdb (default CRM_SERVING_PATH)
	$(PYTHON) scripts/tasks.py bench-app $(if $(SERVING),--serving "$(SERVING)") $(ARGS)

setup:
	$(PYTHON) scripts/tasks.py setup

clean:
	rm -rf target logs warehouse
