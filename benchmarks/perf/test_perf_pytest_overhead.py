"""What ``--tracebench`` costs a real pytest session: 1,000 tests that each record 20 steps,
run in a subprocess with and without the plugin enabled (the floor).

Without ``--tracebench`` the ``trace`` fixture records in memory only, so the difference is
writing, analysing and reporting the traces. Target (issue 9): at most 1.15x.
"""

from __future__ import annotations

import os
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


def _run(folder: Path, *extra: str) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-W", "ignore", str(folder), *extra],
        cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"{TESTS} passed" in proc.stdout, proc.stdout[-2000:]


def test_floor_pytest_without_tracebench(ratio_benchmark: Any, suite: Path) -> None:
    ratio_benchmark.pedantic(lambda: _run(suite), rounds=3, iterations=1)


def test_pytest_with_tracebench(ratio_benchmark: Any, suite: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_pytest_without_tracebench"
    out = suite / ".tb"

    def run() -> None:
        _run(suite, "--tracebench", f"--tracebench-dir={out}")
        assert len(list((out / "traces").glob("*.jsonl"))) == TESTS

    ratio_benchmark.pedantic(run, rounds=3, iterations=1)
