"""Codex CLI rollout files (``~/.codex/sessions/.../rollout-*.jsonl``).

Records are ``{"timestamp", "type", "payload"}``. ``response_item`` payloads carry the model
conversation: ``message`` (user / assistant / developer), ``reasoning``, ``function_call`` /
``local_shell_call`` / ``custom_tool_call`` (``shell``, ``exec_command``, ``apply_patch``) and
their ``*_output`` by ``call_id``. ``event_msg`` records repeat the same content for the UI and
are skipped, except ``token_count`` (usage), ``task_complete`` and ``turn_aborted``.

The ``shell`` tool takes an argv list; Codex wraps the model's command in it as
``["bash", "-lc", CMD]`` (``zsh -lc`` on macOS), so the step's command is ``CMD`` itself, its
quoting as the model wrote it, and the wrapper goes to ``meta["shell"]``. A shell call's output
is a JSON string ``{"output", "metadata": {"exit_code", "duration_seconds"}}``; when Codex could
not run the command at all (the sandbox refused it, the program was missing) it is plain text,
which becomes the step's error, with the exit code the text names, if any.

How a run ends: 0.40 and earlier write no ``task_complete``. A rollout has then *ended* when its
last model item is an assistant ``message`` (the turn's final answer) and every call before it
has its output; the run is ``completed``. A rollout that stops on a call, its output or a
reasoning item was cut off mid-turn and keeps no end record (``aborted_run``), as does one with
a ``turn_aborted`` event (the user interrupted it).
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
    unwrap_shell,
)
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_CALLS = {"function_call", "local_shell_call", "custom_tool_call"}
_OUTPUTS = {"function_call_output", "local_shell_call_output", "custom_tool_call_output"}
#: The heading before the user's own words in a prompt from the IDE extension (``codex_vscode``);
#: what comes before it (open tabs, selection) is context, not the task.
_IDE_REQUEST = "## My request for Codex:"
_FAILED_EXIT = re.compile(r"\bexit code:? (-?\d+)", re.I)


def _output_text(payload: dict[str, Any]) -> tuple[str, int | None, bool]:
    """(text, exit code, whether the call's output is the plain-text failure of a command that
    could not run)."""
    output = payload.get("output")
    if isinstance(output, str):
        try:
            parsed = json.loads(output)
        except ValueError:
            return output, None, True
        if isinstance(parsed, dict):
            meta = parsed.get("metadata")
            code = meta.get("exit_code") if isinstance(meta, dict) else None
            return text_of(parsed.get("output")), code if isinstance(code, int) else None, False
        return output, None, False
    return text_of(output), None, False


def _arguments(payload: dict[str, Any]) -> Any:
    args: Any = payload.get("arguments") or payload.get("input") or payload.get("action") or {}
    if isinstance(args, str) and payload.get("type") == "function_call":
        try:
            parsed = json.loads(args)
        except ValueError:
            return args
        return parsed if isinstance(parsed, dict) else args
    return args


def end_status(items: list[dict[str, Any]], events: list[dict[str, Any]]) -> EndStatus | None:
    """``completed`` when the rollout says so (``task_complete``) or, for versions that write no
    such record, when it ends on the assistant's answer with every call answered; ``None``
    (no end record) for a rollout cut off mid-turn or interrupted (see the module docstring)."""
    kinds = {e.get("type") for e in events}
    if "turn_aborted" in kinds:
        return None
    if "task_complete" in kinds:
        return "completed"
    answered = {p.get("call_id") for p in items if p.get("type") in _OUTPUTS}
    if any(p.get("type") in _CALLS and p.get("call_id") not in answered for p in items):
        return None
    model = [p for p in items if p.get("type") != "reasoning"]
    if model and model[-1].get("type") == "message" and model[-1].get("role") == "assistant":
        return "completed"
    return None


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
        events = [r.get("payload") or {} for r in records if r.get("type") == "event_msg"]
        outputs = {p.get("call_id"): p for _, p in items if p.get("type") in _OUTPUTS}
        users = [text_of(p.get("content")) for _, p in items
                 if p.get("type") == "message" and p.get("role") == "user"]
        prompt = next((u for u in reversed(users) if not u.lstrip().startswith(("<", "#"))
                       or _IDE_REQUEST in u), users[-1] if users else "")
        ide_context = None
        if _IDE_REQUEST in prompt:  # the VS Code extension puts its open tabs before the ask
            ide_context, prompt = (part.strip() for part in prompt.split(_IDE_REQUEST, 1))
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, meta.get("id") or path.name),
            task=TaskInfo(id=str(meta.get("id") or path.stem),
                          description=clip(prompt, 4000) or None),
            agent=AgentInfo(name="codex", version=meta.get("cli_version"), model=model),
            meta={"cwd": meta.get("cwd"), "originator": meta.get("originator"),
                  **({"ide_context": clip(ide_context, 4000)} if ide_context else {})},
        )
        for record, payload in items:
            at = to_epoch(record.get("timestamp"))
            kind = payload.get("type")
            if kind == "message" and payload.get("role") in ("user", "assistant"):
                builder.message(text_of(payload.get("content")), role=payload["role"], at=at)
            elif kind == "reasoning":
                builder.message(text_of(payload.get("summary")), role="reasoning", at=at)
            elif kind in _CALLS:
                self._call(builder, payload, outputs.get(payload.get("call_id")), at)
        return [builder.build(end_status([p for _, p in items], events))]

    @staticmethod
    def _call(builder: TraceBuilder, payload: dict[str, Any], answer: dict[str, Any] | None,
              at: float | None) -> None:
        text, code, failed = _output_text(answer or {})
        name = str(payload.get("name") or "shell")
        args = _arguments(payload)
        step_meta: dict[str, Any] = {} if answer else {"unanswered": True}
        command = args.get("command") if isinstance(args, dict) else None
        is_shell = name in ("shell", "local_shell", "container.exec") or \
            payload.get("type") == "local_shell_call"
        if is_shell and isinstance(command, (list, str)):
            inner, wrapper = unwrap_shell(command)
            if wrapper:
                step_meta["shell"] = wrapper
            workdir = args.get("workdir") if isinstance(args, dict) else None
            if workdir:
                step_meta["workdir"] = workdir
            error = None
            if failed and answer:
                error = clip(text, 2000)
                match = _FAILED_EXIT.search(text)
                code = int(match.group(1)) if match else None
            builder.shell(inner, text, exit_code=code, name=name, at=at, error=error,
                          meta=step_meta or None)
            return
        if isinstance(args, dict) and "exit_code" not in args and code is not None:
            args = {**args, "exit_code": code}
        elif isinstance(args, str) and name == "apply_patch":
            args = {"patch": args, "path": ""}
        builder.tool_call(name, args, text, at=at, meta=step_meta or None)
