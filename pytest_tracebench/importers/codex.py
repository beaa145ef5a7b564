"""Codex CLI rollout files (``~/.codex/sessions/.../rollout-*.jsonl``).

Records are ``{"timestamp", "type", "payload"}``. ``response_item`` payloads carry the model
conversation: ``message`` (user / assistant / developer), ``reasoning``, ``function_call`` /
``local_shell_call`` / ``custom_tool_call`` (``shell``, ``exec_command``, ``apply_patch``) and
their ``*_output`` by ``call_id``. ``event_msg`` records repeat the same content for the UI and
are skipped, except ``token_count`` (usage) and ``task_complete``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..models import AgentInfo, TaskInfo, Trace
from ..redaction import clip
from ._build import TraceBuilder, json_lines, stable_id, text_of, to_epoch

_CALLS = {"function_call", "local_shell_call", "custom_tool_call"}
_OUTPUTS = {"function_call_output", "local_shell_call_output", "custom_tool_call_output"}


def _output_text(payload: dict[str, Any]) -> tuple[str, int | None]:
    output = payload.get("output")
    if isinstance(output, str):
        try:
            parsed = json.loads(output)
        except ValueError:
            return output, None
        if isinstance(parsed, dict):
            meta = parsed.get("metadata") or {}
            return text_of(parsed.get("output")), meta.get("exit_code")
        return output, None
    return text_of(output), None


class CodexImporter:
    name = "codex"
    description = "Codex CLI rollout JSONL"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.lstrip().split(b"\n", 1)[0]
        return b'"type":"session_meta"' in first.replace(b" ", b"") and b'"payload"' in first

    def load(self, path: Path) -> list[Trace]:
        records = [record for _, record in json_lines(path.read_text(encoding="utf-8"))]
        meta = next((r.get("payload") or {} for r in records
                     if r.get("type") == "session_meta"), {})
        model = next(((r.get("payload") or {}).get("model") for r in records
                      if r.get("type") == "turn_context"), None)
        items = [(r, r.get("payload") or {}) for r in records if r.get("type") == "response_item"]
        outputs = {p.get("call_id"): p for _, p in items if p.get("type") in _OUTPUTS}
        users = [text_of(p.get("content")) for _, p in items
                 if p.get("type") == "message" and p.get("role") == "user"]
        prompt = next((u for u in reversed(users) if not u.lstrip().startswith(("<", "#"))),
                      users[-1] if users else "")
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, meta.get("id") or path.name),
            task=TaskInfo(id=str(meta.get("id") or path.stem),
                          description=clip(prompt, 4000) or None),
            agent=AgentInfo(name="codex", version=meta.get("cli_version"), model=model),
            meta={"cwd": meta.get("cwd"), "originator": meta.get("originator")},
        )
        for record, payload in items:
            at = to_epoch(record.get("timestamp"))
            kind = payload.get("type")
            if kind == "message" and payload.get("role") in ("user", "assistant"):
                builder.message(text_of(payload.get("content")), role=payload["role"], at=at)
            elif kind == "reasoning":
                builder.message(text_of(payload.get("summary")), role="reasoning", at=at)
            elif kind in _CALLS:
                answer = outputs.get(payload.get("call_id"), {})
                text, code = _output_text(answer)
                name = str(payload.get("name") or "shell")
                args: Any = payload.get("arguments") or payload.get("input") or \
                    payload.get("action") or {}
                if isinstance(args, dict) and "exit_code" not in args and code is not None:
                    args = {**args, "exit_code": code}
                elif isinstance(args, str) and name == "apply_patch":
                    args = {"patch": args, "path": ""}
                builder.tool_call(name, args, text, at=at,
                                  meta=None if answer else {"unanswered": True})
        complete = any(r.get("type") == "event_msg" and (r.get("payload") or {}).get("type")
                       == "task_complete" for r in records)
        return [builder.build("completed" if complete else None)]
