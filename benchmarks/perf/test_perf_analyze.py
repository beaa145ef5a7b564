"""Analyze throughput on a directory of 1,000 generated traces: ``orjson.loads`` of every line
(the floor: the fastest JSON parser on PyPI, the parse cost any reader pays), our loader, then
the whole pipeline (import, detect, score, cluster) in one process and in two.

Target (issue 9): the pipeline runs at no less than 0.5x the floor's throughput, i.e. a ratio
of at most 2.0x in time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from _synthetic import write_corpus, write_trace

from pytest_tracebench import load_trace
from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.score.clusters import cluster
from pytest_tracebench.settings import Settings

TRACES = 1_000
STEPS = 50


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for n in range(TRACES):
        write_trace(folder / f"run_{n:04d}.jsonl", STEPS)
    return folder


def _rates(benchmark: Any, folder: Path) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is None:
        return
    megabytes = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    benchmark.extra_info["traces/s"] = round(TRACES / stats.stats.median)
    benchmark.extra_info["MB/s"] = round(megabytes / stats.stats.median, 1)


def test_floor_orjson_loads_1000_traces(ratio_benchmark: Any, corpus: Path) -> None:
    files = sorted(corpus.glob("*.jsonl"))

    def parse() -> None:
        for path in files:
            with open(path, "rb") as fh:
                for line in fh:
                    orjson.loads(line)

    ratio_benchmark.pedantic(parse, rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)


def test_load_1000_traces(ratio_benchmark: Any, corpus: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_orjson_loads_1000_traces"
    files = sorted(corpus.glob("*.jsonl"))

    def load() -> None:
        # Each trace is dropped after loading, as the pipeline does: keeping 1,000 traces alive
        # would measure the garbage collector walking them (2.4x slower), not the loader.
        for path in files:
            load_trace(path)

    ratio_benchmark.pedantic(load, rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)


@pytest.mark.parametrize("jobs", [1, 2])
def test_analyze_1000_traces(ratio_benchmark: Any, corpus: Path, jobs: int) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_orjson_loads_1000_traces"
    settings = Settings()

    def run() -> None:
        results = analyze_paths([str(corpus)], settings, jobs=jobs)
        assert len(results) == TRACES
        assert cluster(results)

    ratio_benchmark.pedantic(run, rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)


@pytest.fixture(scope="module")
def ray_local() -> Any:
    """A local Ray instance for the module (started once: its start-up is not analysis)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (extra: ray)")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


def test_analyze_1000_traces_ray(ratio_benchmark: Any, corpus: Path, ray_local: Any) -> None:
    """The Ray engine on the same corpus, two CPUs: what distributing costs on one machine."""
    ratio_benchmark.extra_info["floor"] = "test_floor_orjson_loads_1000_traces"
    settings = Settings()

    def run() -> None:
        results = analyze_paths([str(corpus)], settings, engine="ray")
        assert len(results) == TRACES
        assert cluster(results)

    ratio_benchmark.pedantic(run, rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)


# 100,000 traces only in the full run (scripts/perf.sh sets TRACEBENCH_PERF_FULL=1): writing
# and analysing them takes minutes, too long for the test suite's smoke pass.
SCALING = [10, 100, 1_000, 10_000] + ([100_000] if os.environ.get("TRACEBENCH_PERF_FULL")
                                      else [])


@pytest.mark.parametrize("traces", SCALING)
def test_analyze_scaling_traces(ratio_benchmark: Any, tmp_path_factory: pytest.TempPathFactory,
                                traces: int) -> None:
    """Whole pipeline on 10 to 10,000 traces of 10 steps, one process: slope near 1."""
    folder = write_corpus(tmp_path_factory.mktemp(f"scale{traces}"), traces, 10)
    ratio_benchmark.extra_info["series"] = "analyze (traces of 10 steps)"
    ratio_benchmark.extra_info["n"] = traces
    settings = Settings()

    def run() -> None:
        results = analyze_paths([str(folder)], settings, jobs=1)
        assert len(results) == traces
        cluster(results)

    rounds = 1 if traces >= 100_000 else 3 if traces >= 10_000 else 5
    ratio_benchmark.pedantic(run, rounds=rounds, iterations=1)
