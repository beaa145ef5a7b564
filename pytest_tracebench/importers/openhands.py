"""OpenHands trajectories: V0 event lists (trajectory JSON, evaluation ``output.jsonl``, the
file store's ``sessions/<id>/events/<n>.json``), the resolver's ``output.jsonl``, and V1 SDK
conversations: the persisted folder (``base_state.json`` + ``events/event-NNNNN-<uuid>.json``),
an ``events.jsonl`` stream of the same events, and the V1 evaluation ``output.jsonl`` whose
``history`` holds them.

V0 actions (``run``, ``read``, ``edit``, ``write``, ``think``, ``finish``, ``message``,
``run_ipython``) are answered by observations that name them in ``cause``; V1 ``ActionEvent``\\ s
(``action`` a dict with its ``kind``) are answered by ``ObservationEvent``\\ s with the same
``tool_call_id``. A V1 observation's text is its ``content`` blocks (``TerminalObservation``) or
its ``output`` (``ExecuteBashObservation``), its exit code ``exit_code`` or
``metadata.exit_code`` (``-1``: not known). An observation whose action is not in the file is
counted in a warning, not turned into a step.

The V1 evaluation rows write ``metadata``, ``test_result`` and ``metrics`` as Python ``repr``
strings; the model is read from ``metadata`` with ``ast.literal_eval`` (literals only). Verdicts
(``test_result``, the resolver's ``success``) are never read.
"""

from __future__ import annotations

import ast
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
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_SDK_EVENT = re.compile(rb'"kind"\s*:\s*"[A-Za-z]+Event"')
_SKIP_ACTIONS = {"system", "recall", "change_agent_state", "null"}


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _exit_code(extras: dict[str, Any]) -> int | None:
    code = _as_dict(extras.get("metadata")).get("exit_code", extras.get("exit_code"))
    return code if isinstance(code, int) and code != -1 else None


def add_v0_events(builder: TraceBuilder, events: list[dict[str, Any]],
                  patch: str | None = None) -> EndStatus:
    """Steps from V0 events; returns the run's final state (``finished``, ``error``, ...)."""
    answers = {str(e.get("cause")): e for e in events
               if e.get("observation") and e.get("cause") is not None}
    state: EndStatus = "completed"
    for event in events:
        action = event.get("action")
        observation = event.get("observation")
        at = to_epoch(event.get("timestamp"))
        if observation == "agent_state_changed":
            agent_state = _as_dict(event.get("extras")).get("agent_state")
            if agent_state in ("error", "stopped"):
                state = "error"
            continue
        if observation == "error" and event.get("cause") is None:
            builder.add("error", "agent_error", error=clip(text_of(event.get("content")), 2000),
                        at=at)
            state = "error"
            continue
        if not action or action in _SKIP_ACTIONS:
            continue
        args = _as_dict(event.get("args"))
        answer = answers.get(str(event.get("id")), {})
        content = text_of(answer.get("content"))
        extras = _as_dict(answer.get("extras"))
        thought = args.get("thought")
        if thought and action not in ("think", "message", "finish"):
            builder.message(str(thought), role="assistant", at=at)
        if action == "message":
            role = "user" if event.get("source") == "user" else "assistant"
            builder.message(text_of(args.get("content") or event.get("message")), role=role,
                            at=at)
        elif action == "run":
            builder.shell(str(args.get("command", "")), content, exit_code=_exit_code(extras),
                          at=at, ended_at=to_epoch(answer.get("timestamp")))
        elif action == "run_ipython":
            builder.add("command", "run_ipython", input={"command": args.get("code", "")},
                        output={"exit_code": None, "stdout": content}, at=at)
        elif action == "read":
            builder.add("read", "read", input={"path": args.get("path", "")}, output=content,
                        at=at)
        elif action in ("edit", "write"):
            sub = args.get("command") or ("create" if action == "write" else "str_replace")
            editor_args = {"command": sub, "path": args.get("path", ""),
                           "old_str": args.get("old_str"), "new_str": args.get("new_str"),
                           "file_text": args.get("file_text") or args.get("content")}
            builder.tool_call("str_replace_editor", editor_args, content,
                              is_error=content.lstrip().startswith("ERROR"), at=at)
        elif action == "think":
            builder.message(str(args.get("thought", "")), role="reasoning", at=at)
        elif action == "finish":
            final = args.get("final_thought") or args.get("thought") or event.get("message")
            builder.message(text_of(final), at=at)
            builder.add("submit", "finish", input={"patch": patch} if patch else
                        {"answer": text_of(final)}, at=at)
        else:
            builder.add("tool", str(action), input=args, output=content or None, at=at)
    return state


