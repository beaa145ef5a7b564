"""Detectors on the 18 real runs kept in tests/data/real, against the harness's verdicts
(never shown to them): a regression check on the runs the detectors were first built on.

SWE-bench report.json and Terminal-Bench reward.txt are read only here, to check the
findings. The detectors' measured agreement with verdicts is on the 752 runs of the
development corpus (docs/detectors.md, tests/test_calibrate.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_tracebench.importers import import_path
from pytest_tracebench.pipeline import Pipeline

REAL = Path(__file__).parent / "data" / "real"
MINI = sorted((REAL / "mini-swe-agent").iterdir())
TB = sorted((REAL / "terminal-bench-claude-code").iterdir())
SERIOUS = {"medium", "high", "critical"}

# Unresolved runs whose trajectory holds no evidence of the failure: the agent's own tests and
# checks passed; the harness's failing tests were never run by the agent (docs/detectors.md).
NO_EVIDENCE = {"django__django-13512", "django__django-14011", "sphinx-doc__sphinx-7590",
               "sympy__sympy-17630"}


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_settings()


def _truth(folder: Path) -> dict:
    report = json.loads((folder / "report.json").read_text())
    return report if "resolved" in report else next(iter(report.values()))


def _detect(pipeline: Pipeline, path: Path) -> dict[str, set[str]]:
    (trace,) = import_path(path)
    fired: dict[str, set[str]] = {}
    for finding in pipeline.analyze(trace).findings:
        fired.setdefault(finding.detector, set()).add(finding.severity)
    return fired


@pytest.mark.parametrize("folder", MINI, ids=lambda p: p.name)
def test_swebench_runs_agree_with_the_harness(pipeline: Pipeline, folder: Path) -> None:
    truth = _truth(folder)
    fired = _detect(pipeline, next(folder.glob("*.traj.json")))
    incomplete = bool(fired.get("incomplete_resolution", set()) & SERIOUS)
    if truth["resolved"]:
        assert not incomplete
        assert "false_success_claim" not in fired
        assert "test_tampering" not in fired
        assert "regression" not in fired
    elif folder.name in NO_EVIDENCE:
        assert not incomplete
    else:
        assert incomplete


@pytest.mark.parametrize("folder", TB, ids=lambda p: p.name.split("__")[0])
@pytest.mark.parametrize("source", ["trajectory.json", "claude-code.stream.jsonl"])
def test_terminal_bench_runs_agree_with_the_verifier(pipeline: Pipeline, folder: Path,
                                                     source: str) -> None:
    solved = (folder / "reward.txt").read_text().strip().startswith("1")
    fired = _detect(pipeline, folder / source)
    assert bool(fired.get("incomplete_resolution", set()) & SERIOUS) == (not solved)
    assert "false_success_claim" not in fired or not solved
    assert "test_tampering" not in fired


def test_no_detector_breaks_on_any_sample(pipeline: Pipeline) -> None:
    from pytest_tracebench.importers import iter_trace_inputs

    for path, skip in iter_trace_inputs([REAL, REAL.parent / "native"]):
        if skip:
            continue
        for trace in import_path(path):
            detectors = {f.detector for f in pipeline.analyze(trace).findings}
            assert "tracebench_internal" not in detectors, path
