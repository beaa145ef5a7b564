"""Codex CLI 0.2x ``codex exec`` human-readable output, read from a terminal capture.

Without ``--json``, ``codex exec`` prints one event per block, each opened by a line
``[YYYY-MM-DDTHH:MM:SS] `` (UTC, to the second): the banner ``OpenAI Codex vX`` with the
configuration (``model:``, ``workdir:`` ...), ``User instructions:``, ``thinking`` (reasoning),
``codex`` (a message), ``exec CMD in DIR`` and later ``CMD succeeded in D:`` / ``CMD exited N
in D:`` with at most 20 lines of output, ``apply_patch auto_approved=...:`` with the files
(``A``/``M``/``D`` PATH, then the added content or the unified diff) and
``apply_patch(...) exited N in D:`` with its result, ``turn diff:`` (the whole change so far,
a restatement of the patches), ``tokens used: N`` (per model response), ``ERROR: ...``.

Codex repeats each reasoning section as a ``codex`` message after the ``thinking`` block that
holds it; such a repeat is left out (counted in ``meta``), so a reasoning aside does not read
as something the agent told the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pytest_tracebench.importers._terminal import render
from pytest_tracebench.importers.builder import TraceBuilder, unwrap_shell
from pytest_tracebench.models import EndStatus
from pytest_tracebench.record.redaction import clip

# An event header starts a line (after CR or LF: the pane may end a line with either).
_EVENT = re.compile(r"(?<![^\r\n])\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\] ")
_BANNER = re.compile(r"\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\] OpenAI Codex v(\S+)")
_EXEC = re.compile(r"\Aexec (?P<cmd>.*) in (?P<cwd>[^\n]*?)\s*\Z", re.S)
_DURATION = r"(?P<duration>\d+ms|\d+(?:\.\d+)?s|\d+m \d+s)"
_RESULT = re.compile(r"(?:succeeded|exited (?P<code>-?\d+)) in " + _DURATION + r":[ \t]*$", re.M)
_EXEC_END = re.compile(r"\A(?P<cmd>.*?) (?:succeeded|exited (?P<code>-?\d+)) in " + _DURATION
                       + r":[ \t]*$", re.S | re.M)
_PATCH = re.compile(r"\Aapply_patch(?: (?P<flags>[^\n:]*))?:[ \t]*$", re.M)
_PATCH_END = re.compile(r"\Aapply_patch(?:\((?P<flags>[^)\n]*)\))? exited (?P<code>-?\d+) in "
                        + _DURATION + r":[ \t]*$", re.M)
_FILE = re.compile(r"^(?P<op>[ADM]) (?P<path>/[^\n]*?)(?: -> (?P<dest>/[^\n]*))?$")
_TOKENS = re.compile(r"\Atokens used: ([\d,]+)\s*\Z")
_TRACING = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s+(?:ERROR|WARN|INFO|DEBUG|"
                      r"TRACE)\s+\S+:.*$", re.M)
_PROMPT = re.compile(r"^[\w.-]+@[\w.-]+:[^\n]*[#$](?: |$)", re.M)
_CONFIG = re.compile(r"^([a-z][a-z ]*): (.+)$", re.M)
_OPS = {"A": "create", "D": "delete", "M": "modify"}


@dataclass
class CodexConsole:
    """What the console told beyond the steps."""

    version: str | None = None
    model: str | None = None
    task: str | None = None
    status: EndStatus = "completed"
    outcome: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def detect(plain: str) -> bool:
    """True when the colour-free stream ``plain`` shows ``codex exec``'s event stream."""
    return bool(_BANNER.search(plain)) or (
        len(_EVENT.findall(plain)) >= 2 and bool(re.search(
            r"\] (?:codex|thinking|exec .* in |tokens used: \d)", plain)))


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()


def _seconds(duration: str) -> float:
    """Codex's ``format_duration``: ``850ms``, ``1.02s``, ``1m 05s``."""
    if duration.endswith("ms"):
        return int(duration[:-2]) / 1000.0
    if "m " in duration:
        minutes, seconds = duration.split("m ")
        return int(minutes) * 60 + float(seconds.rstrip("s"))
    return float(duration.rstrip("s"))


