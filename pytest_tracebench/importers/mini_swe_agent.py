"""mini-swe-agent trajectories, in the three shapes its releases have written.

- before 1.0: the file is the bare list of chat messages (no ``info``, no format marker);
- 1.x, ``trajectory_format: mini-swe-agent-1``: ``info`` + ``messages``; every assistant message
  holds a THOUGHT and one bash block, the next user message is the observation (``<returncode>``
  and ``<output>``, or a timeout / format-error notice);
- 2.x, ``mini-swe-agent-1.1`` (Live-SWE-agent runs on it too): the model's own message with
  ``tool_calls`` and ``extra.actions`` (what was executed), one ``tool`` message per call
  (``extra.returncode``, ``extra.raw_output``, ``extra.exception_info``), format errors as user
  messages marked ``extra.interrupt_type: FormatError`` (the rejected reply itself is not kept),
  and a last ``exit`` message with the exit status and the submission.

One reader for all three, because what a step is does not change between them: one step per
executed command, classified by what it does, with its output and exit code. The command marked
``COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`` is the submission (``info.submission`` holds the patch).

Live-SWE-agent writes its own tools: Python scripts it creates (``cat <<'EOF' > /tmp/x.py``) or
pipes to ``python -`` and that rewrite or print files. A command line that only says ``python
/tmp/fix.py`` is then the edit the script makes, so the script's body is read for the files it
writes (``Path('a.py').write_text``, ``open('a.py', 'w')``) or only reads (2.x and pre-1.0
files; 1.x files are read as before, see ``_Reader``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of
from pytest_tracebench.models import AgentInfo, EndStatus, Step, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

# The agent's own default action regexes: 1.x reads ```bash blocks, 2.x's text mode (and the
# pre-1.0 test data) ```mswea_bash_command; a ```python block in the THOUGHT is not an action.
# A trajectory whose config names its own ``action_regex`` is read with that one.
_ACTION_BLOCK = re.compile(r"```(?:bash|mswea_bash_command)\s*\n(.*?)\n```", re.S)
_RETURNCODE = re.compile(r"<returncode>(-?\d+)</returncode>")
_OUTPUT = re.compile(r"<output>\n?(.*?)</output>", re.S)
_HEAD_TAIL = re.compile(r"<output_head>\n?(.*?)</output_head>.*?<output_tail>\n?(.*?)"
                        r"</output_tail>", re.S)
_TIMEOUT = re.compile(r"^The last command <command>.*?</command> timed out", re.S)
_EXCEPTION = re.compile(r"<exception>(.*?)</exception>", re.S)
_PR = re.compile(r"<pr_description>\s*(?:Consider the following PR description:)?\s*(.*?)"
                 r"</pr_description>", re.S)
_THOUGHT = re.compile(r"^\s*THOUGHT:\s*")
_ANY_BLOCK = re.compile(r"```[\w-]*\s*\n(.*?)\n```", re.S)
# A bare list of messages is mini-swe-agent's only if it says so: its system prompt or an
# observation carries one of the agent's own markers.
_LIST_START = re.compile(rb'^\s*\[\s*\{\s*"role"\s*:\s*"(?:system|user)"')
_LIST_MARKERS = (b"COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", b"MINI_SWE_AGENT_FINAL_OUTPUT",
                 b"mswea_bash_command", b"<returncode>")
_LIMIT_STATUS = re.compile(r"limit|timeout|timedout|timeexceeded|cost", re.I)
_INTERRUPTED_STATUS = {"UserInterruption", "KeyboardInterrupt"}


def parse_observation(text: str) -> tuple[int | None, str, bool]:
    """(exit code, output, timed out) of a mini-swe-agent observation message."""
    timed_out = bool(_TIMEOUT.match(text))
    code = _RETURNCODE.search(text)
    head_tail = _HEAD_TAIL.search(text)
    if head_tail:
        output = f"{head_tail.group(1)}\n...[elided by the agent]...\n{head_tail.group(2)}"
    else:
        match = _OUTPUT.search(text)
        output = match.group(1) if match else text
    return (int(code.group(1)) if code else None), output, timed_out


# -- the agent's own scripts --------------------------------------------------------------------

_STR = r"""(?:'([^'\n\\]+)'|"([^"\n\\]+)")"""
_PY_OPEN_WRITE = re.compile(r"open\(\s*" + _STR + r"""\s*,\s*(?:mode\s*=\s*)?['"][rwab+]*[wa+]""")
_PY_PATH_WRITE = re.compile(r"Path\(\s*" + _STR + r"\s*\)\s*\.\s*(?:write_text|write_bytes)\(")
_PY_PATH_VAR = re.compile(r"\b(\w+)\s*=\s*(?:pathlib\.)?Path\(\s*" + _STR + r"\s*\)")
_PY_STR_VAR = re.compile(r"\b(\w+)\s*=\s*" + _STR + r"\s*(?:\n|;|$)")
_PY_READ = re.compile(r"(?:open\(\s*" + _STR + r"""\s*(?:\)|,\s*['"]r)|Path\(\s*""" + _STR +
                      r"\s*\)\s*\.\s*read_(?:text|bytes)\()")
