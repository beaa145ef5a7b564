"""Analyze throughput on a directory of 1,000 generated traces: loading alone (the floor),
then the whole pipeline (import, detect, score) in one process and in two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _synthetic import write_trace

from pytest_tracebench import load_trace
from pytest_tracebench._analyze import analyze_paths
from pytest_tracebench.config import Settings

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


def test_floor_load_1000_traces(ratio_benchmark: Any, corpus: Path) -> None:
    files = sorted(corpus.glob("*.jsonl"))
    ratio_benchmark.pedantic(lambda: [load_trace(p) for p in files], rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)


@pytest.mark.parametrize("jobs", [1, 2])
def test_analyze_1000_traces(ratio_benchmark: Any, corpus: Path, jobs: int) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_load_1000_traces"
    settings = Settings()

    def run() -> None:
        results = analyze_paths([str(corpus)], settings, jobs=jobs)
        assert len(results) == TRACES

    ratio_benchmark.pedantic(run, rounds=3, iterations=1)
    _rates(ratio_benchmark, corpus)
