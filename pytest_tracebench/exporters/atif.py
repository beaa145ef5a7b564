"""Export a trace as an ATIF trajectory (Harbor / Terminal-Bench interchange format).

Steps are grouped the way ATIF groups them: a user or system message is a step of its own; an
agent step holds the agent's text, its reasoning, its tool calls and, in ``observation``, the
results answering each call by id. Traces imported from ATIF keep their original step ids and
call ids in ``meta.atif``, so import -> export -> import gives back the same steps.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..models import Step, Trace

ATIF_VERSION = "ATIF-v1.6"


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def observation_text(step: Step) -> str | None:
    """The text a tool returned, as ATIF stores it."""
    output = step.output
    if output is None:
        return step.error
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and isinstance(output.get("stdout"), str):
        return str(output["stdout"])
    return json.dumps(output, default=str)


#: Function names that import back as the same step kind (see importers._build).
_FUNCTION_BY_KIND = {"command": "bash", "test": "bash", "read": "read_file",
                     "edit": "edit_file", "submit": "submit"}


def _function_name(step: Step) -> str:
    atif = step.meta.get("atif") or {}
    if atif.get("function_name"):
        return str(atif["function_name"])
    return _FUNCTION_BY_KIND.get(step.kind, step.name)


def _arguments(step: Step) -> Any:
    atif = step.meta.get("atif") or {}
    if "arguments" in atif:
        return atif["arguments"]
    return step.input if isinstance(step.input, dict) else {"input": step.input}


class _Writer:
    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.group: Any = None

    def _new(self, source: str, step: Step, group: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"step_id": len(self.steps) + 1, "source": source}
        stamp = _iso(step.started_at)
        if stamp:
            record["timestamp"] = stamp
        self.steps.append(record)
        self.current = record if source == "agent" else None
        self.group = group
        return record

    def _agent(self, step: Step, group: Any, *, for_tool: bool) -> dict[str, Any]:
        current = self.current
        same_group = group is not None and group == self.group
        if current is None or (group is not None and not same_group) or (
                group is None and not for_tool and current.get("tool_calls")):
            current = self._new("agent", step, group)
        return current

    def add(self, step: Step) -> None:
        atif = step.meta.get("atif") or {}
        group = atif.get("step_id")
        usage = step.meta.get("usage")
        if usage is None and isinstance(step.output, dict):
            usage = step.output.get("usage")
        is_call = atif.get("tool_call_id") is not None or (
            step.kind not in ("message", "llm") and not (atif and step.name == "observation"))
        if step.kind == "error" and not atif.get("tool_call_id"):
            # ATIF has no error step; keep ours in the step's extra so it imports back as one.
            record = self._new("agent", step, None)
            record["message"] = step.error or ""
            record["extra"] = {"tracebench": {"kind": "error", "name": step.name,
                                              "output": step.output}}
            self.current = None
            return
        if atif and not is_call and step.kind == "tool":
            # An observation ATIF recorded without a tool call (e.g. a parse-error notice).
            record = self._agent(step, group, for_tool=True)
            record.setdefault("observation", {"results": []})["results"].append(
                {"content": observation_text(step) or ""})
        elif step.kind == "message" and not is_call:
            role = (step.input or {}).get("role", "assistant")
            text = (step.output or {}).get("text", "")
            if role in ("user", "system"):
                self._new(role, step, group)["message"] = text
                return
            record = self._agent(step, group, for_tool=False)
            if role == "reasoning":
                record["reasoning_content"] = text
            else:
                record["message"] = text
        elif step.kind == "llm" and not is_call:
            record = self._agent(step, group, for_tool=False)
        else:
            record = self._agent(step, group, for_tool=True)
            call_id = atif.get("tool_call_id") or f"call_{step.index}"
            record.setdefault("tool_calls", []).append({
                "tool_call_id": call_id,
                "function_name": _function_name(step),
                "arguments": _arguments(step),
            })
            if not step.meta.get("unanswered"):
                content = observation_text(step)
                results = record.setdefault("observation", {"results": []})["results"]
                result: dict[str, Any] = {"source_call_id": call_id, "content": content or ""}
                if step.error is not None:
                    result["extra"] = {"tracebench_error": step.error}
                results.append(result)
        if usage and isinstance(usage, dict):
            record["metrics"] = {"prompt_tokens": usage.get("input_tokens"),
                                 "completion_tokens": usage.get("output_tokens")}
        record.setdefault("message", "")


def to_atif(trace: Trace) -> dict[str, Any]:
    """The trace as an ATIF document (a dict ready for ``json.dumps``)."""
    writer = _Writer()
    for step in trace.steps:
        writer.add(step)
    prompt = completion = 0
    for record in writer.steps:
        metrics = record.get("metrics") or {}
        prompt += metrics.get("prompt_tokens") or 0
        completion += metrics.get("completion_tokens") or 0
    agent = trace.header.agent
    session = trace.header.meta.get("session_id") or trace.header.task.id or trace.trace_id
    return {
        "schema_version": ATIF_VERSION,
        "session_id": str(session),
        "agent": {"name": agent.name, "version": agent.version or "unknown",
                  "model_name": agent.model},
        "steps": writer.steps,
        "final_metrics": {"total_prompt_tokens": prompt, "total_completion_tokens": completion,
                          "total_steps": len(writer.steps)},
    }
