"""The seed's example trace shape: a JSON list of ``{action, state, timestamp, output}`` records.

The project began with traces like ``[{"action": "run_tests", "state": {"tests_passed":
false}}, ...]``. They still load: each record becomes a step whose kind is inferred from the
action's name (``run_tests`` -> ``test``, ``generate_fix`` -> ``edit``, ``final_answer`` ->
``submit``, ...), with ``state`` as the step's input.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pytest_tracebench.errors import TraceLoadError
from pytest_tracebench.models import (
    AgentInfo,
    SourceInfo,
    Step,
    TaskInfo,
    Trace,
    TraceEnd,
    TraceHeader,
)
from pytest_tracebench.parsers.python_runners import short_summary_ids

# Checked in order; the first rule whose word occurs in the action name wins.
_KIND_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("test", ("test", "pytest", "verify")),
    ("submit", ("submit", "final", "answer", "finish", "done")),
    ("error", ("error", "exception", "crash")),
    ("tool", ("retry",)),
    ("read", ("retrieve", "read", "search", "context", "view", "open", "find", "grep", "look")),
    ("edit", ("fix", "edit", "patch", "write", "modify", "apply", "change", "replace")),
    ("command", ("command", "run", "exec", "shell", "bash")),
    ("llm", ("llm", "completion", "model", "generate")),
    ("message", ("think", "plan", "message", "say", "reason", "claim", "respond")),
)


def infer_kind(action: str) -> str:
    """The step kind for an action name, from the words in it (``tool`` when nothing fits)."""
    words = set(re.split(r"[^a-z0-9]+", action.lower()))
    lowered = action.lower()
    for kind, needles in _KIND_RULES:
        if any(n in words or n in lowered for n in needles):
            return kind
    return "tool"


def _test_output(state: Any, output: Any) -> Any:
    if isinstance(state, dict) and isinstance(state.get("tests_passed"), bool):
        ok = state["tests_passed"]
        # The seed's output is pytest's short summary ("FAILED tests/test_client.py::test_x -
        # TimeoutError"): the failing test ids are in it.
        failing: list[str] = []
        if not ok and isinstance(output, str):
            failing = short_summary_ids(output)
        result: dict[str, Any] = {"ok": ok, "passed": None,
                                  "failed": len(failing) or None, "failing": failing}
        if output is not None:
            result["output"] = output
        return result
    return output


def from_records(records: list[Any], path: str | Path) -> Trace:
    """Build a trace from seed records; raises TraceLoadError on a record of the wrong shape."""
    steps: list[Step] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise TraceLoadError(path, f"expected an object, got {type(rec).__name__}",
                                 field=f"[{i}]")
        action = rec.get("action")
        if not isinstance(action, str) or not action:
            raise TraceLoadError(path, "missing or not a string; each record needs an action",
                                 field=f"[{i}].action")
        stamp = rec.get("timestamp")
        if stamp is not None and not isinstance(stamp, (int, float)):
            raise TraceLoadError(path, f"expected a number, got {stamp!r}",
                                 field=f"[{i}].timestamp")
        kind = infer_kind(action)
        state = rec.get("state")
        output = rec.get("output")
        if kind == "test":
            output = _test_output(state, output)
        steps.append(Step(index=i, kind=kind, name=action, input=state, output=output,  # type: ignore[arg-type]
                          started_at=stamp, ended_at=stamp))
    digest = hashlib.sha1(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    last = records[-1] if records else {}
    outcome: dict[str, Any] = {}
    if steps and steps[-1].kind == "submit" and isinstance(last.get("state"), dict):
        outcome = dict(last["state"])
    header = TraceHeader(
        trace_id=digest[:32],
        task=TaskInfo(id=Path(path).stem),
        agent=AgentInfo(name="unknown"),
        started_at=steps[0].started_at if steps else None,
        source=SourceInfo(format="seed", path=str(path)),
    )
    end = TraceEnd(status="completed", ended_at=steps[-1].ended_at if steps else None,
                   step_count=len(steps), outcome=outcome)
    return Trace(header=header, steps=steps, end=end)
