"""Memory: analysing one trace of 1,000 to 100,000 steps, and directories of 1,000 to 100,000
traces, each in a fresh process (peak RSS above the process's RSS after imports; Linux).

Targets (issue 9): one trace's analysis bounded by a constant (streamed); many traces bounded
by the result size, not the input size. The peaks are reported as extra measurements next to
the input size and the size of the results (their JSON), so the doc can compare them; time is
incidental here (one round).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _synthetic import write_corpus, write_trace

_PROBE = r"""
import json, os, sys
from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.score.clusters import cluster
from pytest_tracebench.settings import Settings
from pytest_tracebench.importers import get_importers
from pytest_tracebench.pipeline import Pipeline
Pipeline.from_settings(Settings()); get_importers()
def status(key):
    # VmRSS now, VmHWM the peak of this process image (ru_maxrss would carry the forking
    # parent's peak across exec)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
base = status("VmRSS")
results = analyze_paths([sys.argv[1]], Settings(), jobs=1)
clusters = cluster(results)
peak = status("VmHWM")
size = sum(len(r.model_dump_json()) for r in results)
print(json.dumps({"base_kb": base, "peak_kb": peak, "results": len(results),
                  "result_bytes": size}))
"""


def _measure(path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                         text=True, timeout=3600, check=True)
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def _record(benchmark: Any, data: dict[str, Any], input_bytes: int) -> None:
    growth_mb = max(0, data["peak_kb"] - data["base_kb"]) / 1024
    benchmark.extra_info["peak_growth_mb"] = round(growth_mb, 1)
    benchmark.extra_info["input_mb"] = round(input_bytes / 1e6, 1)
    benchmark.extra_info["result_json_mb"] = round(data["result_bytes"] / 1e6, 2)


pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="reads the process's RSS from /proc (Linux)")


@pytest.mark.parametrize("steps", [1_000, 10_000, 100_000])
def test_memory_one_trace(ratio_benchmark: Any, tmp_path: Path, steps: int) -> None:
    path = write_trace(tmp_path / f"t{steps}.jsonl", steps)
    box: dict[str, Any] = {}
    ratio_benchmark.pedantic(lambda: box.update(_measure(path)), rounds=1, iterations=1)
    assert box["results"] == 1
    _record(ratio_benchmark, box, path.stat().st_size)


TRACE_COUNTS = [1_000, 10_000] + ([100_000] if os.environ.get("TRACEBENCH_PERF_FULL") else [])


@pytest.mark.parametrize("traces", TRACE_COUNTS)
def test_memory_many_traces(ratio_benchmark: Any, tmp_path: Path, traces: int) -> None:
    folder = write_corpus(tmp_path / "corpus", traces, 10)
    box: dict[str, Any] = {}
    ratio_benchmark.pedantic(lambda: box.update(_measure(folder)), rounds=1, iterations=1)
    assert box["results"] == traces
    _record(ratio_benchmark, box, sum(p.stat().st_size for p in folder.iterdir()))


def test_memory_1000_traces_of_100_steps(ratio_benchmark: Any, tmp_path: Path) -> None:
    """Ten times the input of ``test_memory_many_traces[1000]`` for a similar result size:
    memory that follows the results, not the input, stays near that test's."""
    folder = write_corpus(tmp_path / "corpus", 1_000, 100)
    box: dict[str, Any] = {}
    ratio_benchmark.pedantic(lambda: box.update(_measure(folder)), rounds=1, iterations=1)
    assert box["results"] == 1_000
    _record(ratio_benchmark, box, sum(p.stat().st_size for p in folder.iterdir()))