def _literal(value: Any) -> dict[str, Any]:
    """A dict written as JSON or as a Python ``repr`` string (V1 evaluation rows)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _v1_exit_code(observation: dict[str, Any]) -> int | None:
    code = observation.get("exit_code")
    if not isinstance(code, int) or isinstance(code, bool):
        code = _as_dict(observation.get("metadata")).get("exit_code")
    return code if isinstance(code, int) and not isinstance(code, bool) and code != -1 else None


def is_v1_events(events: list[Any]) -> bool:
    """True for SDK events (each names its ``kind``; an ``ActionEvent``'s action is a dict)."""
    return any(isinstance(e, dict) and str(e.get("kind", "")).endswith("Event") for e in events)


def add_v1_events(builder: TraceBuilder, events: list[dict[str, Any]]) -> EndStatus | None:
    """Steps from V1 SDK events; returns the end status the events show: ``completed`` after a
    ``FinishAction`` or ``execution_status: finished``, ``error`` after an error status, None
    when they stop before either (a stream cut off while the conversation was running)."""
    events = [e for e in events if isinstance(e, dict)]
    observations = {e.get("tool_call_id"): e for e in events
                    if e.get("kind") == "ObservationEvent"}
    acted = {e.get("tool_call_id") for e in events if e.get("kind") == "ActionEvent"}
    orphans = [k for k in observations if k not in acted]
    status: EndStatus | None = None
    finished = False
    for event in events:
        at = to_epoch(event.get("timestamp"))
        kind = event.get("kind")
        if kind == "MessageEvent":
            message = _as_dict(event.get("llm_message"))
            builder.message(text_of(message.get("content")),
                            role="user" if message.get("role") == "user" else "assistant",
                            at=at)
        elif kind == "ActionEvent":
            builder.message(text_of(event.get("thought")), at=at)
            action = _as_dict(event.get("action"))
            answer = _as_dict(observations.get(event.get("tool_call_id")))
            observation = _as_dict(answer.get("observation"))
            args = {k: v for k, v in action.items() if k != "kind"}
            name = str(event.get("tool_name") or action.get("kind") or "tool")
            if name == "file_editor":
                name = "str_replace_editor"
            code = _v1_exit_code(observation)
            if code is not None:
                args["exit_code"] = code
            text = text_of(observation.get("content") if "content" in observation
                           else observation.get("output", observation.get("message")))
            builder.tool_call(name, args, text, is_error=bool(observation.get("is_error")
                                                              or observation.get("error")),
                              at=at, ended_at=to_epoch(answer.get("timestamp")),
                              meta=None if answer else {"unanswered": True})
            finished = finished or action.get("kind") == "FinishAction"
        elif kind == "AgentErrorEvent":
            builder.add("error", "agent_error", error=clip(text_of(event.get("error")), 2000),
                        at=at)
        elif kind == "ConversationStateUpdateEvent" and event.get("key") == "execution_status":
            value = str(event.get("value") or "").lower()
            status = "completed" if value == "finished" else "error" if value in (
                "error", "stuck") else None
    if orphans:
        builder.warnings.append(f"{builder.header.source.path}: {len(orphans)} observation(s) "
                                "without their action in the file; not made steps")
    return "completed" if finished and status is None else status


def _first_user(events: list[dict[str, Any]]) -> str:
    return next((text_of(_as_dict(e.get("args")).get("content") or e.get("message"))
                 for e in events if e.get("source") == "user" and e.get("action") == "message"),
                "")


class OpenHandsImporter:
    name = "openhands"
    description = "OpenHands trajectory (V0 event list / output.jsonl / session folder, V1 SDK)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return (path / "events").is_dir()
        text = head.lstrip()
        if text.startswith(b"["):
            return b'"source"' in head[:4096] and (b'"action"' in head
                                                    or b'"observation"' in head)
        first = text.split(b"\n", 1)[0]
        if _SDK_EVENT.search(first) and b'"source"' in first and b'"history"' not in first:
            return True  # an SDK events.jsonl stream
        if b'"history"' in head and b'"git_patch"' in head and b'"issue"' in head and \
                b'"base_commit"' in head:
            return True  # the resolver's output.jsonl
        return b'"instance_id"' in head and b'"history"' in head and b'"metadata"' in head

    def load(self, path: Path) -> list[Trace]:
        if path.is_dir():
            if (path / "base_state.json").is_file():
                return [self._sdk(path)]
            return [self._session(path)]
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):
            events = json.loads(text)
            return [self._events(path, events, path.stem, None, None)]
        rows = list(json_lines(text))
        if rows and is_v1_events([rows[0][1]]) and "history" not in rows[0][1]:
            return [self._stream(path, [row for _, row in rows if isinstance(row, dict)])]
        traces = []
        for lineno, row in rows:
            if "issue" in row and "instance_id" not in row:
                traces.append(self._resolver(path, lineno, row))
                continue
            metadata = _literal(row.get("metadata"))
            model = _as_dict(metadata.get("llm_config") or metadata.get("llm")).get("model")
            patch = _literal(row.get("test_result")).get("git_patch")
            task_id = str(row.get("instance_id") or f"{path.stem}:{lineno}")
            history = row.get("history") or []
            if is_v1_events(history):
                traces.append(self._v1_row(path, row, task_id, model, history))
                continue
            traces.append(self._events(path, history, task_id, model, patch,
                                       agent=metadata.get("agent_class"),
                                       description=row.get("instruction")))
        return traces

    def _v1_row(self, path: Path, row: dict[str, Any], task_id: str, model: str | None,
                history: list[dict[str, Any]]) -> Trace:
        """A V1 evaluation row: written once the conversation is over, so it has ended
        (``completed``, or ``error`` when the row carries one) whatever its events show."""
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, str(path), task_id),
            task=TaskInfo(id=task_id, description=clip(text_of(row.get("instruction")), 4000)
                          or None),
            agent=AgentInfo(name="openhands-sdk", model=model))
        status = add_v1_events(builder, history)
        error = row.get("error")
        if error not in (None, "", "None"):
            builder.add("error", "evaluation_error", error=clip(text_of(error), 2000))
            status = "error"
        return builder.build(status or "completed")

    def _stream(self, path: Path, events: list[dict[str, Any]]) -> Trace:
        """An SDK ``events.jsonl`` stream: its end status is what its events show."""
        model = next((_as_dict(e.get("value")).get("usage_to_metrics") for e in events
                      if e.get("key") == "stats"), None)
        model_name = next((m.get("model_name") for m in _as_dict(model).values()
                           if isinstance(m, dict)), None)
        first_user = next((text_of(_as_dict(e.get("llm_message")).get("content"))
                           for e in events if e.get("kind") == "MessageEvent"
                           and e.get("source") == "user"), "")
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, str(path)),
            task=TaskInfo(id=path.stem, description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="openhands-sdk", model=model_name))
        return builder.build(add_v1_events(builder, events))

    def _resolver(self, path: Path, lineno: int, row: dict[str, Any]) -> Trace:
        """One resolver row (``ResolverOutput``): the issue, the instruction, the V0 (or V1)
        history and the patch; ``success`` and its explanation are the resolver's own verdict
        and are not read."""
        issue = _as_dict(row.get("issue"))
        task_id = f"{issue.get('owner', '')}/{issue.get('repo', '')}#{issue.get('number', '')}"
        if task_id == "/#":
            task_id = f"{path.stem}:{lineno}"
        history = row.get("history") or []
        patch = row.get("git_patch")
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, str(path), task_id),
            task=TaskInfo(id=task_id, description=clip(text_of(
                row.get("instruction") or issue.get("body")), 4000) or None),
            agent=AgentInfo(name="openhands-resolver", model=row.get("model")),
            meta={k: row[k] for k in ("issue_type", "base_commit") if row.get(k)})
        if is_v1_events(history):
            status: EndStatus | None = add_v1_events(builder, history) or "completed"
        else:
            status = add_v0_events(builder, history, patch if isinstance(patch, str) else None)
        if row.get("error"):
            builder.add("error", "resolver_error", error=clip(text_of(row.get("error")), 2000))
            status = "error"
        return builder.build(status, {"submitted": bool(patch)} if patch is not None else {})

    def _events(self, path: Path, events: list[dict[str, Any]], task_id: str,
                model: str | None, patch: str | None, agent: str | None = None,
                description: str | None = None) -> Trace:
        builder = TraceBuilder(
            format=self.name, path=path, trace_id=stable_id(self.name, str(path), task_id),
            task=TaskInfo(id=task_id, description=clip(description or _first_user(events), 4000)
                          or None),
            agent=AgentInfo(name="openhands", model=model, **({"agent_class": agent}
                                                              if agent else {})),
        )
        state = add_v0_events(builder, events, patch)
        return builder.build(state, {"submitted": bool(patch)} if patch is not None else {})

    def _session(self, folder: Path) -> Trace:
        files = sorted((folder / "events").glob("*.json"),
                       key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
        events = [json.loads(p.read_text(encoding="utf-8")) for p in files]
        meta_file = folder / "metadata.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        return self._events(folder, events, str(meta.get("conversation_id") or folder.name),
                            meta.get("llm_model"), None)

    def _sdk(self, folder: Path) -> Trace:
        state = json.loads((folder / "base_state.json").read_text(encoding="utf-8"))
        model = _as_dict(_as_dict(state.get("agent")).get("llm")).get("model")
        events = [json.loads(p.read_text(encoding="utf-8"))
                  for p in sorted((folder / "events").glob("event-*.json"))]
        first_user = next((text_of(_as_dict(e.get("llm_message")).get("content"))
                           for e in events if e.get("kind") == "MessageEvent"
                           and e.get("source") == "user"), "")
        builder = TraceBuilder(
            format=self.name, path=folder,
            trace_id=stable_id(self.name, str(state.get("id") or folder.name)),
            task=TaskInfo(id=str(state.get("id") or folder.name),
                          description=clip(first_user, 4000) or None),
            agent=AgentInfo(name="openhands-sdk", model=model),
        )
        add_v1_events(builder, events)
        status = str(state.get("execution_status") or state.get("agent_status") or "")
        return builder.build("error" if "error" in status.lower() else "completed",
                             {"execution_status": status} if status else {})
