"""What the plugin costs a real pytest session, each run in a subprocess against a floor
measured in the same run.

Enabled (issue 9, 17): 1,000 tests that each record 20 steps, with ``--tracebench`` against the
same suite without it (the ``trace`` fixture then records in memory only), once with the
analysis deferred to the session's end (nothing needs a score while tests run) and once per
test (``--tracebench-min-score=0``, a per-test gate). Target: at most 1.15x.

Installed but off (issue 17): 200 trivial tests, against ``-p no:tracebench``. Target: at most
1.02x, and importing the plugin (after pytest) at most 30 ms.

The machine these run on is shared: besides wall time (what the ratios use) each benchmark
records its subprocesses' CPU time (``cpu_s``, user + system), which other load disturbs less.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = 1_000
STEPS = 20

SUITE = f'''
import pytest

@pytest.mark.parametrize("n", range({TESTS}))
def test_task(trace, n):
    for i in range({STEPS} // 4):
        trace.read(f"src/mod_{{n}}.py", content="def f(x):\\n    return x + 1\\n")
        trace.edit(f"src/mod_{{n}}.py", old="x + 1", new="x + 2")
        trace.command("pytest -q", exit_code=i % 2, stdout="1 failed, 9 passed" if i % 2
                      else "10 passed")
        trace.message("Fixed it." if i % 2 == 0 else "One test still fails.")
'''


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("suite")
    (folder / "test_suite.py").write_text(SUITE)
    (folder / "pytest.ini").write_text("[pytest]\n")
    return folder


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(folder: Path, *extra: str, tests: int = TESTS) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-W", "ignore", str(folder), *extra],
        cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"{tests} passed" in proc.stdout, proc.stdout[-2000:]


def _timed(benchmark: Any, run: Any, rounds: int = 3) -> None:
    """``benchmark.pedantic`` with the rounds' median CPU time in ``extra_info["cpu_s"]``."""
    cpu: list[float] = []

    def measured() -> None:
        start = _cpu()
        run()
        cpu.append(_cpu() - start)

    benchmark.pedantic(measured, rounds=rounds, iterations=1)
    benchmark.extra_info["cpu_s"] = round(statistics.median(cpu), 3)


def test_floor_pytest_without_tracebench(ratio_benchmark: Any, suite: Path) -> None:
    _timed(ratio_benchmark, lambda: _run(suite))


def test_pytest_with_tracebench(ratio_benchmark: Any, suite: Path) -> None:
    """Analysis deferred to the session's end: no per-test gate, column or JUnit property."""
    ratio_benchmark.extra_info["floor"] = "test_floor_pytest_without_tracebench"
    out = suite / ".tb"

    def run() -> None:
        _run(suite, "--tracebench", f"--tracebench-dir={out}")
        assert len(list((out / "traces").glob("*.jsonl"))) == TESTS

    _timed(ratio_benchmark, run)


def test_pytest_with_tracebench_per_test(ratio_benchmark: Any, suite: Path) -> None:
    """Each test analysed as it ends: a per-test gate (``--tracebench-min-score``) asks."""
    ratio_benchmark.extra_info["floor"] = "test_floor_pytest_without_tracebench"
    out = suite / ".tb-per-test"

    def run() -> None:
        _run(suite, "--tracebench", f"--tracebench-dir={out}", "--tracebench-min-score=0")
        assert len(list((out / "traces").glob("*.jsonl"))) == TESTS

    _timed(ratio_benchmark, run)


TRIVIAL = 200


@pytest.fixture(scope="module")
def trivial_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trivial")
    (folder / "test_trivial.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.parametrize('n', range({TRIVIAL}))\n"
        "def test_trivial(n):\n    assert n + 1 > n\n")
    (folder / "pytest.ini").write_text("[pytest]\n")
    return folder


def test_floor_pytest_plugin_disabled(ratio_benchmark: Any, trivial_suite: Path) -> None:
    _timed(ratio_benchmark, lambda: _run(trivial_suite, "-p", "no:tracebench",
                                          tests=TRIVIAL), rounds=5)


def test_pytest_plugin_installed_off(ratio_benchmark: Any, trivial_suite: Path) -> None:
    """The plugin loaded, ``--tracebench`` not given: it must leave nothing behind."""
    ratio_benchmark.extra_info["floor"] = "test_floor_pytest_plugin_disabled"
    _timed(ratio_benchmark, lambda: _run(trivial_suite, tests=TRIVIAL), rounds=5)
    assert [p for p in trivial_suite.rglob("*") if "tracebench" in p.name] == []


_IMPORT = ("import time, pytest; t = time.perf_counter(); c = time.process_time(); "
           "import pytest_tracebench.plugin; "
           "print((time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3)")


def test_plugin_import_when_off(ratio_benchmark: Any) -> None:
    """Importing the plugin module after pytest, in a fresh interpreter each round (what
    pytest does in every session); the time is measured inside the child, so interpreter
    start-up is not in it. Target: at most 30 ms."""
    wall: list[float] = []
    cpu: list[float] = []

    def run() -> None:
        out = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True,
                             check=True).stdout.split()
        wall.append(float(out[0]))
        cpu.append(float(out[1]))

    ratio_benchmark.pedantic(run, rounds=7, iterations=1)
    ratio_benchmark.extra_info["import_ms"] = round(statistics.median(wall), 1)
    ratio_benchmark.extra_info["import_cpu_ms"] = round(statistics.median(cpu), 1)
    ratio_benchmark.extra_info["import_ms_range"] = f"{min(wall):.1f}-{max(wall):.1f}"
