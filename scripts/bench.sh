#!/usr/bin/env bash
# `make bench`: jindu at province scale on a throwaway PostgreSQL server (bench/run.py).
# BENCH_PERSONS (default 100000) sets the size; the table is printed and written to
# bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bench.run "$@"