def _files(body: str) -> list[dict[str, Any]]:
    """The files of an ``apply_patch`` block: op, path, and the printed change."""
    files: list[dict[str, Any]] = []
    for line in body.split("\n"):
        match = _FILE.match(line)
        if match:
            files.append({"op": match.group("op"), "path": match.group("path"),
                          "dest": match.group("dest"), "lines": []})
        elif files:
            files[-1]["lines"].append(line)
    for item in files:
        while item["lines"] and not item["lines"][-1].strip():
            item["lines"].pop()
    return files


class _Events:
    """Codex events in order, paired into steps."""

    def __init__(self, builder: TraceBuilder, result: CodexConsole) -> None:
        self.builder = builder
        self.result = result
        self.pending_exec: tuple[float, str, str] | None = None
        self.pending_patch: tuple[float, str, list[dict[str, Any]]] | None = None
        self.thinking = ""
        self.tokens = 0
        self.token_reports = 0
        self.repeats = 0
        self.turn_diffs = 0
        self.last_kind = ""

    def event(self, at: float, text: str) -> None:
        head, _, body = text.partition("\n")
        word = head.strip()
        if word.startswith("OpenAI Codex v"):
            config = dict(_CONFIG.findall(body))
            self.result.version = word.split()[2].lstrip("v")
            self.result.model = config.get("model")
            self.result.meta["codex_config"] = config
        elif word == "User instructions:":
            self.result.task = body.strip() or None
        elif word == "thinking":
            self.thinking = body.strip()
            self.builder.message(self.thinking, role="reasoning", at=at)
        elif word == "codex":
            message = body.strip()  # a repeat of a reasoning section is not a message
            if message and self.thinking and message in self.thinking:
                self.repeats += 1
            else:
                self.builder.message(message, at=at)
        elif (tokens := _TOKENS.match(text)) is not None:
            self.tokens += int(tokens.group(1).replace(",", ""))
            self.token_reports += 1
        elif word == "turn diff:":
            self.turn_diffs += 1
        elif (end := self._exec_end(text, exact=True)) is not None:
            self._exec_finish(at, end, text[end.end():].strip("\n"))
        elif (patch := _PATCH_END.match(text)) is not None:
            self._patch_end(at, patch, text[patch.end():].strip("\n"))
        elif (patch := _PATCH.match(text)) is not None:
            self.thinking = ""
            self._flush_patch()
            self.pending_patch = (at, (patch.group("flags") or "").strip(), _files(body))
        elif (begin := _EXEC.match(text)) is not None:
            self.thinking = ""
            self._flush_exec()
            self.pending_exec = (at, begin.group("cmd"), begin.group("cwd"))
        elif (end := self._exec_end(text, exact=False)) is not None:
            self._exec_finish(at, end, text[end.end():].strip("\n"))
        elif word.startswith("ERROR:"):
            self.builder.add("error", "codex_error", error=clip(text[len("ERROR:"):].strip(), 2000),
                             at=at)
        else:
            self.builder.message(text.strip(), role="system", name="codex_event", at=at)
            self.result.skipped["unrecognised Codex events (kept as system messages)"] = \
                self.result.skipped.get("unrecognised Codex events (kept as system messages)",
                                        0) + 1

    def _exec_end(self, text: str, *, exact: bool) -> re.Match[str] | None:
        """The result line of the pending ``exec``: the same command, then its status
        (``exact``), or any command then a status (the printed command differs)."""
        if self.pending_exec is None:
            return None
        command = self.pending_exec[1]
        if exact:
            return _RESULT.match(text, len(command) + 1) if text.startswith(command + " ") \
                else None
        return _EXEC_END.match(text)

    def _exec_finish(self, at: float, end: re.Match[str], output: str) -> None:
        assert self.pending_exec is not None
        began, command, cwd = self.pending_exec
        self.pending_exec = None
        code = int(end.group("code")) if end.group("code") is not None else 0
        seconds = _seconds(end.group("duration"))
        started = max(began, at - seconds)
        inner, wrapper = unwrap_shell(command)
        meta: dict[str, Any] = {"cwd": cwd, "duration_ms": round(seconds * 1000)}
        if wrapper:
            meta["shell"] = wrapper
        if output.count("\n") + 1 >= 20:
            meta["output_lines_shown"] = 20  # codex exec prints no more of a command's output
        self.builder.shell(inner, output, exit_code=code, at=started, ended_at=started + seconds,
                           meta=meta)

    def _flush_exec(self) -> None:
        """An ``exec`` whose result never came (the capture ended, or the next one began)."""
        if self.pending_exec is not None:
            began, command, cwd = self.pending_exec
            self.pending_exec = None
            inner, wrapper = unwrap_shell(command)
            meta: dict[str, Any] = {"cwd": cwd, "unanswered": True}
            if wrapper:
                meta["shell"] = wrapper
            self.builder.shell(inner, None, at=began, meta=meta)

    def _patch_end(self, at: float, end: re.Match[str], output: str) -> None:
        if self.pending_patch is None:
            self.pending_patch = (at, (end.group("flags") or "").strip(), [])
        began, flags, files = self.pending_patch
        self.pending_patch = None
        code = int(end.group("code"))
        seconds = _seconds(end.group("duration"))
        started = max(began, at - seconds)
        self._edits(files, flags, started, started + seconds, output, code)

    def _flush_patch(self) -> None:
        if self.pending_patch is not None:
            began, flags, files = self.pending_patch
            self.pending_patch = None
            self._edits(files, flags, began, began, None, None)

    def _edits(self, files: list[dict[str, Any]], flags: str, started: float, ended: float,
               output: str | None, code: int | None) -> None:
        """One ``edit`` step per file of a patch, each with the patch's result."""
        error = (output or f"apply_patch exited {code}") if code not in (0, None) else None
        meta: dict[str, Any] = {"patch_files": len(files), "exit_code": code}
        if flags:
            meta["approval"] = flags
        if code is None:
            meta["unanswered"] = True
        if not files:
            self.builder.add("edit", "apply_patch", input={"path": "", "diff": ""},
                             output=output, error=error, at=started, ended_at=ended, meta=meta)
            return
        for item in files:
            lines: list[str] = item["lines"]
            inp: dict[str, Any] = {"path": item["path"], "op": _OPS[item["op"]]}
            if item["op"] == "A":
                inp["content"] = "\n".join(lines) + ("\n" if lines else "")
                inp["diff"] = "\n".join(["--- /dev/null", f"+++ {item['path']}"]
                                        + [f"+{line}" for line in lines])
            elif item["op"] == "M":
                inp["diff"] = "\n".join(lines)
                if item["dest"]:
                    inp["move_to"] = item["dest"]
            else:
                inp["diff"] = ""
            self.builder.add("edit", "apply_patch", input=inp, output=output, error=error,
                             at=started, ended_at=ended, meta=dict(meta))

    def finish(self) -> None:
        self._flush_exec()
        self._flush_patch()
        self.result.outcome["total_tokens"] = self.tokens if self.token_reports else None
        self.result.outcome["token_reports"] = self.token_reports
        if self.repeats:
            self.result.meta["reasoning_repeated_as_message"] = self.repeats
        if self.turn_diffs:
            self.result.meta["turn_diffs"] = self.turn_diffs


