#!/usr/bin/env bash
# Times the customer value step (the ten *customer_value* nodes, `dbt run --full-refresh`) on a
# warehouse already built from CRM_RAW_DIR (issue 23, docs/performance.md). One line per run:
#   scripts/bench_customer_value_step.sh PROJECT_DIR WAREHOUSE_DIR LABEL
# PROJECT_DIR: a checkout with .venv (e.g. a `git worktree` of the commit to compare); WAREHOUSE_DIR:
# the folder of crm.duckdb (its own target/ and logs/ go there, so two checkouts never share dbt's
# partial-parse state). Prints: process CPU (dbt parse included), sum of the nodes' seconds, the
# model fits node, wall seconds.
set -euo pipefail
project="$1" warehouse="$2" label="$3"
cd "$project"
export CRM_DUCKDB_PATH="$warehouse/crm.duckdb" CRM_DUCKDB_THREADS="${CRM_DUCKDB_THREADS:-2}"
nodes="int_customer_value__inputs int_customer_value__frequency_groups int_customer_value__model_fits
fct_customer_value_model_fits int_customer_value__holdout_predictions kpi_customer_value_validation
int_customer_value__scores fct_customer_value kpi_customer_value_by_segment kpi_customer_value_by_tier"
start=$(date +%s.%N)
# shellcheck disable=SC2086
/usr/bin/time -f "%U %S" -o "$warehouse/cpu.txt" env PYTHONPATH="$project/src" .venv/bin/dbt run --full-refresh \
    -s $nodes --vars '{crm_publish: false}' --target-path "$warehouse/target" --log-path "$warehouse/logs" \
    > "$warehouse/customer_value_step.log" 2>&1
end=$(date +%s.%N)
PYTHONPATH="$project/src" .venv/bin/python - "$warehouse" "$label" "$start" "$end" <<'PY'
import json, sys
warehouse, label, start, end = sys.argv[1:]
results = json.load(open(f"{warehouse}/target/run_results.json"))["results"]
seconds = {result["unique_id"].split(".")[-1]: result["execution_time"] for result in results}
cpu = sum(float(value) for value in open(f"{warehouse}/cpu.txt").read().split()[-2:])
print(
    f"{label:8s} cpu {cpu:6.1f} s  customer value nodes {sum(seconds.values()):6.1f} s  "
    f"model_fits {seconds['int_customer_value__model_fits']:5.1f} s  wall {float(end) - float(start):5.1f} s"
)
PY
