"""Laminar span exports: ``{instance_id, session_id, total_spans, trajectory[]}``.

A one-off format: the Vorflux multi-model harness's SWE-bench Verified submission exported its
Laminar traces this way (``trajs/<id>.json``). The spans, in time order:

- ``llm_call``: ``output.content`` (the model's text) and ``output.tool_calls`` (what it asked
  to run); the first one keeps the ``task_prompt``. Inputs after the first call, models and
  token usage were not exported.
- ``tool_call``: the execution, ``tool`` + ``arguments`` + ``result`` (for ``bash_execute``
  ``{stdout, stderr, exitCode}``; file tools return text, ``Error: ...`` when they failed).
  Sub-agents' tool calls are here even where their model calls are not.
- ``judge_call``: a call to a second model (``gpt-5.5-high``) with its input only. Most tidy the
  agent's final message for display; those that format the testing reviewer's answer hold that
  reviewer's verdict (``{"approved": ..., "feedback": ...}``) in their prompt.

Each tool_call is one step. A tool call the model asked for that no tool_call span executes
(the harness's own orchestration: ``add_task``, ``mark_todo_done``, ``vflux_exec``, ...) is kept
as an unanswered step after the model's message, so the run shows it without counting it as an
action. A reviewer's verdict is a ``message`` of role ``reviewer`` (never the agent's own claim);
other judge calls are ``llm`` steps. The patch and the verdict files beside the export are not
read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of
from pytest_tracebench.models import AgentInfo, Step, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_KEYS = re.compile(rb'"total_spans"\s*:')
_TRAJECTORY = re.compile(rb'"trajectory"\s*:\s*\[')
_EMPTY = re.compile(rb'"trajectory"\s*:\s*\[\s*\]')
_SPAN_TYPE = re.compile(rb'"type"\s*:\s*"(?:llm|tool|judge)_call"')
# The issue in the harness's prompt: "## Issue" (or "### Problem Statement") up to the next
# section of the same level ("Approach", "Notes", ...).
_ISSUE = re.compile(r"^(#{2,3}) (?:Issue|Problem Statement)\n(.*?)(?=^\1 (?:Approach|Notes|Rules|"
                    r"When done|Integrity Rules|Coding Rules|Submission)\b|\Z)", re.S | re.M)
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?"
                    r"(Z|[+-]\d{2}:?\d{2})?$")
_RAW_RESPONSE = re.compile(r"Raw Response:\n(.*?)\n\nTarget Schema:", re.S)
_SCHEMA_TITLE = re.compile(r'"title":\s*"(\w+)",\s*"type":\s*"object"\s*\}\s*\n+Convert')

#: What the model calls a tool (``read``, ``file_path``) and what its span names it.
_CALL_NAMES = {"read": "read_text_file"}
_CALL_KEYS = {"file_path": "filePath"}


def span_time(value: Any) -> float | None:
    """Seconds since the epoch of a span's ``2026-05-05 12:03:39.083992014`` (nanoseconds; a
    stamp without a zone is taken as UTC, so the result does not depend on the reader's)."""
    if not isinstance(value, str):
        return None
    match = _STAMP.match(value.strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    text = f"{day}T{clock}.{(fraction or '0')[:6].ljust(6, '0')}"
    try:
        stamp = datetime.fromisoformat(text + (zone.replace("Z", "+00:00") if zone else ""))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {"raw": raw}
        return value if isinstance(value, dict) else {"value": value}
    return {}


def _as_span(name: str, args: dict[str, Any]) -> tuple[str, str]:
    """A requested call as its span would show it, to find the span that executed it."""
    renamed = {_CALL_KEYS.get(k, k): v for k, v in args.items()}
    return _CALL_NAMES.get(name, name), json.dumps(renamed, sort_keys=True, default=str)


def _failed(result: Any) -> str | None:
    """The error of a file tool's text result (``Error: old_string not found ...``)."""
    if isinstance(result, str) and result.startswith("Error:"):
        return clip(result, 2000)
    return None


def _verdict(prompt: str) -> tuple[str, str, dict[str, Any]] | None:
    """``(reviewer, review, verdict)`` from a judge call that formats a reviewer's answer."""
    raw = _RAW_RESPONSE.search(prompt)
    if not raw:
        return None
    review = raw.group(1).strip()
    start = review.rfind('{"approved"')
    verdict: dict[str, Any] = {}
    if start >= 0:
        try:
            value, _ = json.JSONDecoder().raw_decode(review[start:])
        except ValueError:
            value = None
        if isinstance(value, dict):
            verdict = value
    title = _SCHEMA_TITLE.search(prompt)
    return (title.group(1) if title else "reviewer"), review, verdict


class LaminarExportImporter:
    name = "laminar-export"
    description = ("Laminar span export (instance_id, session_id, total_spans, trajectory of "
                   "llm_call / tool_call / judge_call spans; the Vorflux harness)")

    def sniff(self, path: Path, head: bytes) -> bool:
        """An object with ``total_spans`` and a ``trajectory`` list that is empty or holds
        ``llm_call``/``tool_call``/``judge_call`` spans: no other format has these keys."""
        if not head.lstrip().startswith(b"{") or not _KEYS.search(head) or \
                not _TRAJECTORY.search(head):
            return False
        return bool(_EMPTY.search(head) or _SPAN_TYPE.search(head))

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("trajectory"), list):
            raise ValueError("expected an object with a 'trajectory' list of spans")
        spans: list[Any] = data["trajectory"]
        instance = str(data.get("instance_id") or path.stem)
        session = data.get("session_id")
        first = next((s for s in spans if isinstance(s, dict) and s.get("task_prompt")), {})
        prompt = next((text_of(m.get("content")) for m in first.get("task_prompt") or []
                       if isinstance(m, dict) and m.get("role") == "user"), "")
        issue = _ISSUE.search(prompt)
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, instance, session, len(spans)),
            task=TaskInfo(id=instance, description=clip(
                (issue.group(2) if issue else prompt).strip(), 4000) or None),
            agent=AgentInfo(),
            meta={"session_id": session, "total_spans": data.get("total_spans"),
                  "exported_spans": len(spans)},
        )
        _Reader(builder, path, spans).read()
        _mark_harness(builder)
        if not spans:
            builder.warnings.append(
                f"{path}: the trajectory is empty: the export holds none of the run's "
                f"{data.get('total_spans')} span(s); imported as a run with 0 steps")
            return [builder.build(None)]
        return [builder.build("completed", {"exit_status": None,
                                            "total_spans": data.get("total_spans"),
                                            "exported_spans": len(spans)})]


