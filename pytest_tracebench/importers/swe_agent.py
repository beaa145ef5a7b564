"""SWE-agent trajectories (``*.traj``), pre-1.0 (state as a JSON string) and 1.x (state dict,
``execution_time``, tool calls), plus history-only demonstration files.

SWE-agent's own commands are mapped by meaning: ``open``/``goto``/``scroll_*``/``search_*``/
``find_file`` read; ``edit``/``insert``/``create`` change the open file (an edit the tool
rejected, "Your proposed edit has introduced new syntax error(s)", keeps that as its ``error``);
``submit`` submits ``info.submission``; anything else is a shell command.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from ..models import AgentInfo, EndStatus, TaskInfo, Trace
from ._build import TraceBuilder, stable_id, text_of

_READ_COMMANDS = {"open", "goto", "scroll_up", "scroll_down", "search_file", "search_dir",
                  "find_file", "view"}
_EDIT_REJECTED = ("Your proposed edit has introduced new syntax error",
                  "Your edit was not applied", "No replacement was performed")


def _state(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _args(rest: str) -> list[str]:
    try:
        return shlex.split(rest)
    except ValueError:
        return rest.split()


def add_action(builder: TraceBuilder, action: str, observation: str, *, open_file: str | None,
               submission: str | None, at: float | None, duration: float | None) -> None:
    """One SWE-agent action with its observation, as a step of the right kind."""
    action = action.strip()
    first_line, _, body = action.partition("\n")
    name, _, rest = first_line.partition(" ")
    ended = at + duration if at is not None and duration is not None else None
    meta: dict[str, Any] = {"execution_time": duration} if duration is not None else {}
    if name in _READ_COMMANDS:
        words = _args(rest)
        path = words[0] if name in ("open", "find_file") and words else (open_file or "")
        builder.add("read", name, input={"command": action, "path": path}, output=observation,
                    at=at, ended_at=ended, meta=meta)
        return
    if name in ("edit", "insert", "create", "append"):
        words = _args(rest.split("\n")[0]) if name == "create" else []
        path = words[0] if words else (open_file or "")
        inp: dict[str, Any] = {"command": action, "path": path}
        if name == "create":
            inp["op"] = "create"
        elif body:
            inp["new"] = body.removesuffix("end_of_edit").rstrip("\n")
        rejected = next((m for m in _EDIT_REJECTED if m in observation), None)
        builder.add("edit", name, input=inp, output=observation,
                    error=observation.strip().splitlines()[0] if rejected else None,
                    at=at, ended_at=ended, meta=meta)
        return
    if name == "submit":
        builder.add("submit", "submit", input={"command": action,
                                               "patch": submission or observation,
                                               **({"answer": rest.strip("'\"")} if rest else {})},
                    at=at, ended_at=ended, meta=meta)
        return
    if name == "str_replace_editor":
        parts = _args(first_line)
        editor_args = {"command": parts[1] if len(parts) > 1 else "",
                       "path": parts[2] if len(parts) > 2 else ""}
        builder.tool_call("str_replace_editor", editor_args, observation, at=at, ended_at=ended,
                          meta=meta)
        return
    builder.shell(action, observation, at=at, ended_at=ended, meta=meta)


class SweAgentImporter:
    name = "swe-agent"
    description = "SWE-agent trajectory (.traj, pre-1.0 and 1.x)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.suffix == ".traj":
            return True
        return b'"trajectory"' in head and b'"history"' in head and \
            (b'"environment"' in head or b'"info"' in head)

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        info: dict[str, Any] = data.get("info") or {}
        history: list[dict[str, Any]] = data.get("history") or []
        replay = data.get("replay_config")
        if isinstance(replay, str):
            try:
                replay = json.loads(replay)
            except ValueError:
                replay = {}
        problem = ((replay or {}).get("problem_statement") or {}) if isinstance(replay, dict) \
            else {}
        task_id = problem.get("id") or data.get("environment") or path.stem
        description = problem.get("text") or next(
            (text_of(h.get("content")) for h in history if h.get("role") == "user"
             and not h.get("is_demo")), "")
        model = ((((replay or {}).get("agent") or {}).get("model") or {}).get("name")
                 if isinstance(replay, dict) else None)
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, task_id, info.get("submission"), path.name),
            task=TaskInfo(id=str(task_id), description=str(description)[:4000] or None),
            agent=AgentInfo(name="swe-agent", model=model),
        )
        trajectory = data.get("trajectory")
        submission = info.get("submission")
        if isinstance(trajectory, list) and trajectory:
            for entry in trajectory:
                builder.message(text_of(entry.get("thought") or ""))
                state = _state(entry.get("state"))
                add_action(builder, str(entry.get("action") or ""),
                           text_of(entry.get("observation")),
                           open_file=state.get("open_file") if state.get("open_file")
                           not in (None, "n/a") else None,
                           submission=submission, at=None,
                           duration=entry.get("execution_time"))
        else:
            self._from_history(builder, history, submission)
        exit_status = str(info.get("exit_status") or "")
        status: EndStatus = "completed" if exit_status in ("submitted", "") or \
            exit_status.startswith("submitted") else "error"
        outcome = {"exit_status": exit_status or None, "submitted": bool(submission),
                   "cost_usd": (info.get("model_stats") or {}).get("instance_cost")}
        return [builder.build(status, outcome)]

    def _from_history(self, builder: TraceBuilder, history: list[dict[str, Any]],
                      submission: str | None) -> None:
        """Demonstration files keep only the chat history: actions and the tool replies."""
        for position, item in enumerate(history):
            if item.get("role") != "assistant" or not item.get("action"):
                continue
            builder.message(text_of(item.get("thought") or ""))
            reply = history[position + 1] if position + 1 < len(history) else {}
            observation = text_of(reply.get("content")) if reply.get("role") in (
                "tool", "user") else ""
            add_action(builder, str(item["action"]), observation, open_file=None,
                       submission=submission, at=None, duration=None)
