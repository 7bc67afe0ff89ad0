"""scripts/benchmark.py's parts: runner (Bench: the phases measured in child processes), phases (what
the child processes run), report (summaries, Markdown, JSON). The floor query is scripts/sql/benchmark_floor.sql."""