#: The harness's own bookkeeping, run between the agent's steps: its memory store and its
#: flush files. Kept in the trace, marked ``meta.harness`` so detectors do not read it as the
#: agent's work (1,464 ``mkdir -p /memory/sessions`` in 100 runs).
_HARNESS_PATHS = re.compile(r"(?:^|[\s'\"=])/memory(?:/|\b)|/tmp/_flush_")


def _mark_harness(builder: TraceBuilder) -> None:
    for step in builder.steps:
        if step.kind in ("message", "llm") or not isinstance(step.input, dict):
            continue
        text = " ".join(str(step.input.get(k) or "") for k in ("command", "path"))
        if _HARNESS_PATHS.search(text):
            step.meta["harness"] = True


class _Reader:
    """One pass over the spans; the model's requested calls are matched to their spans first."""

    def __init__(self, builder: TraceBuilder, path: Path, spans: list[Any]) -> None:
        self.builder = builder
        self.path = path
        self.spans = spans
        self.skipped: Counter[str] = Counter()
        self.unknown_tools: Counter[str] = Counter()
        self.jobs: dict[str, str] = {}
        self.executed: dict[int, str] = {}  # span position -> the tool call id that asked
        self.unexecuted: set[tuple[int, int]] = set()  # (llm span, call) without a span
        self._match()

    def _calls(self, span: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        for n, call in enumerate(_dict(span.get("output")).get("tool_calls") or []):
            if isinstance(call, dict):
                yield n, call

    def _match(self) -> None:
        """Each requested call to the first later, still unclaimed span of the same tool and
        arguments (the model's ``read`` with ``file_path`` runs as ``read_text_file`` with
        ``filePath``)."""
        waiting: dict[tuple[str, str], list[int]] = {}
        for position, span in enumerate(self.spans):
            if isinstance(span, dict) and span.get("type") == "tool_call":
                key = (str(span.get("tool")), json.dumps(_dict(span.get("arguments")),
                                                         sort_keys=True, default=str))
                waiting.setdefault(key, []).append(position)
        for position, span in enumerate(self.spans):
            if not isinstance(span, dict) or span.get("type") != "llm_call":
                continue
            for n, call in self._calls(span):
                function = _dict(call.get("function"))
                key = _as_span(str(function.get("name") or ""),
                               _arguments(function.get("arguments")))
                later = [p for p in waiting.get(key, []) if p > position]
                if later:
                    waiting[key].remove(later[0])
                    self.executed[later[0]] = str(call.get("id") or "")
                else:
                    self.unexecuted.add((position, n))

    def read(self) -> None:
        for position, span in enumerate(self.spans):
            kind = span.get("type") if isinstance(span, dict) else None
            if kind == "llm_call":
                self._llm(position, span)
            elif kind == "tool_call":
                self._tool(position, span)
            elif kind == "judge_call":
                self._judge(span)
            else:
                self.skipped[f"spans of type {kind or type(span).__name__!r}"] += 1
        for what, count in sorted(self.skipped.items()):
            self.builder.warnings.append(f"{self.path}: skipped {count} {what}")
        for tool, count in sorted(self.unknown_tools.items()):
            self.builder.warnings.append(f"{self.path}: {count} call(s) of tool {tool!r}, not "
                                         f"one this importer knows, kept by its name alone")

    def _llm(self, position: int, span: dict[str, Any]) -> None:
        output = span.get("output")
        if not isinstance(output, dict):
            self.skipped["llm_call spans without output"] += 1
            return
        at = span_time(span.get("timestamp"))
        calls = list(self._calls(span))
        meta: dict[str, Any] = {}
        if calls:
            meta["tool_calls"] = [str(_dict(c.get("function")).get("name")) for _, c in calls]
        self.builder.message(text_of(output.get("content")), at=at, meta=meta)
        for n, call in calls:
            if (position, n) not in self.unexecuted:
                continue
            function = _dict(call.get("function"))
            self.builder.tool_call(str(function.get("name") or "tool"),
                                   _arguments(function.get("arguments")), None, at=at,
                                   meta={"tool_call_id": call.get("id"), "unanswered": True,
                                         "no_span": True})

    def _judge(self, span: dict[str, Any]) -> None:
        at = span_time(span.get("timestamp"))
        messages = [m for m in span.get("input_messages") or [] if isinstance(m, dict)]
        prompt = text_of(messages[-1].get("content")) if messages else ""
        model = span.get("model")
        found = _verdict(prompt)
        if found is not None:
            reviewer, review, verdict = found
            meta: dict[str, Any] = {"judge": {"model": model, "reviewer": reviewer,
                                              "verdict": verdict}}
            step = self.builder.message(review, role="reviewer", name="judge_call", at=at,
                                        meta=meta)
            if step is not None:
                step.input = {"role": "reviewer", "model": model, "reviewer": reviewer}
            return
        asked = (text_of(messages[0].get("content")) if messages else "").split("\n", 1)[0]
        self.builder.add("llm", "judge_call",
                         input={"model": model, "messages": len(messages), "asked": asked[:500]},
                         output={"content": None}, at=at,
                         meta={"judge": {"model": model, "answer_exported": False}})

    def _tool(self, position: int, span: dict[str, Any]) -> None:
        tool = str(span.get("tool") or "tool")
        args = _dict(span.get("arguments"))
        result = span.get("result")
        at = span_time(span.get("timestamp"))
        meta: dict[str, Any] = {}
        if position in self.executed:
            meta["tool_call_id"] = self.executed[position]
        else:
            meta["requested"] = False  # the model call that asked for it was not exported
        step = self._tool_step(tool, args, result, at, meta)
        if isinstance(result, dict) and result.get("outputExceededThreshold"):
            step.meta["output_exceeded"] = {"file": result.get("outputFilePath"),
                                            "size": result.get("outputFileSize")}

    def _tool_step(self, tool: str, args: dict[str, Any], result: Any, at: float | None,
                   meta: dict[str, Any]) -> Step:
        builder = self.builder
        text = result if isinstance(result, str) else (
            json.dumps(result, default=str) if result is not None else "")
        if tool == "bash_execute":
            return self._bash(args, result, at, meta)
        if tool == "job":
            return self._job(args, result, at, meta)
        if tool == "read_text_file":
            return builder.add("read", tool, input={
                "path": str(args.get("filePath") or ""),
                **{k: args[k] for k in ("offset", "limit") if k in args}},
                output=text, error=_failed(result), at=at, meta=meta)
        if tool in ("grep_search", "search_files"):
            path = args.get("dirPath") or args.get("path") or ""
            return builder.add("read", tool, input={
                "path": str(path), **{k: v for k, v in args.items()
                                      if k not in ("dirPath", "path")}},
                output=text, error=_failed(result), at=at, meta=meta)
        if tool == "get_file_info":
            return builder.add("read", tool, input={"path": str(args.get("filePath") or "")},
                               output=text, error=_failed(result), at=at, meta=meta)
        if tool in ("list-git-repositories", "resolve-git-repository-path"):
            # Workspace discovery, like ls or realpath: a read of where the code is.
            return builder.add("read", tool, input={"path": str(args.get("repoURL") or ""),
                                                    **args}, output=text, at=at, meta=meta)
        if tool == "edit_file":
            return builder.add("edit", tool, input={
                "path": str(args.get("filePath") or ""), "old": args.get("old_string", ""),
                "new": args.get("new_string", "")}, output=text or None,
                error=_failed(result), at=at, meta=meta)
        if tool == "write_file":
            op = "modify" if text.startswith("Successfully overwrote") else "create"
            return builder.add("edit", tool, input={
                "path": str(args.get("filePath") or ""), "op": op,
                "content": args.get("content", "")}, output=text or None,
                error=_failed(result), at=at, meta=meta)
        self.unknown_tools[tool] += 1
        return builder.tool_call(tool, args, text or None, error=_failed(result), at=at,
                                 meta=meta)

    def _bash(self, args: dict[str, Any], result: Any, at: float | None,
              meta: dict[str, Any]) -> Step:
        command = str(args.get("command") or "")
        name = "bash_execute"
        if args.get("working_dir"):
            meta["cwd"] = args["working_dir"]
        if not isinstance(result, dict):
            # The tool's own failure text ("Error: command timed out after 1m0s"), or nothing.
            text = text_of(result)
            timed_out = "timed out" in text
            step = self.builder.shell(command, text, timed_out=timed_out, name=name, at=at,
                                      error=_failed(result), meta=meta)
            return step
        stdout = text_of(result.get("stdout"))
        stderr = text_of(result.get("stderr"))
        code = result.get("exitCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        if args.get("run_in_background"):
            # Only started here; the job tool's output is the run (see _job).
            job = result.get("jobId")
            if isinstance(job, str):
                self.jobs[job] = command
            return self.builder.add("command", name, input={"command": command,
                                                            "background": True},
                                    output={"exit_code": code, "stdout": stdout,
                                            "stderr": stderr, "timed_out": False},
                                    at=at, meta={**meta, "job_id": job})
        combined = stdout if not stderr else (f"{stdout}\n{stderr}" if stdout else stderr)
        step = self.builder.shell(command, combined, exit_code=code, name=name, at=at, meta=meta)
        if isinstance(step.output, dict):
            step.output["stdout"] = stdout
            step.output["stderr"] = stderr
        return step

    def _job(self, args: dict[str, Any], result: Any, at: float | None,
             meta: dict[str, Any]) -> Step:
        """A background job's output is the run of the command that started it."""
        job = args.get("jobId")
        command = self.jobs.get(job) if isinstance(job, str) else None
        out = _dict(result)
        if command is None or args.get("action") != "output" or not out:
            return self.builder.tool_call("job", args, text_of(result) or None, at=at, meta=meta)
        code = out.get("exitCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        step = self.builder.shell(command, text_of(out.get("output")), exit_code=code,
                                  name="job", at=at,
                                  meta={**meta, "job_id": job, "job_status": out.get("status")})
        return step
