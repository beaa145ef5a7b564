"""Terminal-Bench 1 trial folders: the agent's terminal, as the harness recorded it.

Terminal-Bench 1 runs an installed agent in a tmux pane and keeps, per trial
(``<task>.<n>-of-<m>.<run>/``), the keystrokes it sent (``commands.txt``, one Python list per
line, the agent's command line with the task among them) and the pane: ``sessions/agent.log``
(the raw byte stream) and/or ``sessions/agent.cast`` (an asciinema recording of the same).
No structured trajectory leaves the container, so the steps are read from what the agent
printed. The stream is cleaned as a terminal would show it (:mod:`._terminal`), the setup and
install output before the agent starts is dropped, and the agent's console is parsed by its
own markers:

- mini-swe-agent 1.x (:mod:`._console_mini`): ``mini-swe-agent (step N, $COST):`` per model
  call, THOUGHT + one bash block, the observation as the next ``User:`` message;
- Codex CLI ``codex exec`` (:mod:`._console_codex`): ``[ts] thinking / codex / exec /
  apply_patch / tokens used``;
- Claude Code ``--output-format stream-json``: its JSON lines, handed to the stream-json
  importer's own conversion.

A capture with none of these is still one run: its text becomes one message and the trace
says plainly that no agent steps were recognised. ``results.json`` (the verifier's verdict)
is never read here.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from typing import Any

from pytest_tracebench.importers import _console_codex, _console_mini
from pytest_tracebench.importers._terminal import cast_output, looks_like_cast, render, strip_styles
from pytest_tracebench.importers.builder import TraceBuilder, stable_id, task_id_for
from pytest_tracebench.importers.claude_code import ClaudeCodeStreamImporter
from pytest_tracebench.models import AgentInfo, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_TRIAL = re.compile(r"^(?P<task>.+?)\.(?P<attempt>\d+)-of-(?P<attempts>\d+)(?:\.(?P<run>.+))?$")
_PROMPT_END = re.compile(r"(?:^|\n)[\w.-]+@[\w.-]+:[^\n]*[#$][^\n]*\s*\Z|asciinema: recording "
                         r"finished|asciicast saved to", re.S)
_PANE_PROMPT = re.compile(r"(?<![^\r\n])[\w.-]+@[\w.-]+:[^\r\n]*[#$] \S")
#: Agent programs as the harness types them, with the agent name they stand for.
_PROGRAMS = {"mini": "mini-swe-agent", "mini-swe-agent": "mini-swe-agent", "codex": "codex",
             "claude": "claude-code"}
RAW_WARNING = "only a raw terminal capture; no agent steps recognised"


def _captures(folder: Path) -> tuple[Path | None, Path | None]:
    sessions = folder / "sessions"
    log, cast = sessions / "agent.log", sessions / "agent.cast"
    return (log if log.is_file() else None), (cast if cast.is_file() else None)


def is_trial_folder(folder: Path) -> bool:
    """A Terminal-Bench trial: ``commands.txt`` and the pane in ``sessions/``."""
    if not (folder / "commands.txt").is_file():
        return False
    log, cast = _captures(folder)
    return log is not None or cast is not None


def trial_task(name: str) -> tuple[str, dict[str, Any]]:
    """The task name and trial facts of a trial folder's name
    (``blind-maze-explorer-5x5.1-of-1.2025-08-07__20-46-16`` -> ``blind-maze-explorer-5x5``)."""
    match = _TRIAL.match(name)
    if not match:
        return name, {"trial": name}
    facts: dict[str, Any] = {"trial": name, "attempt": int(match.group("attempt")),
                             "attempts": int(match.group("attempts"))}
    if match.group("run"):
        facts["run"] = match.group("run")
    return match.group("task"), facts


def keystrokes(path: Path) -> tuple[list[list[str]], int]:
    """The keystroke lists of ``commands.txt`` and how many lines were not one. Each line is a
    Python literal (``['ls', 'Enter']``); it is read with ``ast.literal_eval``, never run."""
    found: list[list[str]] = []
    bad = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            value = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            bad += 1
            continue
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            found.append(list(value))
        elif isinstance(value, str):
            found.append([value])
        else:
            bad += 1
    return found, bad


def agent_command(sent: list[list[str]]) -> tuple[str, list[str]] | None:
    """The agent's command line among the keystrokes: ``(agent name, words)``."""
    for keys in sent:
        for text in keys:
            try:
                words = shlex.split(text)
            except ValueError:
                continue
            if words and words[0].rsplit("/", 1)[-1] in _PROGRAMS:
                return _PROGRAMS[words[0].rsplit("/", 1)[-1]], words
    return None


def _option(words: list[str], *names: str) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    for word in words:
        for name in names:
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def instruction(agent: str, words: list[str]) -> tuple[str | None, str | None]:
    """``(task instruction, model)`` from the agent's command line."""
    model = _option(words, "-m", "--model")
    if agent == "mini-swe-agent":
        task = _option(words, "-t", "--task")
    elif agent == "claude-code":
        task = _option(words, "-p", "--print")
    else:
        task = words[words.index("--") + 1] if "--" in words[:-1] else None
    if task is None:  # the longest argument: the prompt is far longer than any option
        longest = max(words[1:], key=len, default="")
        task = longest if len(longest) > 40 else None
    return task, model


def _stream_json(text: str) -> list[dict[str, Any]]:
    """Claude Code stream-json records among the lines of a rendered capture."""
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("type") in ("system", "assistant", "user",
                                                             "result"):
            records.append(value)
    if not any("session_id" in r for r in records):
        return []
    return records