_PY_WRITES_ANY = re.compile(r"\.write_text\(|\.write_bytes\(|(?<!stdout)(?<!stderr)\.write\(|"
                            r"""open\([^)\n]*,\s*(?:mode\s*=\s*)?['"][rwab+]*[wa+]""")
_PY_INVOKE = re.compile(r"(?:^|[\s;&|(])python[\d.]*\s+(?:-[uBOq]+\s+)*(?!-)(\S+\.py)\b(.*)$")
_PY_INLINE = re.compile(r"(?:^|[\s;&|(])python[\d.]*\s+(?:-[uBOq]+\s+)*-c\s+"
                        r"""(?:'([^']*)'|"((?:\\.|[^"\\])*)")""", re.S)
_HEREDOC_LINE = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
_CREATE_TARGET = re.compile(r"(?:>\s*|\btee\s+(?:-a\s+)?)([^\s;&|<>()]+\.(?:py|sh))\b")
_PATHLIKE = re.compile(r"^[\w./~-]+$")


def _literal(match: re.Match[str], first: int) -> str:
    return match.group(first) or match.group(first + 1) or ""


def _is_scratch(path: str) -> bool:
    """Files a script writes that are not the work: temporary and device files."""
    return path.startswith(("/tmp/", "/dev/", "/proc/")) or not _PATHLIKE.match(path)


def _heredocs(command: str) -> list[tuple[str, str]]:
    """``(line that opens it, body)`` of every heredoc in a command."""
    found: list[tuple[str, str]] = []
    lines = command.split("\n")
    i = 0
    while i < len(lines):
        match = _HEREDOC_LINE.search(lines[i])
        if not match:
            i += 1
            continue
        opener, body, i = lines[i], [], i + 1
        while i < len(lines) and lines[i].strip() != match.group(2):
            body.append(lines[i])
            i += 1
        found.append((opener, "\n".join(body)))
        i += 1
    return found


