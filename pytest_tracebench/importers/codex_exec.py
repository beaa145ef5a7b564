"""``codex exec --json`` event streams (Harbor keeps them as ``agent/codex.txt``).

One JSON event a line: ``thread.started`` (``thread_id``), ``turn.started``, ``item.started`` /
``item.updated`` / ``item.completed`` (an ``item`` with ``id`` and ``type``), ``turn.completed``
(``usage``), ``turn.failed`` and ``error``. A step is made from each item's last state, in the
order items first appeared: ``agent_message`` and ``reasoning`` become messages,
``command_execution`` a shell step (the command without its ``bash -lc`` wrapper, exit code and
``aggregated_output``), ``file_change`` one edit a changed file, ``mcp_tool_call`` and
``web_search`` tool steps, ``todo_list`` the plan as a reasoning message, an ``error`` item an
error step. Older streams name the type ``item_type`` and the answer ``assistant_message``.

The stream does not repeat the prompt (it was the command line's argument), so the task has no
description. Lines that are not JSON (a harness that tees stderr into the same file) and event
or item types not listed above are skipped and counted in one warning. A stream whose last turn
ended with ``turn.completed`` is ``completed``, one with ``turn.failed`` an ``error``; one that
stops mid-turn keeps no end record (an item still ``in_progress`` is marked ``unanswered``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of, unwrap_shell
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_ITEM_EVENTS = {"item.started", "item.updated", "item.completed"}
_KNOWN_EVENTS = _ITEM_EVENTS | {"thread.started", "turn.started", "turn.completed",
                                "turn.failed", "error"}
_EDIT_OPS = {"add": "create", "delete": "delete", "update": "modify"}


def _item_type(item: dict[str, Any]) -> str:
    kind = str(item.get("type") or item.get("item_type") or "")
    return "agent_message" if kind == "assistant_message" else kind


class CodexExecImporter:
    name = "codex-exec"
    description = "codex exec --json event stream"

    def sniff(self, path: Path, head: bytes) -> bool:
        compact = head.replace(b" ", b"")
        return b'{"type":"thread.started"' in compact or (
            b'{"type":"item.completed","item":{' in compact
            and b'{"type":"turn.started"' in compact)

    def load(self, path: Path) -> list[Trace]:
        events: list[dict[str, Any]] = []
        skipped: Counter[str] = Counter()
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                skipped["non-JSON line"] += 1
                continue
            if isinstance(event, dict):
                events.append(event)
            else:
                skipped["non-object line"] += 1
        thread = next((str(e.get("thread_id")) for e in events
                       if e.get("type") == "thread.started" and e.get("thread_id")), "")
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, thread or path.name),
            task=TaskInfo(id=thread or path.stem), agent=AgentInfo(name="codex"),
            meta={"thread_id": thread} if thread else {})
        items: dict[str, dict[str, Any]] = {}  # id -> last state, in first-seen order
        usage: Counter[str] = Counter()
        status: EndStatus | None = None
        for event in events:
            kind = str(event.get("type"))
            item = event.get("item")
            if kind in _ITEM_EVENTS and isinstance(item, dict):
                key = str(item.get("id") or f"#{len(items)}")
                items[key] = {**item, "_final": kind == "item.completed"}
            elif kind == "turn.started":
                status = None
            elif kind == "turn.completed":
                status = "completed"
                turn_usage = event.get("usage")
                for name, value in (turn_usage if isinstance(turn_usage, dict) else {}).items():
                    if isinstance(value, int):
                        usage[name] += value
            elif kind == "turn.failed":
                status = "error"
                builder.add("error", "turn_failed",
                            error=clip(text_of((event.get("error") or {}).get("message")), 2000))
            elif kind == "error":
                builder.add("error", "error", error=clip(text_of(event.get("message")), 2000))
            elif kind not in _KNOWN_EVENTS:
                skipped[f"event {kind}"] += 1
        for item in items.values():
            self._item(builder, item, skipped)
        if usage:
            builder.header.meta["usage"] = dict(usage)
        if skipped:
            builder.warnings.append(f"{path}: skipped " + ", ".join(
                f"{count} {what}" for what, count in sorted(skipped.items())))
        return [builder.build(status)]

    @staticmethod
    def _item(builder: TraceBuilder, item: dict[str, Any], skipped: Counter[str]) -> None:
        kind = _item_type(item)
        meta = None if item.get("_final") else {"unanswered": True}
        failed = item.get("status") in ("failed", "declined")
        if kind == "agent_message":
            builder.message(text_of(item.get("text")), role="assistant")
        elif kind == "reasoning":
            builder.message(text_of(item.get("text") or item.get("summary")), role="reasoning")
        elif kind == "command_execution":
            command, wrapper = unwrap_shell(str(item.get("command") or ""))
            step_meta = {**(meta or {}), **({"shell": wrapper} if wrapper else {})}
            code = item.get("exit_code")
            output = text_of(item.get("aggregated_output"))
            error = None
            if item.get("status") == "declined" or (failed and not isinstance(code, int)):
                error = clip(output or str(item.get("status")), 2000)
            builder.shell(command, output, exit_code=code if isinstance(code, int) else None,
                          name="command_execution", error=error, meta=step_meta or None)
        elif kind == "file_change":
            for change in item.get("changes") or []:
                op = _EDIT_OPS.get(str(change.get("kind")), "modify")
                builder.add("edit", "file_change", input={"path": str(change.get("path", "")),
                                                          "op": op},
                            error="file change failed" if failed else None, meta=meta)
        elif kind == "mcp_tool_call":
            error = item.get("error")
            result = item.get("result")
            builder.tool_call(str(item.get("tool") or "mcp_tool"), item.get("arguments") or {},
                              text_of((result or {}).get("content")) if isinstance(result, dict)
                              else text_of(result),
                              error=clip(text_of((error or {}).get("message")), 2000)
                              if isinstance(error, dict) else None,
                              meta={**(meta or {}), "server": item.get("server")})
        elif kind == "web_search":
            builder.add("tool", "web_search", input={"query": item.get("query")}, meta=meta)
        elif kind == "todo_list":
            plan = "\n".join(f"[{'x' if t.get('completed') else ' '}] {t.get('text', '')}"
                             for t in item.get("items") or [] if isinstance(t, dict))
            builder.message(plan, role="reasoning", name="todo_list")
        elif kind == "error":
            builder.add("error", "error", error=clip(text_of(item.get("message")), 2000))
        else:
            skipped[f"item {kind or '?'}"] += 1
