"""Gemini CLI session files (``{"sessionId", "projectHash", "messages": [...]}``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..models import AgentInfo, TaskInfo, Trace
from ..redaction import clip
from ._build import TraceBuilder, stable_id, text_of, to_epoch


class GeminiCliImporter:
    name = "gemini-cli"
    description = "Gemini CLI session JSON"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"sessionId"' in head and b'"projectHash"' in head and b'"messages"' in head

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        messages: list[dict[str, Any]] = [m for m in data.get("messages") or []
                                          if isinstance(m, dict)]
        first_user = next((text_of(m.get("content")) for m in messages
                           if m.get("type") == "user"), "")
        model = next((m.get("model") for m in messages if m.get("model")), None)
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, data.get("sessionId")),
            task=TaskInfo(id=str(data.get("sessionId") or path.stem),
                          description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="gemini-cli", model=model),
        )
        for message in messages:
            at = to_epoch(message.get("timestamp"))
            role = "user" if message.get("type") == "user" else "assistant"
            for thought in message.get("thoughts") or []:
                builder.message(text_of(thought.get("description") if isinstance(thought, dict)
                                        else thought), role="reasoning", at=at)
            tokens = message.get("tokens") or {}
            meta = {"usage": {"input_tokens": tokens.get("input"),
                              "output_tokens": tokens.get("output")}} if tokens else None
            builder.message(text_of(message.get("content")), role=role, at=at, meta=meta)
            for call in message.get("toolCalls") or []:
                if isinstance(call, dict):
                    builder.tool_call(str(call.get("name") or "tool"), call.get("args"),
                                      text_of(call.get("result")),
                                      is_error=call.get("status") == "error", at=at)
        return [builder.build("completed")]