def script_effect(body: str, args: str = "") -> tuple[list[str], list[str]]:
    """``(files written, files read)`` by a Python script, as far as its text tells: paths given
    as string literals to ``open(.., 'w')``/``Path(..).write_text`` (directly or through a
    variable), else, for a script that writes to a path it is given, the first path-like word
    of its arguments. Temporary files are left out."""
    written: list[str] = []
    path_vars = {m.group(1): _literal(m, 2) for m in _PY_PATH_VAR.finditer(body)}
    str_vars = {m.group(1): _literal(m, 2) for m in _PY_STR_VAR.finditer(body)}
    for match in _PY_OPEN_WRITE.finditer(body):
        written.append(_literal(match, 1))
    for match in _PY_PATH_WRITE.finditer(body):
        written.append(_literal(match, 1))
    for name, path in {**str_vars, **path_vars}.items():
        if re.search(rf"\b{re.escape(name)}\s*\.\s*(?:write_text|write_bytes)\(|"
                     rf"""open\(\s*{re.escape(name)}\s*,\s*(?:mode\s*=\s*)?['"][rwab+]*[wa+]|"""
                     rf"""\b{re.escape(name)}\s*\.\s*open\(\s*['"][wa]""", body):
            written.append(path)
    writes = [p for p in dict.fromkeys(written) if p and not _is_scratch(p)]
    arg_paths = [w.strip("'\"") for w in args.split() if not w.startswith("-")]
    arg_paths = [w for w in arg_paths if _PATHLIKE.match(w) and ("/" in w or "." in w)
                 and not _is_scratch(w)]
    if not writes and not written and _PY_WRITES_ANY.search(body) and arg_paths:
        writes = arg_paths[:1]
    reads: list[str] = []
    if not written and not _PY_WRITES_ANY.search(body):
        reads = [p for p in dict.fromkeys(_literal(m, 1) or _literal(m, 3)
                                          for m in _PY_READ.finditer(body))
                 if p and not _is_scratch(p)]
        if not reads and ("open(" in body or "read_text(" in body) and arg_paths:
            reads = arg_paths[:1]
    return writes, reads


@dataclass
class _Scripts:
    """The scripts an agent created during its run, by path, to know what running one does."""

    bodies: dict[str, str] = field(default_factory=dict)

    def learn(self, command: str) -> None:
        for opener, body in _heredocs(command):
            target = _CREATE_TARGET.search(opener)
            if target and "python" not in opener.split(target.group(0))[0]:
                self.bodies[target.group(1)] = body
                self.bodies.setdefault(Path(target.group(1)).name, body)

    def effect(self, command: str) -> tuple[list[str], list[str], str | None]:
        """``(files written, files read, tool)`` of the Python the command runs: a heredoc fed
        to ``python -``, a ``python -c`` string, or a script created earlier (``tool``)."""
        writes: list[str] = []
        reads: list[str] = []
        tool: str | None = None
        for opener, body in _heredocs(command):
            if re.search(r"(?:^|[\s;&|(])python[\d.]*\b", opener) and \
                    not _CREATE_TARGET.search(opener):
                w, _ = script_effect(body)
                writes += w
        for match in _PY_INLINE.finditer(command):
            w, _ = script_effect(match.group(1) or match.group(2) or "")
            writes += w
        for line in command.split("\n"):
            for match in _PY_INVOKE.finditer(line):
                script = match.group(1)
                source = self.bodies.get(script) or self.bodies.get(Path(script).name)
                if source is None:
                    continue
                tool = tool or script
                w, r = script_effect(source, match.group(2))
                writes += w
                reads += r
        return list(dict.fromkeys(writes)), list(dict.fromkeys(reads)), tool


# -- the importer -------------------------------------------------------------------------------

@dataclass
class _Action:
    """A command the agent issued, waiting for its observation."""

    command: str
    call_id: str | None
    name: str | None
    at: float | None
    meta: dict[str, Any]
    arguments: dict[str, Any] | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {"raw": raw}
        return value if isinstance(value, dict) else {"value": value}
    return {}


def end_status(exit_status: str, submitted: bool) -> EndStatus | None:
    """The end status an exit status means. mini-swe-agent saves its trajectory after every
    step, so a file with no exit status and no submission is a run that never finished."""
    if not exit_status:
        return "completed" if submitted else None
    if exit_status == "Submitted":
        return "completed"
    if exit_status in _INTERRUPTED_STATUS:
        return "aborted"
    return "timeout" if _LIMIT_STATUS.search(exit_status) else "error"


