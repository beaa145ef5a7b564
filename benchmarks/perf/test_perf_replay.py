"""Replay streams: time to the first printed step and peak memory, 1,000 vs 100,000 steps,
against reading the file's lines (the floor)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from _synthetic import write_trace

from pytest_tracebench.replay.viewer import Filters, Replayer, replay_print

_FILES: dict[int, Path] = {}


class FirstWrite:
    """A sink that remembers when the first step was printed."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.count = 0

    def write(self, text: str) -> int:
        self.count += 1
        if self.first is None and text.startswith("ACTION"):
            self.first = time.perf_counter() - self.start
        return len(text)

    def flush(self) -> None:
        pass


@pytest.fixture(scope="module")
def trace_of(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def get(steps: int) -> Path:
        if steps not in _FILES:
            _FILES[steps] = write_trace(tmp_path_factory.mktemp("replay") / f"{steps}.jsonl",
                                        steps)
        return _FILES[steps]

    return get


def test_floor_read_lines_100k(ratio_benchmark: Any, trace_of: Any) -> None:
    path = trace_of(100_000)

    def read() -> None:
        with open(path, "rb") as fh:
            for _ in fh:
                pass

    ratio_benchmark.pedantic(read, rounds=3, iterations=1)


@pytest.mark.parametrize("steps", [1_000, 100_000])
def test_replay_streamed(ratio_benchmark: Any, trace_of: Any, steps: int) -> None:
    path = trace_of(steps)
    if steps == 100_000:
        ratio_benchmark.extra_info["floor"] = "test_floor_read_lines_100k"
    tracemalloc.start()
    sink = FirstWrite()
    replay_print(Replayer(path), sink, keep=Filters())  # type: ignore[arg-type]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    ratio_benchmark.extra_info["peak_kb"] = round(peak / 1024)
    ratio_benchmark.extra_info["first_step_ms"] = round((sink.first or 0) * 1000, 2)
    ratio_benchmark.pedantic(lambda: replay_print(Replayer(path), FirstWrite(),  # type: ignore[arg-type]
                                                  keep=Filters()), rounds=2, iterations=1)
