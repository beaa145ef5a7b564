"""SWE-agent trajectories (``*.traj``): 0.x (``state`` as a JSON string, recorded *before* each
action), 0.7 EnIGMA, 1.x (``state`` dict recorded *after* each action, ``execution_time``, tool
calls, ``replay_config``), and history-only demonstration files.

Each ``trajectory[]`` entry is one action and becomes one step, its ``thought`` a ``message``
before it. SWE-agent's own commands are mapped by what they do, because a reviewer (and the
detectors) must see a read as a read and an edit as a change of a named file:

- ``open``/``goto``/``scroll_*``/``search_*``/``find_file`` read (the path comes from the
  arguments, the tool's ``[File: ...]`` header or the file open at that moment);
- ``edit N:M`` ... ``end_of_edit`` replaces lines of the file open at that moment; an edit the
  tool refused ("Your proposed edit has introduced new syntax error(s)") changed nothing and
  keeps that refusal as its ``error`` with ``meta.rejected``;
- ``create FILE`` creates and opens a file (``op: create``); when the file already existed the
  tool only opened it, so that is a read with the tool's error;
- ``submit`` submits ``info.submission``; the harness's own exits (``exit_cost`` and the like,
  after which it may autosubmit) are ``error`` steps, since the agent did not choose them;
- anything else went to bash and is classified like any shell command.

SWE-agent observations carry no exit code, so ``exit_code`` stays ``None`` (the header says
``exit_codes_recorded: false``); failures are read from the text the shell, the tools and the
harness print instead (:func:`failure_of`). What the importer cannot place is counted in the
trace's warnings, never dropped silently.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace

_READ_COMMANDS = {"open", "goto", "scroll_up", "scroll_down", "search_file", "search_dir",
                  "find_file", "view"}
_EDIT_COMMANDS = {"edit", "insert", "create", "append"}
_EDIT_REJECTED = ("Your proposed edit has introduced new syntax error",
                  "Your edit was not applied", "No replacement was performed")
_SPECIAL_COMMANDS = _READ_COMMANDS | _EDIT_COMMANDS | {"submit"}
#: The harness's exits, written into ``trajectory[]`` as if they were actions.
_HARNESS_EXITS = {"exit_cost", "exit_context", "exit_format", "exit_api", "exit_error",
                  "exit_forfeit", "exit_environment_error"}
#: Exit statuses that mean a budget ran out (no patch was submitted in time).
_LIMIT_EXITS = {"exit_cost", "exit_context"}

_FILE_HEADER = re.compile(r"^\[File: (.+?) \(\d+ lines total\)\]\s*$", re.M)
_EDIT_RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
_LINT_ERRORS = re.compile(r"^ERRORS:\n((?:- .*\n?)+)", re.M)
# The shell's own diagnostics: a program it could not find or run, or text it could not parse
# (the agent sent prose or code as a command). Also inside the agent's scripts, from bash
# (``./run.sh: line 4: javac: command not found``) and dash (``./run.sh: 3: java: not found``).
_SHELL_DIAGNOSTIC = re.compile(
    r"^\S+: (?:line )?\d+: (?:.*(?:command not found|: not found|No such file or directory|"
    r"Permission denied)|syntax error.*|unexpected EOF while looking for matching.*)$", re.M)
# A program that failed on what it was given, when that is all it printed.
_PROGRAM_FAILURE = re.compile(r"^[\w./-]+: .*(?:No such file or directory|cannot access .*|"
                              r"command not found)$")
# Build tools that could not start (no JDK in the container), and the harness giving up.
_LAUNCH_FAILURE = re.compile(
    r"^(?:Error: JAVA_HOME is not defined correctly\.|ERROR: JAVA_HOME is not set and no "
    r"'java' command could be found in your PATH\.|COMMAND FAILED TO EXECUTE\. RESTARTING "
    r"PROCESS\.)$", re.M)
_TIMED_OUT = re.compile(r"^EXECUTION TIMED OUT\b.*$", re.M)
# An uncaught Python exception: a traceback whose exception line ends the output.
_TRACEBACK = "Traceback (most recent call last):"
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:: .*)?$")
# What SWE-agent's special commands print when they refuse (bad arguments, missing file).
_TOOL_FAILURE = re.compile(
    r"^(?:Usage: .*|Error: .*|File .+ not found|Directory .+ not found|No file open.*|"
    r"awk: cannot open .*|.*: No such file or directory)$")
_ISSUE = re.compile(r"ISSUE:\n(.*?)\n+INSTRUCTIONS:\n", re.S)
_RUN_FOLDER = re.compile(r"^(.+?)__.+__t-[\d.]+__p-[\d.]+__c-[\d.]+")
_ARGS_MODEL = re.compile(r"^\s+model_name:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.M)
_ARGS_COST = re.compile(r"^\s+per_instance_cost_limit:\s*([\d.]+)\s*$", re.M)


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


def _resolve(path: str, cwd: str | None) -> str:
    """An argument path as the tool resolved it: relative ones are under the working dir."""
    if not path or path.startswith("/") or not cwd:
        return path
    return f"{cwd.rstrip('/')}/{path.removeprefix('./')}" if path not in (".", "./") else cwd


def _header_path(observation: str, cwd: str | None) -> str | None:
    """The file the editor window shows (``[File: PATH (N lines total)]``), resolved."""
    header = _FILE_HEADER.search(observation)
    return _resolve(header.group(1).strip(), cwd) if header else None


def failure_of(observation: str) -> tuple[str | None, bool]:
    """``(error text, timed out)`` read from a shell command's observation.

    SWE-agent records no exit code, so a failure is only known from what was printed: bash's
    own diagnostics (``command not found``, a syntax error when the agent sent prose or code),
    a program failing on its only argument (``ls: cannot access ...``), a build tool that could
    not start, the harness's restart and timeout notices, and an uncaught Python exception.
    Anything else (a test failing, a warning in a long output) is left to the output itself."""
    timed_out = _TIMED_OUT.search(observation)
    if timed_out:
        return timed_out.group(0).strip(), True
    for pattern in (_SHELL_DIAGNOSTIC, _LAUNCH_FAILURE):
        match = pattern.search(observation)
        if match:
            return match.group(0).strip(), False
    lines = [line for line in observation.strip().splitlines() if line.strip()]
    if 0 < len(lines) <= 3 and _PROGRAM_FAILURE.match(lines[0].strip()):
        return lines[0].strip(), False
    if len(lines) > 2 and _TRACEBACK in observation:
        # The exception line ends the output right after the traceback's indented frames.
        last = lines[-1].strip()
        if _EXCEPTION_LINE.match(last) and lines[-2][:1].isspace() and \
                observation.rfind(_TRACEBACK) < observation.rfind(last):
            return last[:500], False
    return None, False


def _tool_failure(observation: str) -> str | None:
    """The refusal a special command printed as its first line, or ``None``."""
    timed_out = _TIMED_OUT.search(observation)
    if timed_out:
        return timed_out.group(0).strip()
    first = next((line.strip() for line in observation.splitlines() if line.strip()), "")
    if _TOOL_FAILURE.match(first) or _SHELL_DIAGNOSTIC.match(first) or \
            _LAUNCH_FAILURE.match(first):
        return first
    return None


def _rejection(observation: str) -> str | None:
    """Why the edit tool refused an edit (with the linter's messages), or ``None``."""
    marker = next((m for m in _EDIT_REJECTED if m in observation), None)
    if marker is None:
        return None
    first = next(line for line in observation.splitlines() if marker in line).strip()
    lint = _LINT_ERRORS.search(observation)
    if lint:
        errors = "; ".join(line[2:].strip() for line in lint.group(1).splitlines() if line)
        return f"{first.split('.')[0]}: {errors}"
    return first


class _Context:
    """What an action needs from around it: the file open and the working directory at the
    moment, the submission, and the counters that become the trace's warnings."""

    def __init__(self, submission: str | None) -> None:
        self.submission = submission
        self.open_file: str | None = None
        self.cwd: str | None = None
        self.unplaced: Counter[str] = Counter()

    def at(self, state: dict[str, Any]) -> None:
        open_file = state.get("open_file")
        self.open_file = str(open_file) if open_file not in (None, "", "n/a") else None
        cwd = state.get("working_dir")
        self.cwd = str(cwd) if cwd else None


def add_action(builder: TraceBuilder, action: str, observation: str, context: _Context, *,
               thought: str = "", at: float | None = None,
               duration: float | None = None) -> None:
    """One SWE-agent action with its observation, as a step of the right kind."""
    action = action.strip()
    first_line, _, body = action.partition("\n")
    name, _, rest = first_line.partition(" ")
    ended = at + duration if at is not None and duration is not None else None
    meta: dict[str, Any] = {"execution_time": duration} if duration is not None else {}
    timing: dict[str, Any] = {"at": at, "ended_at": ended, "meta": meta}
    if not action:
        builder.add("error", "empty_action", input={"command": ""}, output=observation or None,
                    error="the agent's reply held no command: nothing was run", **timing)
        return
    if name == "cd" and body and body.split(None, 1)[0] in _SPECIAL_COMMANDS:
        # ``cd DIR`` and then one of SWE-agent's commands (shell functions in 0.x, so both
        # ran): the step is that command, run from DIR.
        context.cwd = _resolve(rest.strip().strip("'\""), context.cwd)
        first_line, _, body = body.partition("\n")
        name, _, rest = first_line.partition(" ")
    if name in _HARNESS_EXITS and not rest and not body:
        _harness_exit(builder, name, observation, thought, context, timing)
        return
    if name in _READ_COMMANDS:
        _read(builder, name, action, rest, observation, context, timing)
        return
    if name in _EDIT_COMMANDS:
        _edit(builder, name, action, rest, body, observation, context, timing)
        return
    if name == "submit":
        builder.add("submit", "submit", input={"command": action,
                                               "patch": context.submission or observation,
                                               **({"answer": rest.strip("'\"")} if rest else {})},
                    output=observation or None, **timing)
        return
    if name == "str_replace_editor":
        parts = _args(first_line)
        editor_args = {"command": parts[1] if len(parts) > 1 else "",
                       "path": parts[2] if len(parts) > 2 else ""}
        builder.tool_call("str_replace_editor", editor_args, observation, **timing)
        return
    error, timed_out = failure_of(observation)
    if error and _unrunnable(error):
        # Prose or code sent as a command: bash could not run it, so what its text seems to
        # do (a ``>`` in ``-> Union[...]`` is no redirection) did not happen.
        builder.add("command", name, input={"command": action, **({"cwd": context.cwd}
                                                                   if context.cwd else {})},
                    output={"exit_code": None, "stdout": observation, "timed_out": timed_out},
                    error=error, **{**timing, "meta": {**meta, "malformed": True}})
        return
    step = builder.shell(action, observation, timed_out=timed_out, error=error, **timing)
    if context.cwd and isinstance(step.input, dict):
        step.input["cwd"] = context.cwd


def _unrunnable(error: str) -> bool:
    """True when bash's diagnostic says the action was no command at all: it could not parse
    it, or the word it could not find is no program's name (``DISCUSSION``, ``The``, a whole
    sentence) - unlike ``mvn: command not found``, a real program that is not installed."""
    match = re.match(r"^\S*bash: line \d+: (.*)$", error)
    if not match:
        return False
    what = match.group(1)
    if what.startswith(("syntax error", "unexpected EOF")):
        return True
    missing = what.removesuffix(": command not found")
    return missing != what and not re.fullmatch(r"[a-z0-9_.+/~-][\w.+/~-]*", missing)


def _read(builder: TraceBuilder, name: str, action: str, rest: str, observation: str,
          context: _Context, timing: dict[str, Any]) -> None:
    """``open``, ``goto``, ``scroll_*``, ``search_*``, ``find_file``: what was looked at."""
    words = _args(rest)
    shown = _header_path(observation, context.cwd)
    inp: dict[str, Any] = {"command": action}
    if name == "open":
        inp["path"] = shown or _resolve(words[0] if words else "", context.cwd)
        if len(words) > 1 and words[1].isdigit():
            inp["line"] = int(words[1])
    elif name in ("goto", "scroll_up", "scroll_down", "view"):
        inp["path"] = shown or context.open_file or ""
        if name == "goto" and words and words[0].isdigit():
            inp["line"] = int(words[0])
    elif name == "search_file":
        inp["query"] = words[0] if words else ""
        inp["path"] = _resolve(words[1], context.cwd) if len(words) > 1 else \
            (context.open_file or "")
    else:  # search_dir, find_file: a search under a directory, not a file's content
        inp["query"] = words[0] if words else ""
        inp["path"] = _resolve(words[1], context.cwd) if len(words) > 1 else \
            (context.cwd or ".")
    error = _tool_failure(observation)
    if not inp["path"] and not (error or "").startswith("No file open"):
        context.unplaced[f"'{name}' steps whose file is unknown"] += 1
    builder.add("read", name, input=inp, output=observation, error=error, **timing)


def _edit(builder: TraceBuilder, name: str, action: str, rest: str, body: str,
          observation: str, context: _Context, timing: dict[str, Any]) -> None:
    """``edit N:M``/``insert``/``append`` change the open file; ``create`` makes a new one."""
    shown = _header_path(observation, context.cwd)
    inp: dict[str, Any] = {"command": action}
    meta = timing["meta"]
    if name == "create":
        words = _args(rest)
        inp["path"] = shown or _resolve(words[0] if words else "", context.cwd)
        error = _tool_failure(observation)
        if error and "already exists" in error:
            # The tool opened the existing file instead: nothing was created.
            builder.add("read", "create", input=inp, output=observation, error=error,
                        **{**timing, "meta": {**meta, "rejected": True}})
            return
        inp["op"] = "create"
        builder.add("edit", name, input=inp, output=observation, error=error,
                    **{**timing, "meta": {**meta, "rejected": True} if error else meta})
        return
    inp["path"] = context.open_file or shown or ""
    if not inp["path"] and "No file open" not in observation:
        context.unplaced[f"'{name}' steps whose file is unknown"] += 1
    line_range = _EDIT_RANGE.match(rest)
    quoted = rest.lstrip().startswith(("'", '"'))
    if name == "edit" and line_range:
        inp["start_line"], inp["end_line"] = int(line_range.group(1)), int(line_range.group(2))
    elif quoted:
        # SWE-agent 1.x's windowed tools take quoted arguments: ``edit <search> <replace>``,
        # ``insert <text> [<line>]``.
        words = _args(action.partition(" ")[2])
        if name == "edit" and len(words) >= 2:
            inp["old"], inp["new"] = words[0], words[1]
        elif words:
            inp["new"] = words[0]
            if len(words) > 1 and words[1].isdigit():
                inp["line"] = int(words[1])
    elif name == "insert" and rest.strip().isdigit():
        inp["line"] = int(rest.strip())
    if body and not quoted:
        terminator = "end_of_edit" if name == "edit" else f"end_of_{name}"
        inp["new"] = body.rstrip("\n").removesuffix(terminator).rstrip("\n")
    error = _rejection(observation)
    if error is None and name == "edit" and line_range and body and \
            "end_of_edit" not in body and not shown:
        # Without its terminator the tool never ran: bash ran the replacement text instead.
        error = _tool_failure(observation) or failure_of(observation)[0] or \
            "edit without end_of_edit: the replacement text was run as commands"
    elif error is None:
        error = _tool_failure(observation)
    builder.add("edit", name, input=inp, output=observation, error=error,
                **{**timing, "meta": {**meta, "rejected": True} if error else meta})


def _harness_exit(builder: TraceBuilder, name: str, observation: str, thought: str,
                  context: _Context, timing: dict[str, Any]) -> None:
    """The harness stopped the run (cost or context limit, repeated format errors) and wrote
    that into the trajectory; it may have submitted the work so far ("autosubmitted")."""
    autosubmitted = "autosubmitted" in observation
    inp: dict[str, Any] = {"command": name}
    if autosubmitted:
        inp["patch"] = context.submission or ""
    builder.add("error", name, input=inp, output=observation or None,
                error=thought.strip() or f"the harness ended the run ({name})",
                **{**timing, "meta": {**timing["meta"], "autosubmitted": autosubmitted,
                                      "harness_exit": True}})


def _description(history: list[dict[str, Any]]) -> str:
    """The issue text: the first user message that is not a demonstration, cut to the issue
    when SWE-agent's template frames it (``ISSUE:`` ... ``INSTRUCTIONS:``)."""
    first = next((text_of(h.get("content")) for h in history if h.get("role") == "user"
                  and not h.get("is_demo")), "")
    match = _ISSUE.search(first)
    return match.group(1).strip() if match else first.strip()


def _run_config(path: Path) -> tuple[str | None, float | None]:
    """``(model, cost limit)`` from what SWE-agent writes beside its trajectories: ``args.yaml``
    (read for two keys only), else the run folder's name (``<model>__<dataset>__...__t-..``, or
    a harness's ``<model>__<instance>`` folder holding ``<instance>.traj``)."""
    args = path.parent / "args.yaml"
    model: str | None = None
    limit: float | None = None
    if args.is_file():
        try:
            text = args.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        found = _ARGS_MODEL.search(text)
        model = found.group(1).strip() if found else None
        cost = _ARGS_COST.search(text)
        limit = float(cost.group(1)) if cost else None
    folder = path.parent.name
    if model is None:
        run = _RUN_FOLDER.match(folder)
        if run:
            model = run.group(1)
        elif folder.endswith("__" + path.stem) and len(folder) > len(path.stem) + 2:
            model = folder[:-len(path.stem) - 2]
    return model, limit


def _end(info: dict[str, Any], warnings: list[str]) -> tuple[EndStatus, dict[str, Any]]:
    """End status and outcome from ``info``: a submission (even one the harness made when a
    limit was hit) completed the run and is judged by the verifier; a limit with nothing
    submitted is a ``timeout``; any other exit is an ``error``."""
    exit_status = str(info.get("exit_status") or "")
    stats = info.get("model_stats") or {}
    submission = info.get("submission")
    outcome: dict[str, Any] = {
        "exit_status": exit_status or None, "submitted": bool(submission),
        "cost_usd": stats.get("instance_cost"), "api_calls": stats.get("api_calls"),
        "input_tokens": stats.get("tokens_sent"), "output_tokens": stats.get("tokens_received"),
    }
    status: EndStatus
    if exit_status.startswith("submitted"):
        status = "completed"
        reason = re.fullmatch(r"submitted \((\w+)\)", exit_status)
        if reason:
            outcome["autosubmitted"] = True
            outcome["exit_reason"] = reason.group(1)
        elif exit_status != "submitted":
            warnings.append(f"unknown exit status {exit_status!r}: read as a submission")
    elif exit_status in _LIMIT_EXITS:
        status = "timeout"
        outcome["exit_reason"] = exit_status
    elif exit_status:
        status = "error"
        if exit_status not in _HARNESS_EXITS and exit_status != "early_exit":
            warnings.append(f"unknown exit status {exit_status!r}: read as an error")
    else:
        status = "aborted"
        warnings.append("info has no exit_status: the run did not record how it ended")
    return status, {k: v for k, v in outcome.items() if v is not None or k == "exit_status"}


class SweAgentImporter:
    name = "swe-agent"
    description = "SWE-agent trajectory (.traj, 0.x and 1.x)"

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
        # ``environment`` is the container's name (``swe_main``), not the task.
        task_id = problem.get("id") or path.stem
        description = problem.get("text") or _description(history)
        model = ((((replay or {}).get("agent") or {}).get("model") or {}).get("name")
                 if isinstance(replay, dict) else None)
        folder_model, cost_limit = _run_config(path)
        trajectory = data.get("trajectory")
        entries = trajectory if isinstance(trajectory, list) else []
        # 0.x writes the state as a JSON string, taken before the action; 1.x writes a dict
        # taken after it. Which one decides where "the file open at that moment" is read.
        state_before = any(isinstance(e, dict) and isinstance(e.get("state"), str)
                           for e in entries)
        fmt = "demonstration" if not entries else ("0.x" if state_before else "1.x")
        builder = TraceBuilder(
            format=self.name, path=path,
            # Several models run the same instance, and a run without a patch has little
            # else to tell it apart: its usage figures and its actions do.
            trace_id=stable_id(self.name, task_id, info.get("submission"), path.name,
                               info.get("model_stats"),
                               [e.get("action") for e in entries if isinstance(e, dict)]),
            task=TaskInfo(id=str(task_id), description=str(description) or None,
                          budget={"cost_usd": cost_limit} if cost_limit else {}),
            agent=AgentInfo(name="swe-agent", model=model or folder_model),
            meta={"swe_agent_format": fmt, "exit_codes_recorded": False},
        )
        submission = info.get("submission")
        context = _Context(submission if isinstance(submission, str) else None)
        if entries:
            previous: dict[str, Any] = {}
            for entry in entries:
                if not isinstance(entry, dict):
                    context.unplaced["trajectory entries that are not objects"] += 1
                    continue
                thought = text_of(entry.get("thought") or "")
                action = str(entry.get("action") or "")
                if action.strip() not in _HARNESS_EXITS:  # the harness's words, not the model's
                    builder.message(re.sub(r"^\s*DISCUSSION\s*\n", "", thought))
                state = _state(entry.get("state"))
                if entry.get("state") and not state:
                    context.unplaced["states that are not JSON objects"] += 1
                context.at(state if state_before else
                           previous or {"working_dir": state.get("working_dir")})
                previous = state
                duration = entry.get("execution_time")
                add_action(builder, action, text_of(entry.get("observation")), context,
                           thought=thought,
                           duration=duration if isinstance(duration, (int, float)) else None)
        else:
            self._from_history(builder, history, context)
        warnings = builder.warnings
        warnings.extend(f"{path.name}: {count} {what}" for what, count in
                        sorted(context.unplaced.items()))
        calls = (info.get("model_stats") or {}).get("api_calls")
        if entries and isinstance(calls, int) and calls > len(entries):
            builder.header.meta["unrecorded_model_calls"] = calls - len(entries)
            warnings.append(
                f"{path.name}: model_stats.api_calls is {calls} for {len(entries)} "
                f"trajectory entries: {calls - len(entries)} model repl(ies) are not in the "
                "file (SWE-agent re-asks after a malformed reply and keeps neither)")
        if not entries and not info:  # a demonstration: a worked example, not a run
            return [builder.build("completed", {})]
        status, outcome = _end(info, warnings)
        return [builder.build(status, outcome)]

    def _from_history(self, builder: TraceBuilder, history: list[dict[str, Any]],
                      context: _Context) -> None:
        """Demonstration files keep only the chat history: actions and the tool replies."""
        for position, item in enumerate(history):
            if item.get("role") != "assistant" or not item.get("action"):
                continue
            builder.message(text_of(item.get("thought") or ""))
            reply = history[position + 1] if position + 1 < len(history) else {}
            observation = text_of(reply.get("content")) if reply.get("role") in (
                "tool", "user") else ""
            add_action(builder, str(item["action"]), observation, context)
