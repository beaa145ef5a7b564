"""Gemini CLI session recordings, both shapes its ``chatRecordingService`` has written:

- ``session-*.json``: one object ``{"sessionId", "projectHash", "messages": [...]}``;
- ``session-*.jsonl`` (newer): a metadata line ``{"sessionId", "projectHash", ...}``, then one
  line per message record (a record written again under the same ``id`` replaces the earlier
  one: tokens and tool calls are added to a message after it is first written), ``{"$set":
  {...}}`` metadata updates (a ``messages`` list there replaces the whole history) and
  ``{"$rewindTo": id}``, which drops that message and everything after it.

A tool call's ``result`` is the function response sent back to the model: its ``output`` (or
``error``) is the step's output. ``run_shell_command`` answers ``Command: ... Output: ...
Exit Code: N ...``: the output and exit code are taken from there. A call whose ``status`` is
``cancelled`` (the user stopped it) or ``error`` is an error step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import (
    TraceBuilder,
    json_lines,
    stable_id,
    text_of,
    to_epoch,
)
from pytest_tracebench.models import AgentInfo, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_SHELL = re.compile(r"^Output: (?P<output>.*?)\nError: (?P<error>.*?)\nExit Code: (?P<code>\S+)",
                    re.S | re.M)
_ROLES = {"user": "user", "gemini": "assistant", "info": "system", "warning": "system",
          "error": "system"}


def _response(result: Any) -> tuple[str, str | None]:
    """(output, error) of a recorded tool result (a list of ``functionResponse`` parts)."""
    parts = result if isinstance(result, list) else [result]
    outputs: list[str] = []
    errors: list[str] = []
    for part in parts:
        response = part.get("functionResponse", {}).get("response") \
            if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict) else None
        if isinstance(response, dict):
            if "output" in response:
                outputs.append(text_of(response["output"]))
            if response.get("error"):
                errors.append(text_of(response["error"]))
        elif part is not None:
            outputs.append(text_of(part))
    return "\n".join(o for o in outputs if o), "\n".join(errors) or None


def _messages_of_jsonl(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metadata, messages) of a JSONL recording, replayed as the CLI itself loads it."""
    metadata: dict[str, Any] = {}
    messages: dict[str, dict[str, Any]] = {}
    replaced: list[dict[str, Any]] | None = None
    for _, record in json_lines(text):
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("$rewindTo"), str):
            ids = list(messages)
            cut = ids.index(record["$rewindTo"]) if record["$rewindTo"] in messages else 0
            for gone in ids[cut:]:
                del messages[gone]
        elif isinstance(record.get("id"), str):
            messages[record["id"]] = record
        elif isinstance(record.get("$set"), dict):
            update = record["$set"]
            if isinstance(update.get("messages"), list):
                replaced = [m for m in update["messages"] if isinstance(m, dict)]
            metadata.update({k: v for k, v in update.items() if k != "messages"})
        elif isinstance(record.get("sessionId"), str):
            metadata.update(record)
    return metadata, replaced if replaced else list(messages.values())


class GeminiCliImporter:
    name = "gemini-cli"
    description = "Gemini CLI session recording (session-*.json, session-*.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if b'"sessionId"' not in head or b'"projectHash"' not in head:
            return False
        if b'"messages"' in head:
            return True
        # the JSONL recording: its first line is the metadata record
        first = head.lstrip().split(b"\n", 1)[0]
        try:
            record = json.loads(first)
        except ValueError:
            return False
        return isinstance(record, dict) and "sessionId" in record and "projectHash" in record \
            and "messages" not in record and "type" not in record

    def load(self, path: Path) -> list[Trace]:
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            metadata, raw = data, data["messages"]
        else:
            metadata, raw = _messages_of_jsonl(text)
            if not metadata.get("sessionId"):
                raise ValueError("no session metadata line (sessionId, projectHash)")
        messages = [m for m in raw if isinstance(m, dict)]
        first_user = next((text_of(m.get("content")) for m in messages
                           if m.get("type") == "user"), "")
        model = next((m.get("model") for m in messages if m.get("model")), None)
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, metadata.get("sessionId")),
            task=TaskInfo(id=str(metadata.get("sessionId") or path.stem),
                          description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="gemini-cli", model=model),
            started_at=to_epoch(metadata.get("startTime")),
        )
        for message in messages:
            self._message(builder, message)
        return [builder.build("completed", ended_at=to_epoch(metadata.get("lastUpdated")))]

    def _message(self, builder: TraceBuilder, message: dict[str, Any]) -> None:
        at = to_epoch(message.get("timestamp"))
        role = _ROLES.get(str(message.get("type")), "assistant")
        for thought in message.get("thoughts") or []:
            builder.message(text_of(thought.get("description") if isinstance(thought, dict)
                                    else thought), role="reasoning", at=at)
        tokens = message.get("tokens") or {}
        meta = {"usage": {"input_tokens": tokens.get("input"),
                          "output_tokens": tokens.get("output")}} \
            if isinstance(tokens, dict) and tokens else None
        builder.message(text_of(message.get("content")), role=role, at=at, meta=meta)
        for call in message.get("toolCalls") or []:
            if isinstance(call, dict):
                self._call(builder, call, at)

    def _call(self, builder: TraceBuilder, call: dict[str, Any], at: float | None) -> None:
        name = str(call.get("name") or "tool")
        raw_args = call.get("args")
        args: dict[str, Any] = dict(raw_args) if isinstance(raw_args, dict) else {}
        if "absolute_path" in args and not args.get("file_path") and not args.get("path"):
            args["file_path"] = args.pop("absolute_path")
        output, error = _response(call.get("result"))
        status = call.get("status")
        at = to_epoch(call.get("timestamp")) or at
        meta = {"cancelled": True} if status == "cancelled" else None
        if status in ("cancelled", "error"):
            error = error or output or str(status)
        if name == "run_shell_command":
            shell = _SHELL.search(output)
            exit_code = None
            if shell is not None:
                code = shell.group("code")
                exit_code = int(code) if code.lstrip("-").isdigit() else None
                output = shell.group("output")
                if output == "(empty)":
                    output = ""
                stderr = shell.group("error")
                if stderr and stderr != "(none)":
                    output = f"{output}\n{stderr}" if output else stderr
            builder.shell(str(args.get("command") or ""), output, exit_code=exit_code,
                          name=name, at=at, error=error, meta=meta)
            return
        builder.tool_call(name, args, output, error=error, at=at, meta=meta)