def parse(plain: str, builder: TraceBuilder) -> CodexConsole:
    """Steps from the console into ``builder``. ``plain`` is the captured stream without its
    colour codes; it is cut at the event headers and each event rendered on its own."""
    result = CodexConsole()
    banner = _BANNER.search(plain)
    events = list(_EVENT.finditer(plain, banner.start() if banner else 0))
    start = events[0].start() if events else len(plain)
    noise = plain[:start].count("\n")
    if noise:
        result.skipped["lines of setup and install output before the agent started"] = noise
    handler = _Events(builder, result)
    exited = False
    tracing = 0
    for number, match in enumerate(events):
        end = events[number + 1].start() if number + 1 < len(events) else len(plain)
        text = render(plain[match.end():end])
        text, found = _TRACING.subn("", text)
        tracing += found
        if number + 1 == len(events):
            prompt = _PROMPT.search(text)
            if prompt:
                after = text[prompt.start():].strip("\n").count("\n") + 1
                result.skipped["lines after the agent exited (shell prompt, recorder)"] = after
                text = text[:prompt.start()]
                exited = True
        text = text.strip("\n")
        handler.event(_epoch(match.group(1)), text)
    handler.finish()
    if tracing:
        result.skipped["Codex log lines (codex_core tracing, stderr)"] = tracing
    last_error = bool(builder.steps) and builder.steps[-1].kind == "error"
    result.outcome["exit_status"] = "exited" if exited else "cut off"
    if not exited:
        result.status = "aborted"
    elif last_error:
        result.status = "error"
    return result
