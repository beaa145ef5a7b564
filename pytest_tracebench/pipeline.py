"""The analysis pipeline as plain functions, shared by the pytest plugin and the CLI.

:class:`Pipeline` holds what is fixed for a session (settings, plugin manager, detectors) and
turns one loaded trace into a :class:`TraceResult`. Scoring and clustering plug in here as
their stages land; nothing is computed in two places.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pluggy

from pytest_tracebench.detectors import detect, load_detectors, view_of
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.models import Finding, Trace, TraceResult
from pytest_tracebench.record.redaction import (
    Redactor,
    redact_json,
    redact_trace,
    redactor_from_settings,
)
from pytest_tracebench.score.calibration.features import behaviour_features
from pytest_tracebench.score.scoring import score_result
from pytest_tracebench.settings import Settings
from pytest_tracebench.usage import trace_tokens

__all__ = [
    "Pipeline",
    "analyze_trace",
    "default_pipeline",
    "redact_result",
    "reward",
    "summarize",
]


def _duration(trace: Trace) -> float | None:
    start = trace.header.started_at
    end = trace.end.ended_at if trace.end is not None else None
    if end is None and trace.steps:
        end = trace.steps[-1].ended_at
    if start is None or end is None:
        return None
    return max(0.0, end - start)


@dataclass
class Pipeline:
    """Detect (and later score) traces with one set of settings and detectors."""

    settings: Settings = field(default_factory=Settings)
    pm: pluggy.PluginManager | None = None
    detectors: list[Any] = field(default_factory=list)
    redactor: Redactor | None = None
    """Applied to a trace before its detectors see it (imported traces were never redacted,
    and a finding that quotes a cut of a secret no longer matches its rule) and to every
    result: findings, and the identity fields (task id, agent, node id, path)."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None,
                      pm: pluggy.PluginManager | None = None) -> Pipeline:
        settings = settings or Settings()
        pm = pm or get_plugin_manager(settings.plugins)
        return cls(settings=settings, pm=pm, detectors=load_detectors(pm, settings),
                   redactor=redactor_from_settings(settings, pm))

    def analyze(self, trace: Trace, *, path: str | None = None,
                redacted: bool = False) -> TraceResult:
        """Detect and score one trace. ``redacted``: the trace's steps were redacted when
        recorded (the recorder's own), so only its result needs it."""
        if self.redactor is not None and not redacted:
            trace = redact_trace(trace, self.redactor)
        result = summarize(trace, path=path)
        view = view_of(trace)  # held: the detectors and the features read the same view
        findings = detect(trace, self.detectors)
        kinds = {step.index: step.kind for step in trace.steps}
        for finding in findings:
            if finding.steps and finding.step_kind is None:
                finding.step_kind = kinds.get(finding.steps[0])
        if self.redactor is not None:
            findings = [_redacted(finding, self.redactor) for finding in findings]
        result.findings = findings
        result.features = behaviour_features(trace, view)
        result.score = score_result(result, self.settings, self.pm)
        if self.redactor is not None and not redacted:
            result = redact_result(result, self.redactor)
        elif self.redactor is not None and path is not None:
            # A recorded trace's identity and outcome were redacted when written, its findings
            # just above; only the path (the trace folder's name) was not. The whole result
            # was 40% of a short trace's analysis (issue 17).
            result.path = self.redactor.redact_text(path)
        return result


def redact_result(result: TraceResult, redactor: Redactor) -> TraceResult:
    """``result`` with its identity fields, outcome, findings and warnings redacted: a test id
    or a pre-signed URL given as the path holds its secret like any text."""
    data = result.model_dump(mode="json")
    clean = redact_json(data, redactor)
    return result if clean is data else TraceResult.model_validate(clean)


def _redacted(finding: Finding, redactor: Redactor) -> Finding:
    if not redactor.might_contain(finding.message) and not (
            finding.evidence and redactor.might_contain(json.dumps(finding.evidence,
                                                                   default=str))):
        return finding
    return Finding.model_validate(redactor.redact_value(finding.model_dump(mode="json")))


def summarize(trace: Trace, *, path: str | None = None) -> TraceResult:
    """Identity, outcome, step counts, tokens, duration and load warnings of one trace."""
    kinds = Counter(step.kind for step in trace.steps)
    outcome: dict[str, Any] = dict(trace.end.outcome) if trace.end is not None else {}
    return TraceResult(
        trace_id=trace.trace_id,
        task_id=trace.header.task.id,
        agent=trace.header.agent.name,
        path=path,
        nodeid=trace.header.task.nodeid,
        format=trace.header.source.format,
        session_id=str(trace.header.meta["session_id"]) if trace.header.meta.get("session_id")
        else None,
        status=trace.end.status if trace.end is not None else "aborted",
        outcome=outcome,
        step_count=len(trace.steps),
        step_kinds=dict(sorted(kinds.items())),
        tokens=trace_tokens(trace),
        duration=_duration(trace),
        warnings=list(trace.warnings),
    )


def analyze_trace(trace: Trace, *, path: str | None = None) -> TraceResult:
    """One-off analysis with default settings (tests and scripts)."""
    return Pipeline.from_settings().analyze(trace, path=path)


@functools.cache
def default_pipeline() -> Pipeline:
    """The pipeline of the default settings, built on first use and kept for the process:
    ``reward(trace)`` in an RL loop must not rebuild the plugin manager per call."""
    return Pipeline.from_settings()


def reward(trace_or_result: Trace | TraceResult, settings: Settings | None = None, *,
           pipeline: Pipeline | None = None) -> float:
    """A reward in [0, 1] for one run, for RL loops.

    ``trace_or_result`` is a trace (analysed here) or an already analysed result. Pass a
    ``Pipeline`` built once (``Pipeline.from_settings(settings)``) when calling in a loop;
    without one, a default pipeline is built on first use and kept. Plugins shape the reward
    through ``tracebench_reward``::

        from pytest_tracebench import TraceRecorder, reward

        rec = TraceRecorder(None)            # in memory: record the rollout's steps
        ...
        rec.end("completed", {"passed": tests_passed})
        r = reward(rec.to_trace())           # 0.0 .. 1.0
    """
    if pipeline is None:
        pipeline = Pipeline.from_settings(settings) if settings is not None \
            else default_pipeline()
    result = pipeline.analyze(trace_or_result) if isinstance(trace_or_result, Trace) \
        else trace_or_result
    if result.score is None:
        result.score = score_result(result, pipeline.settings, pipeline.pm)
    return float(result.score.reward)
