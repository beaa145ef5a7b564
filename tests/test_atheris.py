"""The coverage-guided fuzz targets (tests/atheris_targets.py) with a short budget each.

Each target runs in its own process under libFuzzer with a per-input time limit and a memory
limit, seeded from the real and native files in tests/data; a crash, hang or memory blow-up
fails the test with libFuzzer's report. The seed is fixed (``-seed=1``) so CI runs the same
inputs every time; long runs with fresh seeds: ``bash scripts/fuzz.sh``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is not installed (Linux x86_64 wheels only)")

HERE = Path(__file__).parent
DATA = HERE / "data"
RUNS = int(os.environ.get("TRACEBENCH_ATHERIS_RUNS", "400"))


def _seed_corpus(target: str, folder: Path) -> Path:
    folder.mkdir()
    if target == "loader":
        files = [p for p in sorted(DATA.rglob("*")) if p.is_file() and
                 p.suffix in (".json", ".jsonl") and p.stat().st_size < 200_000]
        for n, path in enumerate(files):
            # The first byte picks the file name the harness writes the rest under (see
            # _NAMES there): keep each seed under a name of its own kind.
            name = 1 if path.name.endswith(".traj.json") else 0 if path.suffix == ".jsonl" \
                else 2 if path.name == "trajectory.json" else 4
            (folder / f"seed{n}").write_bytes(bytes([name]) + path.read_bytes())
    elif target == "config":
        shutil.copy(HERE.parent / "pyproject.toml", folder / "pyproject")
    elif target == "parsers":
        (folder / "pytest").write_bytes(b"\x40" + b"== 1 failed, 2 passed in 0.1s ==\n"
                                        b"FAILED tests/test_a.py::test_x - assert 0\n")
        (folder / "diff").write_bytes(b"\x30" + b"@@ -1 +1 @@\n-a\n+b\n" + b"a\n")
    else:
        (folder / "argv").write_bytes(b"\x04--json\x00out.json\x00")
    return folder


@pytest.mark.parametrize("target", ["loader", "parsers", "config", "cli"])
def test_fuzz_target_runs_without_a_crash(target: str, tmp_path: Path) -> None:
    corpus = _seed_corpus(target, tmp_path / "corpus")
    result = subprocess.run(
        [sys.executable, str(HERE / "atheris_targets.py"), target, str(corpus),
         f"-runs={RUNS}", "-seed=1", "-timeout=20", "-rss_limit_mb=3072", "-max_len=300000",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = result.stderr[-4000:]
    assert result.returncode == 0, report
    assert "Done" in result.stderr and not list(tmp_path.glob("crash-*")), report


# Inputs that crashed a target once, replayed by the target itself every run.
CRASHES = {
    "cli": [bytes.fromhex("01002541")],  # validate "\x00%A": NUL byte in an argument
}


@pytest.mark.parametrize("target,data", [(t, d) for t, ds in CRASHES.items() for d in ds])
def test_former_crashes_stay_fixed(target: str, data: bytes, tmp_path: Path) -> None:
    crash = tmp_path / "input"
    crash.write_bytes(data)
    result = subprocess.run([sys.executable, str(HERE / "atheris_targets.py"), target,
                             str(crash)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Executed" in result.stderr
