#!/usr/bin/env bash
# Full performance run (minutes): every benchmark with its floor, then docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'; }
mkdir -p .tracebench
TRACEBENCH_PERF_FULL=1 .venv/bin/python -m pytest benchmarks/perf --benchmark-only -p no:randomly \
    --benchmark-json=.tracebench/perf.json "$@"
.venv/bin/python benchmarks/perf/perf_report.py .tracebench/perf.json docs/performance.md
