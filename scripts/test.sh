#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), the tests on 2 processes, and a smoke run of
# the performance benchmarks (each benchmark body once, no timing).
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
# The browser tests drive Debian's Chromium. As root (CI), install it when missing and fail if
# that fails; otherwise those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || {
      apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    command -v chromium >/dev/null || { echo "setup: could not install chromium" >&2; exit 1; }
  else
    echo "setup: chromium not found and not root: browser tests will be skipped" >&2
  fi
fi
# The sandbox tests run bubblewrap for real (Debian's bubblewrap); install it the same way.
if ! command -v bwrap >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "setup: installing Debian's bubblewrap for the sandbox tests" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null 2>&1 || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; }
fi
# Harbor's ATIF models check the ATIF that `convert --to atif` writes. The package needs
# Python 3.12 and a server stack for its other parts; its models need only pydantic, so it is
# installed without its dependencies (pinned: the schema is what is tested).
if ! .venv/bin/python -c 'import harbor.models.trajectories' >/dev/null 2>&1; then
  echo "setup: installing Harbor's trajectory models for the ATIF tests" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --ignore-requires-python harbor==0.26.0 >/dev/null 2>&1 \
    || echo "setup: could not install harbor; the Harbor validation test will skip" >&2
fi
echo "== ruff" >&2
.venv/bin/ruff check .
echo "== mypy" >&2
.venv/bin/mypy
echo "== perf benchmarks (smoke: run once each)" >&2
.venv/bin/python -m pytest benchmarks/perf -q -p no:cacheprovider --benchmark-disable
echo "== tests" >&2
.venv/bin/python -m pytest tests -n 2 -p no:cacheprovider "$@"
