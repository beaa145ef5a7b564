"""``replay_divergence``: in cassette replay, the agent called something differently from the
recording (the recorder writes an ``error`` step ``replay_divergence`` with the diff)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Trace


class ReplayDivergenceDetector(Detector):
    name = "replay_divergence"
    category = "inconsistent_execution"
    description = "A replayed run called a tool differently from the recording (cassette " \
                  "replay): the run is not reproducible as recorded."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        for step in trace.steps:
            if step.kind != "error" or step.name != "replay_divergence":
                continue
            info = step.meta.get("replay") or {}
            actual = info.get("actual") or {}
            expected = info.get("expected") or {}
            where = info.get("expected_step")
            recorded = f"step {where + 1} of the recording" if isinstance(where, int) \
                else "the recording"
            what = f"`{expected.get('name')}`" if expected else "no such call"
            yield self.finding(
                f"Replay diverged at step {step.index + 1}: the agent called "
                f"`{actual.get('name')}` with arguments that differ from {recorded} "
                f"({what}).", [step.index], severity="high", step_kind="run",
                diff=info.get("diff"), expected=expected, actual=actual,
                recorded_step=where)


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [ReplayDivergenceDetector()]
