"""Import throughput of real mini-swe-agent trajectories against ``json.loads`` of the same
bytes (read from disk in both cases), measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_tracebench.importers import import_path
from pytest_tracebench.importers.mini_swe_agent import MiniSweAgentImporter

FILES = sorted((Path(__file__).parents[2] / "tests" / "data" / "real" / "mini-swe-agent")
               .glob("*/*.traj.json"))
MEGABYTES = sum(p.stat().st_size for p in FILES) / 1e6


def _mb_per_s(benchmark: Any) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["MB/s"] = round(MEGABYTES / stats.stats.median, 1)


def test_floor_json_loads_mini_swe_agent(ratio_benchmark: Any) -> None:
    def parse() -> None:
        for path in FILES:
            json.loads(path.read_bytes())

    ratio_benchmark(parse)
    _mb_per_s(ratio_benchmark)


def test_import_mini_swe_agent(ratio_benchmark: Any) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_json_loads_mini_swe_agent"
    importers = [MiniSweAgentImporter()]

    def load() -> None:
        for path in FILES:
            import_path(path, importers=importers)

    ratio_benchmark(load)
    _mb_per_s(ratio_benchmark)