class MiniSweAgentImporter:
    name = "mini-swe-agent"
    description = ("mini-swe-agent trajectory (pre-1.0 message list, mini-swe-agent-1, "
                   "mini-swe-agent-1.1 tool calls)")

    def sniff(self, path: Path, head: bytes) -> bool:
        if (b'"trajectory_format"' in head and b"mini-swe-agent" in head) or \
                (b'"mini_version"' in head and b'"messages"' in head):
            return True
        return bool(_LIST_START.match(head)) and any(m in head for m in _LIST_MARKERS)

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):
            messages, info, form = data, {}, "pre-1.0"  # type: list[Any], dict[str, Any], str
            instance = path.name.split(".traj")[0]
        elif isinstance(data, dict) and isinstance(data.get("messages"), list):
            messages = data["messages"]
            info = _dict(data.get("info"))
            form = str(data.get("trajectory_format") or "mini-swe-agent-1")
            instance = str(data.get("instance_id") or path.name.split(".traj")[0])
        else:
            raise ValueError("expected an object with a 'messages' list, or a list of messages")
        return [_Reader(self.name, path, messages, info, form, instance).read()]


class _Reader:
    """One pass over the messages, keeping the actions that wait for their observations."""

    def __init__(self, fmt: str, path: Path, messages: list[Any], info: dict[str, Any],
                 form: str, instance: str) -> None:
        self.messages = messages
        self.info = info
        config = _dict(info.get("config"))
        model_cfg = _dict(config.get("model"))
        agent_cfg = _dict(config.get("agent"))
        self.action_regex = _ACTION_BLOCK
        custom = model_cfg.get("action_regex") or agent_cfg.get("action_regex")
        if isinstance(custom, str) and custom:
            try:
                self.action_regex = re.compile(custom, re.S)
            except re.error:
                pass
        first_user = next((text_of(m.get("content")) for m in messages
                           if isinstance(m, dict) and m.get("role") == "user"), "")
        pr = _PR.search(first_user)
        meta: dict[str, Any] = {"trajectory_format": form}
        if config.get("agent_type"):
            meta["agent_type"] = config["agent_type"]
        self.builder = TraceBuilder(
            format=fmt, path=path,
            trace_id=stable_id(fmt, instance, info.get("submission"), len(messages)),
            task=TaskInfo(id=instance, description=(pr.group(1).strip() if pr
                                                    else clip(first_user, 4000)) or None),
            agent=AgentInfo(name="mini-swe-agent", version=info.get("mini_version"),
                            model=model_cfg.get("model_name")),
            meta=meta,
        )
        self.path = path
        self.pending: list[_Action] = []
        self.format_error_expected: int | None = None
        self.scripts = _Scripts()
        # 1.x runs keep the reading they always had (a script's edits are not looked for): the
        # detectors are calibrated on them (docs/detectors.md), and two of the real 1.x runs in
        # tests/data change findings when their patch scripts count as edits.
        self.read_scripts = form != "mini-swe-agent-1"
        self.skipped: Counter[str] = Counter()
        self.exit_status = str(info.get("exit_status") or "")
        submission = info.get("submission")
        self.submission: str | None = submission if isinstance(submission, str) else None
        self.format_errors = 0
        self.turn_meta: dict[str, Any] | None = None
        self.format_error_at: float | None = None

    def read(self) -> Trace:
        seen_task = False
        for message in self.messages:
            if not isinstance(message, dict):
                self.skipped[f"JSON type {type(message).__name__!r}"] += 1
                continue
            role = message.get("role")
            if role == "system":
                continue
            if role == "user" and not seen_task:
                seen_task = True  # the task: the header's description
                continue
            if role == "assistant":
                self._assistant(message)
            elif role == "tool":
                self._tool(message)
            elif role == "user":
                self._user(message)
            elif role == "exit":
                self._exit(message)
            else:
                self.skipped[f"{'role' if role else 'type'} "
                             f"{role or message.get('type') or 'unknown'!r}"] += 1
        self._flush()
        for what, count in sorted(self.skipped.items()):
            self.builder.warnings.append(
                f"{self.path}: skipped {count} message{'s' if count != 1 else ''} of {what}")
        stats = _dict(self.info.get("model_stats"))
        submitted = any(s.kind == "submit" for s in self.builder.steps)
        outcome = {"exit_status": self.exit_status or None,
                   "submitted": bool(self.submission) or submitted,
                   "cost_usd": stats.get("instance_cost"), "api_calls": stats.get("api_calls"),
                   "format_errors": self.format_errors}
        return self.builder.build(end_status(self.exit_status, submitted), outcome)

    # -- messages ---------------------------------------------------------------------------

    def _assistant(self, message: dict[str, Any]) -> None:
        self._flush()
        content = text_of(message.get("content"))
        extra = _dict(message.get("extra"))
        response = _dict(extra.get("response"))
        at = _number(extra.get("timestamp")) or _number(response.get("created"))
        meta: dict[str, Any] = {}
        usage = _dict(response.get("usage"))
        if usage:
            meta["usage"] = {"input_tokens": usage.get("prompt_tokens"),
                             "output_tokens": usage.get("completion_tokens")}
        if _number(extra.get("cost")) is not None:
            meta["cost_usd"] = extra["cost"]
        actions = self._actions(message, extra, at)
        blocks = self.action_regex.findall(content) if not actions else []
        if not actions and len(blocks) == 1:
            actions = [_Action(str(blocks[0]).strip(), None, None, at, {})]
        if message.get("tool_calls"):
            # The text is the model's own; a block in it that repeats the command it called
            # is shown by the step, any other block was never run and stays in the text.
            ran = {a.command.strip() for a in actions}
            text = _THOUGHT.sub("", _ANY_BLOCK.sub(
                lambda m: "" if m.group(1).strip() in ran else m.group(0), content)).strip()
        else:
            # Text mode: the THOUGHT is what comes before the action block.
            thought = _THOUGHT.sub("", content.split("```", 1)[0]).strip()
            text = thought if actions else (thought or content)
        step = self.builder.message(text, at=at, meta=meta)
        self.turn_meta = None if step is not None or not meta else meta
        self.pending = actions
        self.format_error_expected = None if actions or message.get("tool_calls") \
            else len(blocks)
        self.format_error_at = at

    def _actions(self, message: dict[str, Any], extra: dict[str, Any],
                 at: float | None) -> list[_Action]:
        """What this reply executes: 2.x lists it in ``extra.actions``; the tool calls say it
        too (and name the tool); 1.x and the text mode have it in the reply's bash block."""
        calls: dict[str, dict[str, Any]] = {}
        ordered: list[dict[str, Any]] = []
        for call in message.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            function = _dict(call.get("function"))
            entry = {"id": call.get("id"), "name": function.get("name"),
                     "arguments": _arguments(function.get("arguments"))}
            ordered.append(entry)
            if isinstance(call.get("id"), str):
                calls[call["id"]] = entry
        listed = extra.get("actions") if isinstance(extra.get("actions"), list) else []
        actions: list[_Action] = []
        if listed:
            for item in listed:
                if not isinstance(item, dict):
                    continue
                call_id = item.get("tool_call_id") if isinstance(item.get("tool_call_id"),
                                                                 str) else None
                call = calls.get(call_id or "") or {}
                actions.append(_Action(str(item.get("command") or ""), call_id,
                                       call.get("name"), at, {}, call.get("arguments")))
            return actions
        for entry in ordered:
            args = entry["arguments"]
            command = args.get("command") if isinstance(args.get("command"), str) else None
            actions.append(_Action(command or "", entry["id"], entry["name"], at, {}, args))
        return actions

    def _tool(self, message: dict[str, Any]) -> None:
        call_id = message.get("tool_call_id")
        action = next((a for a in self.pending if a.call_id == call_id), None) or \
            (self.pending[0] if self.pending else None)
        if action is None:
            self.skipped["role 'tool' without a call"] += 1
            return
        self.pending.remove(action)
        self._observe(action, message)

    def _user(self, message: dict[str, Any]) -> None:
        extra = _dict(message.get("extra"))
        content = text_of(message.get("content"))
        interrupt = extra.get("interrupt_type")
        if interrupt == "FormatError":
            self._flush()
            self._format_error(content, {"interrupt_type": interrupt})
            return
        if interrupt:
            self._flush()
            self.builder.message(content, role="user", meta={"interrupt_type": interrupt})
            return
        if self.pending:
            self._observe(self.pending.pop(0), message)
            return
        if self.format_error_expected is not None:
            found = self.format_error_expected
            self.format_error_expected = None
            self._format_error(content, {}, found)
            return
        self.builder.message(content, role="user")

    def _exit(self, message: dict[str, Any]) -> None:
        extra = _dict(message.get("extra"))
        if extra.get("exit_status") and not self.exit_status:
            self.exit_status = str(extra["exit_status"])
        submission = extra.get("submission")
        if self.submission is None and isinstance(submission, str):
            self.submission = submission
        self._flush()

    def _format_error(self, text: str, meta: dict[str, Any],
                      found: int | None = None) -> None:
        """A reply the agent rejected (no action, or several): the model is asked again."""
        self.format_errors += 1
        self.builder.add("error", "format_error", error=clip(text.strip(), 2000),
                         output={"found_actions": found} if found is not None else None,
                         at=self.format_error_at if found is not None else None, meta=meta)

    # -- steps ------------------------------------------------------------------------------

    def _observe(self, action: _Action, message: dict[str, Any]) -> None:
        extra = _dict(message.get("extra"))
        text = text_of(message.get("content"))
        code, output, timed_out = parse_observation(text)
        if isinstance(extra.get("returncode"), int) and not isinstance(extra["returncode"], bool):
            code = extra["returncode"]
        if isinstance(extra.get("raw_output"), str):
            output = extra["raw_output"]
        exception = extra.get("exception_info") or ""
        if not exception:
            found = _EXCEPTION.search(text)
            exception = found.group(1).strip() if found else ""
        exception = str(exception)
        if extra.get("exception_type") == "TimeoutExpired" or "timed out" in exception:
            timed_out = True
        meta: dict[str, Any] = {}
        if extra.get("exception_type"):
            meta["exception_type"] = extra["exception_type"]
        self._emit(action, output, code, timed_out, clip(exception, 2000) or None,
                   _number(extra.get("timestamp")), meta)

    def _emit(self, action: _Action, output: str | None, code: int | None, timed_out: bool,
              error: str | None, ended_at: float | None, meta: dict[str, Any]) -> Step:
        meta = {**action.meta, **meta}
        if self.turn_meta:
            meta = {**self.turn_meta, **meta}  # the reply had no text: its usage goes here
            self.turn_meta = None
        if action.call_id:
            meta["tool_call_id"] = action.call_id
        name = action.name if action.name and action.name != "bash" else None
        if action.name and action.name != "bash" and not action.command:
            step = self.builder.tool_call(action.name, action.arguments or {}, output,
                                          error=error, at=action.at, ended_at=ended_at,
                                          meta=meta)
            return step
        writes: list[str] = []
        reads: list[str] = []
        tool = None
        if self.read_scripts:
            self.scripts.learn(action.command)  # first: one command may write a script and run it
            writes, reads, tool = self.scripts.effect(action.command)
        if tool:
            meta["created_script"] = tool
        step = self.builder.shell(action.command, output, exit_code=code, timed_out=timed_out,
                                  name=name, at=action.at, ended_at=ended_at, error=error,
                                  meta=meta, edits=[(p, "modify") for p in writes],
                                  reads=reads)
        if step.kind == "submit":
            step.input = {"command": action.command,
                          "patch": self.submission if self.submission is not None
                          else (output or "")}
        return step

    def _flush(self) -> None:
        """Actions that never got an observation: the submission (its output is the exit
        message's), or calls the run stopped before answering."""
        for action in self.pending:
            step = self._emit(action, None, None, False, None, None, {})
            if step.kind != "submit":
                step.meta["unanswered"] = True
        self.pending = []
