# Shared setup for scripts/bench.sh and scripts/test.sh: a project-local virtualenv with the
# package installed in editable mode plus its test extras. Re-installs only when pyproject.toml,
# setup.py or the native recorder's C source changed since the last install (an editable
# install builds the extension once; a stale one would test old code), so repeated runs start
# quickly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.tracebench-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || setup.py -nt $stamp
      || pytest_tracebench/_steplog.c -nt $stamp ]]; then
  echo "setup: installing pytest-tracebench and its test tools into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
    | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import pytest_tracebench, xdist, pytest_html' 
  touch "$stamp"
fi
