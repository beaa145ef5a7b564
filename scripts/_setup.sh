# Shared setup for the scripts: a project-local virtualenv with the package installed in
# editable mode. scripts/test.sh (and calibrate.sh) use .venv with the test extras (ruff, mypy,
# browsers, fuzzers, Ray); scripts/bench.sh sets TRACEBENCH_VENV=.venv-bench and
# TRACEBENCH_EXTRAS= before sourcing this, so the main job installs the package and its own
# dependencies only (pytest, pluggy, pydantic), not the ~700 MB the tests need.
# Re-installs only when pyproject.toml, setup.py or the native recorder's C source changed
# since the last install (an editable install builds the extension once; a stale one would
# run old code), so repeated runs start quickly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
venv="${TRACEBENCH_VENV:-.venv}"
extras="${TRACEBENCH_EXTRAS-[test]}"
if [[ ! -x $venv/bin/python ]]; then
  echo "setup: creating $venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv "$venv"
fi
stamp=$venv/.tracebench-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || setup.py -nt $stamp
      || pytest_tracebench/record/_steplog.c -nt $stamp ]]; then
  echo "setup: installing pytest-tracebench${extras:+ with $extras} into $venv" >&2
  "$venv"/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  log=$venv/.tracebench-install.log
  if ! "$venv"/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extras" \
      >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed (its output is above and in $log)" >&2
    exit 1
  fi
  "$venv"/bin/python -c 'import pytest_tracebench'
  if [[ -n $extras ]]; then
    "$venv"/bin/python -c 'import xdist, pytest_html'
  fi
  "$venv"/bin/python -c 'from pytest_tracebench.record._stepwriter import native_available as n
import sys; sys.exit(0 if n() else 1)' || echo "setup: the native step writer was not built" \
      "(no C compiler?); recording runs in pure Python, slower (see $log)" >&2
  touch "$stamp"
fi
