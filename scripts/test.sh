#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), the tests on 2 processes, and a smoke run of
# the performance benchmarks (each benchmark body once, no timing).
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
echo "== ruff" >&2
.venv/bin/ruff check .
echo "== mypy" >&2
.venv/bin/mypy
echo "== perf benchmarks (smoke: run once each)" >&2
.venv/bin/python -m pytest benchmarks/perf -q -p no:cacheprovider --benchmark-disable
echo "== tests" >&2
.venv/bin/python -m pytest tests -n 2 -p no:cacheprovider "$@"