def _skipped_warning(source: Path, skipped: dict[str, int]) -> str | None:
    parts = [f"{count} {what}" for what, count in skipped.items() if count]
    if not parts:
        return None
    return f"{source}: left out as not the agent's steps: " + ", ".join(parts)


class TerminalBenchImporter:
    name = "terminal-bench"
    description = ("Terminal-Bench 1 trial folder (sessions/agent.log or agent.cast + "
                   "commands.txt): mini-swe-agent 1.x, Codex CLI and Claude Code consoles")

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return is_trial_folder(path)
        if looks_like_cast(head):
            return True
        plain = strip_styles(head.decode("utf-8", "replace"))
        if _console_mini.detect(plain) or _console_codex.detect(plain):
            return True
        # A long install can push the agent's first marker past the 64 KiB a sniff sees; an
        # interactive shell's pane (bracketed paste on, a prompt) is a capture all the same.
        if b"\x1b[?2004h" in head and _PANE_PROMPT.search(plain):
            return True
        return path.name == "agent.log" and path.parent.name == "sessions"

    def load(self, path: Path) -> list[Trace]:
        if path.is_dir():
            trial: Path | None = path
            log, cast = _captures(path)
        else:
            parent = path.parent.parent if path.parent.name == "sessions" else path.parent
            trial = parent if (parent / "commands.txt").is_file() else None
            with open(path, "rb") as fh:
                first = fh.read(4096)
            log, cast = (None, path) if looks_like_cast(first) else (path, None)
        source = log or cast
        if source is None:
            raise ValueError("no sessions/agent.log or sessions/agent.cast")
        raw = source.read_bytes().decode("utf-8", "replace")
        stream = raw if log is not None else cast_output(raw)
        plain = strip_styles(stream)

        warnings: list[str] = []
        sent: list[list[str]] = []
        if trial is not None:
            sent, bad = keystrokes(trial / "commands.txt")
            if bad:
                warnings.append(f"{trial / 'commands.txt'}: {bad} lines are not keystroke lists "
                                f"(left out)")
        command = agent_command(sent)
        agent_name = command[0] if command else None
        description, model = instruction(*command) if command else (None, None)
        if trial is not None:
            task_id, facts = trial_task(trial.name)
        else:
            task_id, facts = task_id_for(path, ""), {}
        meta: dict[str, Any] = {"terminal_bench": facts, "capture": source.name}
        if command:
            meta["agent_command"] = command[1][0]
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, facts.get("trial") or path.name, len(stream),
                               stream[-4000:]),
            task=TaskInfo(id=task_id, description=description),
            agent=AgentInfo(name=agent_name or "unknown", model=model), meta=meta)
        builder.warnings.extend(warnings)

        kinds = [agent_name] if agent_name in ("mini-swe-agent", "codex") else []
        kinds += [k for k in ("mini-swe-agent", "codex") if k not in kinds]
        for kind in kinds:
            if kind == "mini-swe-agent" and _console_mini.detect(plain):
                return [self._mini(builder, plain, source)]
            if kind == "codex" and _console_codex.detect(plain):
                return [self._codex(builder, plain, source)]
        text = render(stream)
        records = _stream_json(text)
        if records:
            return [self._claude(builder, records, source)]
        return [self._raw(builder, text, source)]

    def _mini(self, builder: TraceBuilder, plain: str, source: Path) -> Trace:
        console = _console_mini.parse(plain, builder)
        builder.header.agent = AgentInfo(name="mini-swe-agent", version=console.version,
                                         model=builder.header.agent.model)
        return self._finish(builder, console.task, console.meta, console.skipped, source,
                            console.status, console.outcome, "mini-swe-agent")

    def _codex(self, builder: TraceBuilder, plain: str, source: Path) -> Trace:
        console = _console_codex.parse(plain, builder)
        builder.header.agent = AgentInfo(name="codex", version=console.version,
                                         model=console.model or builder.header.agent.model)
        return self._finish(builder, console.task, console.meta, console.skipped, source,
                            console.status, console.outcome, "codex exec")

    def _finish(self, builder: TraceBuilder, task: str | None, meta: dict[str, Any],
                skipped: dict[str, int], source: Path, status: Any,
                outcome: dict[str, Any], console: str) -> Trace:
        if not builder.header.task.description and task:
            builder.header.task.description = clip(task, 4000)
        builder.header.meta.update(meta)
        builder.header.meta["console"] = console
        warning = _skipped_warning(source, skipped)
        if warning:
            builder.warnings.append(warning)
        return builder.build(status, outcome)

    def _claude(self, builder: TraceBuilder, records: list[dict[str, Any]],
                source: Path) -> Trace:
        trace = ClaudeCodeStreamImporter().from_records(records, source)
        header = trace.header
        header.task.id = builder.header.task.id
        header.task.description = builder.header.task.description or header.task.description
        header.source.format = self.name
        header.source.path = builder.header.source.path
        header.meta = {**builder.header.meta, **header.meta, "console": "claude-code stream-json"}
        header.agent.model = header.agent.model or builder.header.agent.model
        trace.warnings[:0] = builder.warnings
        return trace

    def _raw(self, builder: TraceBuilder, text: str, source: Path) -> Trace:
        """No agent markers: the whole capture, as a terminal shows it, is one message."""
        builder.header.meta["console"] = "raw"
        if not text.strip():
            builder.warnings.append(f"{source}: the terminal capture is empty; no agent steps")
            return builder.build(None)
        builder.message(text, role="terminal", name="terminal_capture")
        lines = text.count("\n") + 1
        builder.warnings.append(f"{source}: {RAW_WARNING} (imported as one message of {lines} "
                                f"lines)")
        if _PROMPT_END.search(text.rstrip()[-2000:]):
            return builder.build("completed", {"exit_status": "back at the shell prompt"})
        return builder.build(None)
