"""Huge input: a 100 MB line and multi-GB trace files get one clear line, in bounded memory.

Real files, real subprocesses; memory is the child's peak RSS (VmHWM, Linux) above its RSS
once imports are done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="reads peak memory from /proc (Linux)")

_PROBE = r"""
import json, sys
from pytest_tracebench._analyze import analyze_paths
from pytest_tracebench.config import Settings
from pytest_tracebench.importers import get_importers
from pytest_tracebench.pipeline import Pipeline
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
Pipeline.from_settings(Settings()); get_importers()
base = status("VmRSS")
errors = []
results = analyze_paths(sys.argv[1:], Settings(), errors=errors)
print(json.dumps({"growth_mb": (status("VmHWM") - base) / 1024, "errors": errors,
                  "results": len(results)}))
"""


def probe(*paths: Path, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, *map(str, paths)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"stderr": out.stderr}


def _recorded(path: Path) -> Path:
    rec = TraceRecorder(path, task="t", agent="a")
    rec.command("ls", exit_code=0, stdout="x")
    rec.end()
    return path


def test_a_100_mb_line_is_refused_with_file_and_line_in_bounded_memory(tmp_path: Path) -> None:
    path = _recorded(tmp_path / "huge.jsonl")
    lines = path.read_text().splitlines()
    big = json.loads(lines[1])
    big["output"]["stdout"] = "A" * 100_000_000  # a writer that did not truncate
    with path.open("w") as fh:
        fh.write(lines[0] + "\n" + json.dumps(big) + "\n" + lines[2] + "\n")
    assert path.stat().st_size > 100_000_000
    result = probe(path)
    assert result["results"] == 0
    assert result["errors"] == [f"{path}:2: line longer than 32 MiB; a trace line holds one "
                                "step (long outputs are truncated when recorded); raise "
                                "TRACEBENCH_MAX_LINE_MB to read it"]
    # Bounded by the limit (reading 32 MiB costs up to twice that while the buffer grows), not
    # by the 100 MB line; a smaller limit gives a smaller bound.
    assert result["growth_mb"] < 2.5 * 32
    smaller = probe(path, env={"TRACEBENCH_MAX_LINE_MB": "4"})
    assert "line longer than 4 MiB" in smaller["errors"][0]
    assert smaller["growth_mb"] < 2.5 * 4 + 5


def test_the_line_limit_is_configurable(tmp_path: Path) -> None:
    path = _recorded(tmp_path / "ok.jsonl")
    lines = path.read_text().splitlines()
    big = json.loads(lines[1])
    big["output"]["stdout"] = "B" * 3_000_000
    path.write_text(lines[0] + "\n" + json.dumps(big) + "\n" + lines[2] + "\n")
    assert probe(path)["results"] == 1
    refused = probe(path, env={"TRACEBENCH_MAX_LINE_MB": "2"})
    assert refused["errors"] and "line longer than 2 MiB" in refused["errors"][0]


@pytest.mark.parametrize("name", ["big.jsonl", "big.traj.json", "big.json"])
def test_a_multi_gb_trace_is_refused_before_reading(tmp_path: Path, name: str) -> None:
    path = _recorded(tmp_path / name) if name.endswith(".jsonl") else tmp_path / name
    if not name.endswith(".jsonl"):
        path.write_text('{"trajectory": [')
    with path.open("r+b") as fh:  # sparse: 3 GiB on paper, no disk used
        fh.truncate(3 << 30)
    result = probe(path)
    assert result["results"] == 0
    first = result["errors"][0]
    assert first == (f"{path}: 3,221 MB is over the 512 MiB limit for loading a whole trace "
                     "(analysis needs about ten times that in memory); raise "
                     "TRACEBENCH_MAX_TRACE_MB, or stream it with `tracebench replay`")
    assert result["growth_mb"] < 20


def test_other_files_still_load_after_a_refused_one(tmp_path: Path) -> None:
    big = _recorded(tmp_path / "a_big.jsonl")
    with big.open("r+b") as fh:
        fh.truncate(1 << 30)
    _recorded(tmp_path / "b_fine.jsonl")
    result = probe(tmp_path, env={"TRACEBENCH_MAX_TRACE_MB": "100"})
    assert result["results"] == 1 and len(result["errors"]) == 1
    assert "over the 100 MiB limit" in result["errors"][0]
