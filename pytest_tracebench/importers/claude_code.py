"""Claude Code logs: headless ``--output-format stream-json`` output and session JSONL files.

Both hold Anthropic-style messages: assistant content blocks (``text``, ``thinking``,
``tool_use``) and user blocks (``tool_result`` answering a ``tool_use_id``, or the user's text).
Stream-json adds a ``system/init`` record (model, version, cwd) and a final ``result`` record
(outcome, cost); session files carry ``sessionId``, ``version`` and ``isSidechain`` per record.
Tool calls go through the shared vocabulary (Bash -> command/test/edit/read, Read -> read,
Write/Edit/MultiEdit -> edit, Glob/Grep -> read).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import (
    TraceBuilder,
    json_lines,
    stable_id,
    task_id_for,
    text_of,
    to_epoch,
)
from pytest_tracebench.models import AgentInfo, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

#: Record types that carry no step: the run's setup and end (stream-json), and a session's
#: bookkeeping (summaries, file snapshots, queued prompts, attachments, hooks' system notes).
_STREAM_OTHER = ("system", "result", "stream_event", "rate_limit_event")
_SESSION_OTHER = ("system", "summary", "file-history-snapshot", "queue-operation",
                  "attachment", "last-prompt", "result", "progress", "custom-title")


def _records(path: Path) -> list[dict[str, Any]]:
    return [record for _, record in json_lines(path.read_text(encoding="utf-8"))
            if isinstance(record, dict)]


def _first_json_line(head: bytes) -> dict[str, Any] | None:
    for line in head.split(b"\n")[:5]:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


class _Converter:
    """Shared by both Claude Code formats: messages in, steps out."""

    def __init__(self, builder: TraceBuilder) -> None:
        self.builder = builder
        self.results: dict[str, tuple[Any, bool]] = {}
        self.seen_usage: set[str] = set()
        self.seen_calls: set[str] = set()
        self.final_input: dict[str, Any] = {}
        self.final_record: dict[str, int] = {}

    def collect_results(self, records: list[dict[str, Any]]) -> None:
        """Results by tool_use id, and each call's final input (a streamed call is repeated
        when its message is finalised, sometimes with different arguments: the last one is
        what ran)."""
        for number, record in enumerate(records):
            message = record.get("message")
            if record.get("type") == "assistant" and isinstance(message, dict):
                for block in message.get("content") or []:
                    if isinstance(block, dict) and block.get("type") == "tool_use":
                        self.final_input[str(block.get("id"))] = block.get("input")
                        self.final_record[str(block.get("id"))] = number
            if record.get("type") != "user" or not isinstance(message, dict):
                continue
            for block in message.get("content") or []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    self.results[str(block.get("tool_use_id"))] = (
                        block.get("content"), bool(block.get("is_error")))

    def record(self, record: dict[str, Any], extra_meta: dict[str, Any],
               number: int = -1) -> None:
        message = record.get("message")
        if not isinstance(message, dict):
            return
        at = to_epoch(record.get("timestamp"))
        role = message.get("role") or record.get("type")
        content = message.get("content")
        meta = dict(extra_meta)
        usage = message.get("usage")
        message_id = str(message.get("id") or "")
        if isinstance(usage, dict) and message_id not in self.seen_usage:
            self.seen_usage.add(message_id)
            tokens = {"input_tokens": usage.get("input_tokens"),
                      "output_tokens": usage.get("output_tokens")}
            if any(isinstance(v, int) and v > 0 for v in tokens.values()):
                meta["usage"] = tokens
        if isinstance(content, str):
            self.builder.message(content, role="user" if role == "user" else "assistant",
                                 at=at, meta=meta)
            return
        for block in content or []:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text":
                self.builder.message(block.get("text", ""),
                                     role="user" if role == "user" else "assistant",
                                     at=at, meta=meta)
            elif kind == "thinking":
                self.builder.message(block.get("thinking", ""), role="reasoning", at=at,
                                     meta=meta)
            elif kind == "tool_use":
                call_id = str(block.get("id"))
                if call_id in self.seen_calls or (
                        number >= 0 and self.final_record.get(call_id, number) != number):
                    # The stream emits a call again when its message is finalised (with the
                    # message's text and thinking): the final emission is the one that ran,
                    # at the place it has in the finished message.
                    continue
                self.seen_calls.add(call_id)
                call_meta = {**meta, "tool_use_id": block.get("id")}
                if call_id not in self.results:
                    call_meta["unanswered"] = True  # never executed: no tool_result came back
                result, is_error = self.results.get(call_id, (None, False))
                self.builder.tool_call(str(block.get("name") or "tool"),
                                       self.final_input.get(call_id, block.get("input")),
                                       result, is_error=is_error, at=at, meta=call_meta)
            elif kind not in ("tool_result", "image", "document"):
                # tool_result blocks were matched to their calls; images carry no action.
                self.builder.skip(f"{role} content block {kind!r}")
                continue
            else:
                continue
            meta = dict(extra_meta)  # usage goes on the first step of a message only


class ClaudeCodeStreamImporter:
    name = "claude-code-stream"
    description = "Claude Code --output-format stream-json log"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = _first_json_line(head)
        if first is None:
            return False
        return first.get("type") in ("system", "assistant", "user") and \
            "session_id" in first and "sessionId" not in first

    def load(self, path: Path) -> list[Trace]:
        return [self.from_records(_records(path), path)]

    def from_records(self, records: list[dict[str, Any]], path: Path) -> Trace:
        """The trace of stream-json records however they were read: from a file, or from a
        terminal capture that printed them (a Terminal-Bench ``agent.cast``)."""
        init = next((r for r in records if r.get("type") == "system"
                     and r.get("subtype") == "init"), {})
        result = next((r for r in reversed(records) if r.get("type") == "result"), None)
        session = init.get("session_id") or next(
            (r.get("session_id") for r in records if r.get("session_id")), path.stem)
        first_user = next((text_of((r.get("message") or {}).get("content")) for r in records
                           if r.get("type") == "user"
                           and isinstance((r.get("message") or {}).get("content"), str)), "")
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id("claude-code", session),
            task=TaskInfo(id=task_id_for(path, str(session)),
                          description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="claude-code", version=init.get("claude_code_version"),
                            model=init.get("model")),
            meta={"session_id": session, "cwd": init.get("cwd")},
        )
        converter = _Converter(builder)
        converter.collect_results(records)
        for number, record in enumerate(records):
            if record.get("type") in ("assistant", "user"):
                converter.record(record, {}, number)
            elif record.get("type") not in _STREAM_OTHER:
                builder.skip(f"record type {record.get('type')!r}")
        if result is None:
            builder.warnings.append(f"{path}: no 'result' record: the run did not finish")
            return builder.build(None)
        if result.get("result"):
            builder.message(str(result["result"]), name="final_result")
        outcome = {k: result.get(k) for k in ("subtype", "is_error", "num_turns",
                                              "total_cost_usd", "duration_ms")
                   if result.get(k) is not None}
        return builder.build("error" if result.get("is_error") else "completed", outcome)


class ClaudeCodeSessionImporter:
    name = "claude-code-session"
    description = "Claude Code session JSONL (~/.claude/projects/*.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        for line in head.split(b"\n")[:20]:
            if b'"sessionId"' in line and (b'"type":"user"' in line or b'"type": "user"' in line
                                            or b'"type":"assistant"' in line
                                            or b'"type": "assistant"' in line):
                return True
        return False

    def load(self, path: Path) -> list[Trace]:
        every = _records(path)
        records = [r for r in every if r.get("type") in ("user", "assistant")]
        if not records:
            raise ValueError("no user or assistant records")
        unknown: dict[str, int] = {}
        for record in every:
            if record.get("type") not in ("user", "assistant", *_SESSION_OTHER):
                what = f"record type {record.get('type')!r}"
                unknown[what] = unknown.get(what, 0) + 1
        first = records[0]
        session = first.get("sessionId") or path.stem
        first_user = next((text_of((r.get("message") or {}).get("content")) for r in records
                           if r.get("type") == "user" and not r.get("isMeta")
                           and isinstance((r.get("message") or {}).get("content"), str)), "")
        model = next(((r.get("message") or {}).get("model") for r in records
                      if r.get("type") == "assistant"), None)
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id("claude-code", session, path.name),
            task=TaskInfo(id=str(session), description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="claude-code", version=first.get("version"), model=model),
            meta={"session_id": session, "cwd": first.get("cwd")},
        )
        builder.skipped.update(unknown)
        converter = _Converter(builder)
        converter.collect_results(records)
        for number, record in enumerate(records):
            extra = {"sidechain": True} if record.get("isSidechain") else {}
            converter.record(record, extra, number)
        return [builder.build("completed")]
