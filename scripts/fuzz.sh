#!/usr/bin/env bash
# Long fuzzing runs (the test suite runs the same targets with short budgets).
#   bash scripts/fuzz.sh [SECONDS_PER_ATHERIS_TARGET] [HYPOTHESIS_EXAMPLES]
# Crashes are saved under .tracebench/fuzz/<target>/crash-*; the corpora grow there too.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'; }
seconds=${1:-600}
examples=${2:-3000}
TRACEBENCH_FUZZ_EXAMPLES=$examples .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/test_fuzz_parsers.py tests/test_fuzz_importers.py tests/test_fuzz_names.py \
    tests/test_native_writer.py
for target in loader parsers config cli; do
  out=.tracebench/fuzz/$target
  mkdir -p "$out/corpus"
  .venv/bin/python - "$target" "$out/corpus" <<'PY'
import sys
sys.path.insert(0, "tests")
from pathlib import Path
import shutil, tempfile
from test_atheris import _seed_corpus
tmp = Path(tempfile.mkdtemp()) / "seeds"
_seed_corpus(sys.argv[1], tmp)
for f in tmp.iterdir():
    shutil.copy(f, Path(sys.argv[2]) / f.name)
PY
  echo "== atheris $target: ${seconds}s" >&2
  (cd "$out" && ../../../.venv/bin/python ../../../tests/atheris_targets.py "$target" corpus \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -max_len=300000 \
      -print_final_stats=1 -artifact_prefix="$PWD/" 2>&1 | grep -E "DONE|^stat::number_of_executed_units|crash-|ERROR|Error" || true)
done
