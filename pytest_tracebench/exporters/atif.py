"""Export a trace as an ATIF trajectory (Harbor / Terminal-Bench interchange format).

Steps are grouped the way ATIF groups them: a user or system message is a step of its own; an
agent step holds what one model call produced (its text, its reasoning, its tool calls) and, in
``observation``, the results answering each call by id.

Two promises, both checked by the tests against real files:

- **ATIF -> ours -> ATIF is exact.** The ATIF importer keeps, on the steps it makes, the ATIF
  step ids and call ids (``meta.atif``) and, for each ATIF step, the few fields this writer
  would not rebuild the same way (``meta.atif.patch``), and the file's top-level fields in
  ``header.meta.atif_document``; ATIF steps that give no step of ours are kept whole
  (``meta.atif.preceding``, ``header.meta.atif_trailing``).
- **Other formats -> ATIF -> ours keeps every step.** Tool names stay the agent's own
  (``WebSearch``, ``Glob``, ``list_directory``) unless that name would read back as another
  kind of step; an LLM call, a second message or a second reasoning block opens a new ATIF step
  instead of overwriting the previous one; what ATIF cannot say (our ``error`` and ``llm``
  steps, a kind a name does not imply) goes in ``extra.tracebench``, which the importer reads.

A trace without steps cannot be written: ATIF requires at least one step.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pytest_tracebench.importers.builder import MESSAGE_TOOLS, TraceBuilder
from pytest_tracebench.models import Step, Trace

#: The version written for traces that were not read from ATIF (ours use no later field).
ATIF_VERSION = "ATIF-v1.6"


class AtifExportError(ValueError):
    """The trace cannot be written as a valid ATIF trajectory."""


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


#: Function names that import back as the same step kind (see importers.builder).
_FUNCTION_BY_KIND = {"command": "bash", "test": "bash", "read": "read_file",
                     "edit": "edit_file", "submit": "submit"}


def _atif(step: Step) -> dict[str, Any]:
    """What the ATIF importer kept on the step (``{}`` for steps of other formats)."""
    atif = step.meta.get("atif")
    return atif if isinstance(atif, dict) else {}


def _arguments(step: Step) -> Any:
    atif = _atif(step)
    if "arguments" in atif:
        return atif["arguments"]
    return step.input if isinstance(step.input, dict) else {"input": step.input}


def _reads_back_as(name: str, arguments: Any) -> str:
    """The kind the importer gives a tool call of this name and arguments."""
    return TraceBuilder(format="atif", path="", trace_id="").tool_call(name, arguments).kind


def _tool_call(step: Step) -> dict[str, Any]:
    """The ATIF tool call of a step: the agent's own tool name, unless it reads back as another
    kind (then the kind's usual name, and the name kept in ``extra``)."""
    atif = _atif(step)
    arguments = _arguments(step)
    call: dict[str, Any] = {"tool_call_id": atif.get("tool_call_id") or f"call_{step.index}"}
    if atif.get("function_name"):
        call["function_name"] = str(atif["function_name"])
        call["arguments"] = arguments
        return call
    name = step.name
    extra: dict[str, Any] = {}
    if _reads_back_as(name, arguments) != step.kind:
        name = _FUNCTION_BY_KIND.get(step.kind, step.name)
        extra["name"] = step.name
        if _reads_back_as(name, arguments) != step.kind:
            extra["kind"] = step.kind
    call["function_name"] = name
    call["arguments"] = arguments if isinstance(arguments, dict) else {"input": arguments}
    if extra:
        call["extra"] = {"tracebench": extra}
    return call


def _metrics(usage: dict[str, Any]) -> dict[str, Any]:
    def count(value: Any) -> int | None:
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else None

    metrics: dict[str, Any] = {"prompt_tokens": count(usage.get("input_tokens")),
                               "completion_tokens": count(usage.get("output_tokens"))}
    if isinstance(usage.get("cost_usd"), (int, float)):
        metrics["cost_usd"] = float(usage["cost_usd"])
    return metrics


def _usage(step: Step) -> dict[str, Any] | None:
    usage = step.meta.get("usage")
    if usage is None and isinstance(step.output, dict):
        usage = step.output.get("usage")
    return usage if isinstance(usage, dict) and usage else None


class _Writer:
    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.group: Any = None
        # The ATIF step the current record rebuilds, and its fields as the file had them.
        self.patch: dict[str, Any] | None = None
        self.skip_group = False

    # -- records ------------------------------------------------------------------------------

    def _close(self) -> None:
        """Finish the current record: fields the import kept because this writer would not
        rebuild them the same way replace the rebuilt ones."""
        if self.current is not None and self.patch:
            record = self.current
            absent, fields, order = (self.patch.get(k) for k in ("absent", "fields", "order"))
            for key in absent if isinstance(absent, list) else ():
                record.pop(str(key), None)
            record.update(fields if isinstance(fields, dict) else {})
            if isinstance(order, list) and order:
                rank = {str(key): n for n, key in enumerate(order)}
                ordered = sorted(record, key=lambda k: rank.get(k, len(rank)))
                at = next(n for n in range(len(self.steps) - 1, -1, -1)
                          if self.steps[n] is record)
                self.steps[at] = {k: record[k] for k in ordered}
        self.current = None
        self.patch = None

    def _new(self, source: str, step: Step, group: Any) -> dict[str, Any]:
        self._close()
        atif = _atif(step)
        step_id = atif.get("step_id") if group is not None else None
        record: dict[str, Any] = {"step_id": step_id if isinstance(step_id, int)
                                  else len(self.steps) + 1, "source": source}
        stamp = _iso(step.started_at)
        if stamp:
            record["timestamp"] = stamp
        self.steps.append(record)
        self.current = record
        self.group = group
        patch = atif.get("patch") if group is not None else None
        self.patch = patch if isinstance(patch, dict) else None
        return record

    def _agent(self, step: Step, group: Any, *, opens: bool = False) -> dict[str, Any]:
        """The agent record ``step`` belongs to. Steps read from ATIF go where their ATIF step
        id says; others open a new record when ``opens`` (one model call per record)."""
        current = self.current
        if current is None or current.get("source") != "agent":
            return self._new("agent", step, group)
        if group is not None or self.group is not None:
            return current if group == self.group else self._new("agent", step, group)
        return self._new("agent", step, group) if opens else current

    # -- steps --------------------------------------------------------------------------------

    def add(self, step: Step) -> None:
        atif = _atif(step)
        group = atif.get("step_id") if atif else None
        if isinstance(atif.get("preceding"), list):
            self._close()
            self.steps.extend(dict(raw) for raw in atif["preceding"] if isinstance(raw, dict))
        if group is not None and group == self.group and self.skip_group:
            return
        self.skip_group = False
        if isinstance(atif.get("raw"), dict) and group != self.group:
            # An ATIF step this writer cannot rebuild: the import kept it whole.
            self._close()
            self.steps.append(dict(atif["raw"]))
            self.group, self.skip_group = group, True
            return
        usage = _usage(step)
        is_call = atif.get("tool_call_id") is not None or (
            step.kind not in ("message", "llm") and not (atif and step.name == "observation"))
        if step.kind == "message" and not atif and step.name.lower() in MESSAGE_TOOLS:
            # A tool the importer read as the agent's thinking (TodoWrite, think): a call again.
            step = step.model_copy(update={"input": {"content": (step.output or {}).get(
                "text", "")}, "meta": {**step.meta, "unanswered": True}})
            is_call = True
        if step.kind == "error" and not atif.get("tool_call_id"):
            # ATIF has no error step; keep ours in the step's extra so it imports back as one.
            record = self._new("agent", step, group)
            record["message"] = step.error or ""
            record["extra"] = {"tracebench": {"kind": "error", "name": step.name,
                                              "output": step.output}}
            self._close()
            return
        current = self.current if self.current is not None and \
            self.current.get("source") == "agent" else None
        if atif and not is_call and step.kind == "tool":
            # An observation ATIF recorded without a tool call (e.g. a parse-error notice).
            record = self._agent(step, group)
            record.setdefault("observation", {"results": []})["results"].append(
                {"content": observation_text(step) or ""})
        elif step.kind == "message" and not is_call:
            role = str(step.input.get("role") or "assistant") if isinstance(
                step.input, dict) else "assistant"
            text = step.output.get("text", "") if isinstance(step.output, dict) else ""
            text = text if isinstance(text, str) else json.dumps(text, default=str)
            if role in ("user", "system"):
                record = self._new(role, step, group)
                record["message"] = text
                if not atif and step.name != "message":
                    record["extra"] = {"tracebench": {"name": step.name}}
                self._close()
                return
            if not atif and (step.name != "message" or role not in ("assistant", "reasoning")):
                # A message ATIF has no place for (a reviewer's verdict, a run's final
                # result): an agent step of its own, marked so that it reads back the same.
                record = self._new("agent", step, group)
                record["message"] = text
                record["extra"] = {"tracebench": {"kind": "message", "name": step.name,
                                                  "role": role}}
                self._close()
                return
            # A second message or reasoning block, or one after the calls, or one of another
            # model call (its own usage): a new record rather than overwriting this one.
            taken = ("reasoning_content", "message", "tool_calls") if role == "reasoning" \
                else ("message", "tool_calls")
            opens = current is None or any(current.get(k) for k in taken) or (
                usage is not None and "metrics" in current)
            record = self._agent(step, group, opens=opens)
            record["reasoning_content" if role == "reasoning" else "message"] = text
        elif step.kind == "llm" and not is_call:
            record = self._agent(step, group, opens=True)
            if not atif:
                record.setdefault("extra", {})["tracebench"] = {"kind": "llm",
                                                                "name": step.name}
        else:
            record = self._agent(step, group, opens=usage is not None and current is not None
                                 and "metrics" in current)
            call = _tool_call(step)
            record.setdefault("tool_calls", []).append(call)
            if not step.meta.get("unanswered"):
                content = observation_text(step)
                results = record.setdefault("observation", {"results": []})["results"]
                result: dict[str, Any] = {"source_call_id": call["tool_call_id"],
                                          "content": content or ""}
                if step.error is not None:
                    result["extra"] = {"tracebench_error": step.error}
                results.append(result)
        if usage and "metrics" not in record:
            record["metrics"] = _metrics(usage)
        record.setdefault("message", "")

    def finish(self, trailing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._close()
        self.steps.extend(dict(raw) for raw in trailing)
        for n, record in enumerate(self.steps, 1):
            record["step_id"] = n  # ATIF requires ids 1, 2, 3, ...
        return self.steps


def atif_records(steps: list[Step]) -> list[dict[str, Any]]:
    """The ATIF step records of ``steps`` as this writer builds them (no patch applied): the
    importer compares them with the file to keep what would otherwise be lost."""
    writer = _Writer()
    for step in steps:
        plain = step.model_copy(update={"meta": {**step.meta, "atif": {
            k: v for k, v in _atif(step).items()
            if k not in ("patch", "preceding", "raw")}}})
        writer.add(plain)
    writer._close()
    return writer.steps


def to_atif(trace: Trace) -> dict[str, Any]:
    """The trace as an ATIF document (a dict ready for ``json.dumps``).

    Raises :class:`AtifExportError` for a trace without steps: ATIF requires at least one."""
    writer = _Writer()
    for step in trace.steps:
        writer.add(step)
    meta = trace.header.meta
    trailing = meta.get("atif_trailing")
    steps = writer.finish(trailing if isinstance(trailing, list) else [])
    if not steps:
        raise AtifExportError("the trace has no steps, and an ATIF trajectory needs at least "
                              "one")
    document = meta.get("atif_document")
    if isinstance(document, dict) and "steps" in document and isinstance(
            document.get("agent"), dict) and str(document.get("schema_version")).startswith(
            "ATIF-v"):
        # Read from ATIF: its own top-level fields (version, agent, final metrics) as they were.
        return {key: steps if key == "steps" else value for key, value in document.items()}
    prompt = completion = 0
    for record in steps:
        metrics = record.get("metrics") or {}
        prompt += metrics.get("prompt_tokens") or 0
        completion += metrics.get("completion_tokens") or 0
    agent = trace.header.agent
    session = meta.get("session_id") or trace.header.task.id or trace.trace_id
    version = meta.get("atif_schema_version")
    return {
        "schema_version": version if isinstance(version, str) and version.startswith("ATIF-v")
        else ATIF_VERSION,
        "session_id": str(session),
        "agent": {"name": agent.name, "version": agent.version or "unknown",
                  "model_name": agent.model},
        "steps": steps,
        "final_metrics": {"total_prompt_tokens": prompt, "total_completion_tokens": completion,
                          "total_steps": len(steps)},
    }
