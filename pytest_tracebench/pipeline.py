"""The analysis pipeline as plain functions, shared by the pytest plugin and the CLI.

``analyze_trace`` turns one loaded trace into a :class:`TraceResult`. Detection, scoring and
clustering plug in here as their stages land; nothing is computed in two places.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .models import Trace, TraceResult


def _tokens(trace: Trace) -> int:
    total = 0
    for step in trace.steps:
        if step.kind != "llm" or not isinstance(step.output, dict):
            continue
        usage = step.output.get("usage")
        if isinstance(usage, dict):
            for key in ("input_tokens", "output_tokens"):
                value = usage.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    total += value
    return total


def _duration(trace: Trace) -> float | None:
    start = trace.header.started_at
    end = trace.end.ended_at if trace.end is not None else None
    if end is None and trace.steps:
        end = trace.steps[-1].ended_at
    if start is None or end is None:
        return None
    return max(0.0, end - start)


def analyze_trace(trace: Trace, *, path: str | None = None) -> TraceResult:
    """Summarise one trace: identity, outcome, step counts, tokens, duration, warnings."""
    kinds = Counter(step.kind for step in trace.steps)
    outcome: dict[str, Any] = dict(trace.end.outcome) if trace.end is not None else {}
    return TraceResult(
        trace_id=trace.trace_id,
        task_id=trace.header.task.id,
        agent=trace.header.agent.name,
        path=path,
        nodeid=trace.header.task.nodeid,
        status=trace.end.status if trace.end is not None else "aborted",
        outcome=outcome,
        step_count=len(trace.steps),
        step_kinds=dict(sorted(kinds.items())),
        tokens=_tokens(trace),
        duration=_duration(trace),
        warnings=list(trace.warnings),
    )
