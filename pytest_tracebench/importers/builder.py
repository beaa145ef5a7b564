"""Turning another agent's actions into meaningful steps, shared by every importer.

Agents name the same actions differently (Claude Code's ``Bash``, OpenHands' ``execute_bash``,
SWE-agent's ``bash``; ``Edit``, ``str_replace_editor``, ``apply_patch``). :class:`TraceBuilder`
maps them onto our step vocabulary once: a shell command becomes ``command``, ``read``,
``edit``, ``test`` or ``submit`` by what the command does (``parsers.classify_command``), a test
run's output is parsed into counts and failing ids, and unknown tools stay ``tool`` steps.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_tracebench.models import (
    AgentInfo,
    EndStatus,
    SourceInfo,
    Step,
    TaskInfo,
    Trace,
    TraceEnd,
    TraceHeader,
)
from pytest_tracebench.parsers import CommandInfo, FileEdit, classify_command, parse_test_output
from pytest_tracebench.record.redaction import clip

__all__ = [
    "EDIT_TOOLS",
    "MESSAGE_TOOLS",
    "READ_TOOLS",
    "SHELL_TOOLS",
    "SUBMIT_TOOLS",
    "TEST_TOOLS",
    "TraceBuilder",
    "json_lines",
    "skipped_line",
    "split_patch",
    "stable_id",
    "task_id_for",
    "text_of",
    "to_epoch",
    "unwrap_shell",
]

_EXIT_CODE_TEXT = re.compile(r"^Exit code (\d+)\b", re.M)

# Tool names per meaning, lower-cased, across agents.
SHELL_TOOLS = {"bash", "shell", "execute_bash", "run", "run_command", "terminal", "cmd_run",
               "execute_command", "exec_command", "local_shell", "run_shell", "container.exec",
               "bash_tool", "execute", "sh", "shell_command", "bash_command"}
READ_TOOLS = {"read", "read_file", "view", "view_file", "open_file", "cat", "glob", "grep",
              "ls", "list_dir", "list_directory", "search", "find_file", "search_dir",
              "search_file", "file_read", "webfetch", "websearch", "read_many_files"}
EDIT_TOOLS = {"write", "edit", "multiedit", "notebookedit", "write_file", "edit_file",
              "create_file", "apply_patch", "replace", "str_replace", "insert", "file_edit",
              "file_write", "patch"}
SUBMIT_TOOLS = {"submit", "finish", "task_complete", "attempt_completion", "final_answer",
                "mark_task_complete"}
MESSAGE_TOOLS = {"think", "todowrite", "plan"}
#: Tools that run the task's tests and answer with the runner's output (Control Arena's
#: ``run_tests``, whose output is pytest's after ``STDOUT:``); no command is shown.
TEST_TOOLS = {"run_tests", "run_test", "run_pytest", "run_unit_tests"}


def to_epoch(value: Any) -> float | None:
    """Seconds since the epoch from a number (s, ms, us or ns) or an ISO-8601 string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        while number > 1e11:  # ms, us or ns
            number /= 1000.0
        return number
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            return None
    return None


_GENERIC_DIRS = {"", ".", "agent", "agents", "logs", "log", "sessions", "traces", "runs", "data",
                 "tmp", "output", "outputs", "events"}


def task_id_for(path: Path, session: str) -> str:
    """A readable task id: the session id when the file is named after it, else the folder a
    harness made for the run (Harbor's ``<task>__<trial>/trajectory.json``)."""
    if session and session in path.name:
        return session
    parent = path.parent.name
    if parent.lower() in _GENERIC_DIRS:
        parent = path.parent.parent.name if path.parent.parent.name.lower() not in \
            _GENERIC_DIRS else ""
    return parent or session or path.stem


def json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of a JSON Lines text; a bad line raises
    ``ValueError`` naming its number (the registry turns it into a one-line load error)."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {lineno}: invalid JSON: {exc}") from None


