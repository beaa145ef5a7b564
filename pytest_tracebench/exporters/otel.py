"""Scores and findings as OpenTelemetry ``gen_ai.evaluation.result`` events.

The GenAI semantic conventions describe an evaluation result as an event named
``gen_ai.evaluation.result`` with ``gen_ai.evaluation.name`` (required),
``gen_ai.evaluation.score.value``, ``gen_ai.evaluation.score.label`` and
``gen_ai.evaluation.explanation``. Each trace gives one event for its score and one per finding;
:func:`to_otlp_logs` wraps them as OTLP/JSON log records that a collector ingests as they are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pytest_tracebench.models import TraceResult
from pytest_tracebench.score.scoring import breakdown_text

EVENT_NAME = "gen_ai.evaluation.result"


def evaluation_events(result: TraceResult, *, pass_score: float = 50.0) -> list[dict[str, Any]]:
    """``[{"name": EVENT_NAME, "attributes": {...}}]`` for one trace's score and findings."""
    events: list[dict[str, Any]] = []
    common = {"tracebench.trace_id": result.trace_id, "tracebench.task_id": result.task_id}
    if result.score is not None:
        penalties = breakdown_text(result.score)
        events.append({"name": EVENT_NAME, "attributes": {
            "gen_ai.evaluation.name": "tracebench.score",
            "gen_ai.evaluation.score.value": result.score.value,
            "gen_ai.evaluation.score.label": "pass" if result.score.value >= pass_score
            else "fail",
            "gen_ai.evaluation.explanation": f"score {result.score.value:g}/100"
            + f"; breakdown: {penalties}",
            **common,
        }})
    for finding in result.findings:
        events.append({"name": EVENT_NAME, "attributes": {
            "gen_ai.evaluation.name": f"tracebench.{finding.detector}",
            "gen_ai.evaluation.score.label": finding.severity,
            "gen_ai.evaluation.explanation": finding.message,
            "tracebench.steps": list(finding.steps),
            **common,
        }})
    return events


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def to_otlp_logs(results: Iterable[TraceResult], *, service_name: str = "tracebench"
                 ) -> dict[str, Any]:
    """OTLP/JSON ``resourceLogs`` holding the evaluation events of ``results``."""
    now = str(time.time_ns())
    records = []
    for result in results:
        for event in evaluation_events(result):
            records.append({
                "timeUnixNano": now,
                "eventName": event["name"],
                "attributes": [{"key": k, "value": _any_value(v)}
                               for k, v in event["attributes"].items()],
            })
    return {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": service_name}}]},
        "scopeLogs": [{"scope": {"name": "pytest-tracebench"}, "logRecords": records}],
    }]}
