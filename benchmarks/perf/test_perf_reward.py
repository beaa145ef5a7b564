"""The reward API at RL-loop rates: analysing and scoring an in-memory 50-step rollout.

The floor is parsing the same rollout from its JSON Lines bytes with ``json.loads``: the
least any consumer of a serialised rollout pays before it can look at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _synthetic import write_trace

from pytest_tracebench import load_trace
from pytest_tracebench.pipeline import Pipeline, reward

STEPS = 50


def test_floor_json_loads_50_steps(ratio_benchmark: Any, tmp_path: Path) -> None:
    lines = write_trace(tmp_path / "r.jsonl", STEPS).read_bytes().splitlines()
    ratio_benchmark(lambda: [json.loads(line) for line in lines])


def test_reward_50_steps(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_json_loads_50_steps"
    trace = load_trace(write_trace(tmp_path / "r.jsonl", STEPS))
    pipeline = Pipeline.from_settings()
    value = reward(trace, pipeline=pipeline)
    assert 0.0 <= value <= 1.0
    ratio_benchmark(lambda: reward(trace, pipeline=pipeline))