def stable_id(*parts: Any) -> str:
    """A deterministic trace id from the content that identifies a run."""
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def text_of(content: Any) -> str:
    """Plain text from the content shapes agents use (str, list of blocks, dicts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [text_of(item) for item in content]
        return "\n".join(p for p in parts if p)
    if isinstance(content, dict):
        for key in ("text", "content", "output", "result", "value"):
            if key in content:
                return text_of(content[key])
        return json.dumps(content, default=str)
    return str(content)


_DIFF_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$", re.M)


def split_patch(patch: str) -> list[tuple[str, str]]:
    """``(path, section)`` for each file of a ``git diff`` text, in order.

    Agents that hand in one patch for several files are still doing one edit per file; a step
    per file lets the detectors see which files changed. The path is the new side (``b/``), so
    a renamed file is named as it ends up; text before the first ``diff --git`` is dropped."""
    heads = list(_DIFF_HEADER.finditer(patch))
    sections = []
    for n, head in enumerate(heads):
        end = heads[n + 1].start() if n + 1 < len(heads) else len(patch)
        sections.append((head.group(2).strip(), patch[head.start():end]))
    return sections


def skipped_line(path: str | Path, skipped: dict[str, int]) -> str:
    """One line saying how many records of which type an import left out."""
    total = sum(skipped.values())
    kinds = ", ".join(f"{what} x{n}" for what, n in sorted(skipped.items(),
                                                          key=lambda item: (-item[1], item[0])))
    return f"{path}: skipped {total} record{'s' if total != 1 else ''} not understood: {kinds}"


_SHELL_PROGRAMS = {"bash", "sh", "zsh", "dash", "ksh"}


def unwrap_shell(command: str | Sequence[Any]) -> tuple[str, str | None]:
    """(the command a shell wrapper runs, the wrapper) for ``["bash", "-lc", CMD]`` (an argv
    list, as Codex records it) or the text ``bash -lc 'CMD'``; otherwise (the command as text,
    None). ``CMD`` keeps the quoting the agent wrote; any other argv list is joined with shell
    quoting, so ``["rg", "a b"]`` stays one pattern."""
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError:
            return command, None
        if len(words) == 3 and _is_shell_c(words[0], words[1]):
            return words[2], f"{words[0]} {words[1]}"
        return command, None
    argv = [str(word) for word in command]
    if len(argv) == 3 and _is_shell_c(argv[0], argv[1]):
        return argv[2], f"{argv[0]} {argv[1]}"
    return shlex.join(argv), None


def _is_shell_c(program: str, flag: str) -> bool:
    return program.rsplit("/", 1)[-1] in _SHELL_PROGRAMS and flag.startswith("-") and \
        not flag.startswith("--") and flag.endswith("c")


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            return {"raw": arguments}
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    if arguments is None:
        return {}
    return {"value": arguments}


class TraceBuilder:
    """Accumulates steps for one imported trace."""

    def __init__(
        self,
        *,
        format: str,
        path: str | Path,
        trace_id: str,
        task: TaskInfo | None = None,
        agent: AgentInfo | None = None,
        started_at: float | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.header = TraceHeader(
            trace_id=trace_id,
            task=task or TaskInfo(id=Path(path).stem),
            agent=agent or AgentInfo(),
            started_at=started_at,
            source=SourceInfo(format=format, path=str(path)),
            meta=meta or {},
        )
        self.steps: list[Step] = []
        self.warnings: list[str] = []
        self.skipped: dict[str, int] = {}

    # -- generic ------------------------------------------------------------------------------

    def add(self, kind: str, name: str, *, input: Any = None, output: Any = None,
            error: str | None = None, at: float | None = None, ended_at: float | None = None,
            parent: int | None = None, meta: dict[str, Any] | None = None) -> Step:
        step = Step(index=len(self.steps), kind=kind, name=name or kind,  # type: ignore[arg-type]
                    input=input, output=output, error=error, parent=parent,
                    started_at=at, ended_at=ended_at if ended_at is not None else at,
                    meta=meta or {})
        self.steps.append(step)
        return step

    def message(self, text: str, *, role: str = "assistant", name: str = "message",
                at: float | None = None, meta: dict[str, Any] | None = None) -> Step | None:
        """A message step, skipping empty text and an exact repeat of the previous message
        (agents' logs often repeat one reasoning block on every tool call of a turn)."""
        text = (text or "").strip()
        if not text:
            return None
        for previous in reversed(self.steps):
            if previous.kind != "message" or (previous.input or {}).get("role") != role:
                if previous.kind != "message" and (at is None or previous.started_at != at):
                    break
                continue
            if previous.output == {"text": text}:
                if at is not None and previous.started_at == at:
                    return None  # the log repeats one turn's text on each of its tool calls
                if self.steps[-1] is previous:
                    previous.meta["repeats"] = int(previous.meta.get("repeats", 1)) + 1
                    return None
            break
        return self.add("message", name, input={"role": role}, output={"text": text}, at=at,
                        meta=meta)

    # -- actions ------------------------------------------------------------------------------

    def shell(self, command: str, output: str | None, *, exit_code: int | None = None,
              timed_out: bool = False, name: str | None = None, at: float | None = None,
              ended_at: float | None = None, error: str | None = None,
              meta: dict[str, Any] | None = None,
              edits: Sequence[tuple[str, str]] = (), reads: Sequence[str] = ()) -> Step:
        """A shell command, given the kind of what it does.

        ``edits`` (``(path, op)``) and ``reads`` are what the importer knows the command did
        although its text does not show it (it ran a Python script, written earlier in the run,
        that rewrites or prints a file): they join what the text shows, and the kind follows as
        if the text had shown them (a plain command that edits is an ``edit``, one that only
        reads is a ``read``)."""
        info = classify_command(command)
        if edits or reads:
            kind = info.kind
            if edits and kind in ("read", "command"):
                kind = "edit"
            elif reads and kind == "command":
                kind = "read"
            info = CommandInfo(kind, info.program,
                               [*(FileEdit(path, op) for path, op in edits), *info.edits],
                               [*reads, *info.reads], info.runner)
        out_text = output or ""
        if exit_code is None:
            match = _EXIT_CODE_TEXT.search(out_text[:200])
            if match:
                exit_code = int(match.group(1))
        base_out: dict[str, Any] = {"exit_code": exit_code, "stdout": out_text,
                                    "timed_out": timed_out}
        inp: dict[str, Any] = {"command": command}
        step_meta = dict(meta or {})
        if info.edits:
            step_meta["edits"] = [{"path": e.path, "op": e.op} for e in info.edits]
        if info.kind == "test":
            result = parse_test_output(out_text)
            if result is not None:
                test_out = {**result.as_output(), **base_out}
                if timed_out:
                    test_out["ok"] = False
            else:
                ok = None if exit_code is None else exit_code == 0
                test_out = {"ok": False if timed_out else ok, "passed": None, "failed": None,
                            "errors": None, "skipped": None, "failing": [], **base_out}
            return self.add("test", name or info.program or "test", input=inp, output=test_out,
                            at=at, ended_at=ended_at, error=error, meta=step_meta)
        if info.kind == "edit":
            inp["path"] = info.edits[0].path
            inp["op"] = info.edits[0].op
        elif info.kind == "read" and info.reads:
            inp["path"] = info.reads[0]
        return self.add(info.kind, name or info.program or "command", input=inp,
                        output=base_out, at=at, ended_at=ended_at, error=error, meta=step_meta)

    def tool_call(self, name: str, arguments: Any, result: Any = None, *,
                  is_error: bool = False, error: str | None = None, at: float | None = None,
                  ended_at: float | None = None, meta: dict[str, Any] | None = None) -> Step:
        """A tool call in any agent's vocabulary, mapped onto a step kind.

        ``error`` is the failure text when known; otherwise ``is_error`` takes the result's
        text as the error."""
        args = _arguments(arguments)
        lowered = name.lower()
        result_text = text_of(result)
        if error is None and is_error:
            error = clip(result_text, 2000)
        command = args.get("command") if isinstance(args.get("command"), (str, list)) else None
        if isinstance(command, list):
            command = " ".join(str(c) for c in command)
        if lowered in SUBMIT_TOOLS:
            return self.add("submit", name, input=args, output=result_text or None,
                            error=error, at=at, ended_at=ended_at, meta=meta)
        editor = lowered in ("str_replace_editor", "str_replace_based_edit_tool", "file_editor")
        if lowered in SHELL_TOOLS or (command and not editor
                                      and lowered not in EDIT_TOOLS | READ_TOOLS):
            if command is None:
                command = str(args.get("cmd") or args.get("keystrokes") or args.get("script")
                              or args.get("raw") or "").rstrip("\n")
            exit_code = args.get("exit_code")
            return self.shell(command, result_text, exit_code=exit_code, name=name, at=at,
                              ended_at=ended_at, error=error, meta=meta)
        if editor:
            return self._editor(name, args, result_text, error, at, ended_at, meta)
        if lowered in TEST_TOOLS:
            return self._test_tool(name, args, result_text, error, at, ended_at, meta)
        path = args.get("file_path") or args.get("path") or args.get("filename") or \
            args.get("notebook_path") or args.get("pattern") or args.get("url")
        if lowered in MESSAGE_TOOLS:
            text = args.get("thought") or args.get("content") or json.dumps(args, default=str)
            return self.add("message", name, input={"role": "reasoning"},
                            output={"text": text_of(text)}, at=at, ended_at=ended_at, meta=meta)
        if lowered in EDIT_TOOLS or "edit" in lowered or "write" in lowered:
            inp = {"path": str(path) if path else "", **{k: v for k, v in args.items()
                                                         if k not in ("file_path", "path")}}
            if lowered == "write" or lowered.endswith("write_file") or lowered == "create_file":
                inp.setdefault("op", "create")
            if "old_string" in inp:
                inp["old"] = inp.pop("old_string")
            if "new_string" in inp:
                inp["new"] = inp.pop("new_string")
            return self.add("edit", name, input=inp, output=result_text or None, error=error,
                            at=at, ended_at=ended_at, meta=meta)
        if lowered in READ_TOOLS or lowered.startswith("read") or lowered.startswith("search"):
            inp = {"path": str(path) if path else "", **{k: v for k, v in args.items()
                                                         if k not in ("file_path", "path")}}
            return self.add("read", name, input=inp, output=result_text, error=error, at=at,
                            ended_at=ended_at, meta=meta)
        return self.add("tool", name, input=args, output=result_text or None, error=error,
                        at=at, ended_at=ended_at, meta=meta)

    def _test_tool(self, name: str, args: dict[str, Any], result: str, error: str | None,
                   at: float | None, ended_at: float | None,
                   meta: dict[str, Any] | None) -> Step:
        """A test-running tool: a ``test`` step with what its output says (counts, failing
        ids), or without counts when it prints no summary we read."""
        parsed = parse_test_output(result)
        if parsed is not None:
            out: dict[str, Any] = {**parsed.as_output(), "exit_code": None, "stdout": result,
                                   "timed_out": False}
        else:
            out = {"ok": False if error else None, "passed": None, "failed": None,
                   "errors": None, "skipped": None, "failing": [], "exit_code": None,
                   "stdout": result, "timed_out": False}
        return self.add("test", name, input={"tool": name, **args}, output=out, error=error,
                        at=at, ended_at=ended_at, meta=meta)

    def _editor(self, name: str, args: dict[str, Any], result: str, error: str | None,
                at: float | None, ended_at: float | None,
                meta: dict[str, Any] | None) -> Step:
        """The str_replace_editor family (SWE-agent, OpenHands, Anthropic's text editor)."""
        sub = str(args.get("command", ""))
        path = str(args.get("path", ""))
        if sub == "view":
            return self.add("read", name, input={"path": path, "command": "view",
                                                 **({"view_range": args["view_range"]}
                                                    if "view_range" in args else {})},
                            output=result, error=error, at=at, ended_at=ended_at, meta=meta)
        inp: dict[str, Any] = {"path": path, "command": sub}
        if sub == "create":
            inp["op"] = "create"
            inp["content"] = args.get("file_text", "")
        elif sub == "str_replace":
            inp["old"] = args.get("old_str", "")
            inp["new"] = args.get("new_str", "")
        elif sub == "insert":
            inp["new"] = args.get("new_str", "")
            inp["line"] = args.get("insert_line")
        elif sub == "undo_edit":
            inp["op"] = "revert"
        return self.add("edit", name, input=inp, output=result or None, error=error, at=at,
                        ended_at=ended_at, meta=meta)

    def skip(self, what: str, count: int = 1) -> None:
        """Note a record the importer does not understand (an unknown event type, a field of a
        newer version): :meth:`build` reports them in one warning, so an import that reads
        only part of a file never looks complete."""
        self.skipped[what] = self.skipped.get(what, 0) + count

    # -- finishing ----------------------------------------------------------------------------

    def build(self, status: EndStatus | None = "completed",
              outcome: dict[str, Any] | None = None, ended_at: float | None = None) -> Trace:
        """The finished trace; ``status=None`` leaves it without an end record (aborted)."""
        end = None
        if status is not None:
            if ended_at is None and self.steps:
                ended_at = self.steps[-1].ended_at
            end = TraceEnd(status=status, ended_at=ended_at, step_count=len(self.steps),
                           outcome=outcome or {})
        if self.header.started_at is None and self.steps:
            self.header.started_at = self.steps[0].started_at
        if self.skipped:
            self.warnings.append(skipped_line(self.header.source.path or "", self.skipped))
        return Trace(header=self.header, steps=self.steps, end=end, warnings=self.warnings)
