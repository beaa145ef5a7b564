"""All built-in detectors on one trace, against loading that trace; and how detection, and
detection with scoring and clustering, grow with the trace (100 to 100,000 steps: the log-log
slope should be near 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _synthetic import write_trace

from pytest_tracebench import load_trace
from pytest_tracebench.detectors import detect, load_detectors, view_of
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.score.clusters import cluster
from pytest_tracebench.settings import Settings

DETECTORS = load_detectors(get_plugin_manager(), Settings())
PIPELINE = Pipeline.from_settings(Settings())
_TRACES: dict[int, Path] = {}


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def get(steps: int) -> Path:
        if steps not in _TRACES:
            folder = tmp_path_factory.mktemp("traces")
            _TRACES[steps] = write_trace(folder / f"t{steps}.jsonl", steps)
        return _TRACES[steps]

    return get


def _detect_fresh(trace: Any) -> None:
    # The view's construction is measured too, every round: nothing holds it between rounds.
    detect(trace, DETECTORS)


def test_floor_load_10k_steps(ratio_benchmark: Any, trace_file: Any) -> None:
    path = trace_file(10_000)
    ratio_benchmark.pedantic(load_trace, args=(path,), rounds=5, iterations=1)


def test_detect_all_10k_steps(ratio_benchmark: Any, trace_file: Any) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_load_10k_steps"
    trace = load_trace(trace_file(10_000))
    ratio_benchmark.pedantic(_detect_fresh, args=(trace,), rounds=5, iterations=1)


@pytest.mark.parametrize("steps", [100, 1_000, 10_000, 100_000])
def test_detect_scaling(ratio_benchmark: Any, trace_file: Any, steps: int) -> None:
    ratio_benchmark.extra_info["series"] = "detect"
    ratio_benchmark.extra_info["n"] = steps
    trace = load_trace(trace_file(steps))
    rounds = 3 if steps >= 100_000 else 5
    ratio_benchmark.pedantic(_detect_fresh, args=(trace,), rounds=rounds, iterations=1)


def _analyze_fresh(trace: Any) -> None:
    result = PIPELINE.analyze(trace)  # detect + score
    cluster([result])


@pytest.mark.parametrize("steps", [100, 1_000, 10_000, 100_000])
def test_pipeline_scaling_steps(ratio_benchmark: Any, trace_file: Any, steps: int) -> None:
    """Detection, scoring and clustering of one trace of 100 to 100,000 steps."""
    ratio_benchmark.extra_info["series"] = "detect + score + cluster (one trace)"
    ratio_benchmark.extra_info["n"] = steps
    trace = load_trace(trace_file(steps))
    rounds = 3 if steps >= 100_000 else 5
    ratio_benchmark.pedantic(_analyze_fresh, args=(trace,), rounds=rounds, iterations=1)


def _detect_and_features_fresh(trace: Any) -> None:
    from pytest_tracebench.score.calibration.features import behaviour_features

    view = view_of(trace)  # held across both, as Pipeline.analyze does
    detect(trace, DETECTORS)
    behaviour_features(trace, view)


def test_detect_and_features_10k_steps(ratio_benchmark: Any, trace_file: Any) -> None:
    """What the score reads of a trace: every detector's findings and the behaviour
    features, against loading the trace."""
    ratio_benchmark.extra_info["floor"] = "test_floor_load_10k_steps"
    trace = load_trace(trace_file(10_000))
    ratio_benchmark.pedantic(_detect_and_features_fresh, args=(trace,), rounds=5,
                             iterations=1)
