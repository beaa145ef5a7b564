"""The Replay Engine: step through a recorded run in order.

:class:`Replayer` iterates the steps of any importable trace with the state accumulated so far
(files read and edited, the last test result, the findings open at that step); our JSON Lines
traces are streamed, one line in memory at a time, so replaying a 100,000-step trace starts at
once and does not grow with the trace. ``tracebench replay`` prints the steps in the seed's
shape (``ACTION:``/``STATE :``), with filters, ``--follow`` for a trace still being written,
and an interactive pager on a terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pytest_tracebench.importers import import_path
from pytest_tracebench.models import Finding, Step, TraceEnd, TraceHeader
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.redaction import default_redactor, redact_json
from pytest_tracebench.record.trace_file import (
    _MIB,
    _RECORD,
    TraceLoadError,
    _sniff,
    check_regular,
    iter_records,
    max_line_bytes,
)
from pytest_tracebench.text import clean

SHORT = 160


@dataclass
class ReplayState:
    """What the run had done up to and including the current step."""

    index: int = -1
    files_read: list[str] = field(default_factory=list)
    files_edited: list[str] = field(default_factory=list)
    last_test: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    """Findings whose first step is at or before the current one."""


class Replayer:
    """Iterate a trace's steps with the accumulated state.

    ``findings`` (optional) are shown at their steps; pass the result of an analysis.
    """

    def __init__(self, path: str | Path, *, findings: Iterable[Finding] = (),
                 format: str | None = None, redactor: Any = True) -> None:
        self.path = Path(path)
        self.format = format
        # An imported trajectory was never redacted, and what is shown is cut short: each
        # step is redacted whole before it is formatted. ``None`` shows it as stored.
        self.redactor: Any = default_redactor() if redactor is True else redactor
        self.header: TraceHeader | None = None
        self.end: TraceEnd | None = None
        self.by_step: dict[int, list[Finding]] = {}
        for finding in findings:
            self.by_step.setdefault(finding.steps[0] if finding.steps else -1, []).append(finding)

    def steps(self) -> Iterator[Step]:
        """The steps in order, redacted, streamed for our JSON Lines, imported for others."""
        for step in self._stored_steps():
            yield redact_step(step, self.redactor)

    def _stored_steps(self) -> Iterator[Step]:
        try:
            streamed = self.format in (None, "tracebench") and not self.path.is_dir() and \
                _sniff(self.path)[0] == "jsonl"
        except TraceLoadError:
            streamed = False  # binary (an Inspect .eval zip) or worse: the importers decide
        if streamed:
            for _, record in iter_records(self.path):
                if isinstance(record, TraceHeader):
                    self.header = record
                elif isinstance(record, TraceEnd):
                    self.end = record
                else:
                    yield record
            return
        trace = import_path(self.path, format=self.format)[0]
        self.header, self.end = trace.header, trace.end
        yield from trace.steps

    def __iter__(self) -> Iterator[tuple[Step, ReplayState]]:
        state = ReplayState()
        for step in self.steps():
            state.index = step.index
            inp = step.input if isinstance(step.input, dict) else {}
            path = inp.get("path")
            if step.kind == "read" and isinstance(path, str):
                state.files_read.append(path)
            elif step.kind == "edit" and isinstance(path, str) and \
                    path not in state.files_edited:
                state.files_edited.append(path)
            elif step.kind == "test" and isinstance(step.output, dict):
                state.last_test = step.output
            state.findings.extend(self.by_step.get(step.index, []))
            yield step, state


def redact_step(step: Step, redactor: Any) -> Step:
    """``step`` with its secrets redacted (the same object when it holds none)."""
    if redactor is None:
        return step
    data = step.model_dump(mode="json")
    clean = redact_json(data, redactor)
    return step if clean is data else Step.model_validate(clean)


def _short(value: Any, limit: int = SHORT) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value) if isinstance(value, (dict, list)) else json.dumps(value,
                                                                                  default=str)
        except (TypeError, ValueError):
            text = repr(value)
    text = clean(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_step(step: Step, findings: list[Finding], *, full: bool = False) -> list[str]:
    """The seed's shape: ``ACTION: name`` and ``STATE : input``, then output and findings."""
    limit = 100_000 if full else SHORT
    lines = [f"ACTION: {clean(step.name)}" + (f"  [{step.kind} #{step.index + 1}]"
                                             if step.kind else "")]
    lines.append(f"STATE : {_short(step.input, limit)}")
    if step.output not in (None, "", {}):
        lines.append(f"OUTPUT: {_short(step.output, limit)}")
    if step.error:
        lines.append(f"ERROR : {_short(step.error, limit)}")
    for finding in findings:
        lines.append(f"  !! {finding.detector} [{finding.severity}]: {clean(finding.message)}")
    return lines


@dataclass
class Filters:
    kinds: set[str] = field(default_factory=set)
    start: int | None = None
    """First step to show, counted from 1."""
    stop: int | None = None
    """Last step to show, counted from 1."""
    grep: re.Pattern[str] | None = None

    def __call__(self, step: Step) -> bool:
        number = step.index + 1
        if self.kinds and step.kind not in self.kinds:
            return False
        if self.start is not None and number < self.start:
            return False
        if self.stop is not None and number > self.stop:
            return False
        if self.grep is not None:
            text = f"{step.name} {_short(step.input, 10_000)} {_short(step.output, 10_000)}"
            return bool(self.grep.search(text))
        return True


def replay_print(replayer: Replayer, out: IO[str], *, keep: Callable[[Step], bool],
                 single: int | None = None) -> int:
    """Print the replay; returns the number of steps shown."""
    if single is None:
        out.write("=== Replaying Trace ===\n\n")
    shown = 0
    for step, _state in replayer:
        if single is not None:
            if step.index + 1 == single:
                out.write("\n".join(format_step(step, replayer.by_step.get(step.index, []),
                                                full=True)) + "\n")
                return 1
            continue
        if not keep(step):
            continue
        out.write("\n".join(format_step(step, replayer.by_step.get(step.index, []))) + "\n\n")
        out.flush()
        shown += 1
    return shown


def follow(path: Path, out: IO[str], *, keep: Callable[[Step], bool], poll: float = 0.2,
           timeout: float | None = None, redactor: Any = True) -> int:
    """Print steps as another process appends them, until the end record (or ``timeout``
    seconds without a new line). Lines are read whole: a half-written line waits for its end,
    up to the line limit (``TRACEBENCH_MAX_LINE_MB``: a line that never ends is refused).

    A file truncated or replaced under us (a re-run of the same test writes the same path) is
    noticed, by its size, its inode or its first line, and followed from its start."""
    from pydantic import ValidationError

    out.write(clean(f"=== Following {path} ===") + "\n\n")
    out.flush()
    limit = max_line_bytes()
    shown = 0
    position = 0
    lineno = 0
    buffer = b""
    first: bytes | None = None  # the first line of the file being followed
    identity: tuple[int, int] | None = None
    last_news = time.monotonic()
    while True:
        chunk = b""
        try:
            check_regular(path)  # a FIFO put in its place would block the open
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                head = fh.readline(limit + 1) if first is not None else b""
                rewritten = identity not in (None, (st.st_dev, st.st_ino)) or \
                    st.st_size < position or (first is not None and head != first[:len(head)])
                if rewritten:
                    out.write("=== the trace was rewritten; following the new run ===\n\n")
                    out.flush()
                    position, lineno, buffer, first = 0, 0, b"", None
                identity = (st.st_dev, st.st_ino)
                fh.seek(position)
                chunk = fh.read(limit + 1 - len(buffer))
                position = fh.tell()
        except FileNotFoundError:
            pass
        if chunk:
            buffer += chunk
            if first is None and buffer.lstrip() and not buffer.lstrip().startswith(b"{"):
                raise TraceLoadError(path, "not a tracebench trace (JSON Lines starting with a "
                                           "'trace' record); --follow reads only those")
            *lines, buffer = buffer.split(b"\n")
            if lines or len(buffer) > limit:
                last_news = time.monotonic()
            if len(buffer) > limit:
                raise TraceLoadError(path, f"line longer than {limit // _MIB:,} MiB; a trace "
                                           f"line holds one step; raise "
                                           f"TRACEBENCH_MAX_LINE_MB to read it",
                                     line=lineno + len(lines) + 1)
            for line in lines:
                lineno += 1
                if first is None:
                    first = line + b"\n"
                if not line.strip():
                    continue
                try:
                    record = _RECORD.validate_json(line)
                except ValidationError as exc:
                    record, problem = None, exc.errors()[0]["msg"]
                if lineno == 1 and not isinstance(record, TraceHeader):
                    raise TraceLoadError(path, "not a tracebench trace: expected the trace "
                                               "header record; --follow reads only our JSON "
                                               "Lines", line=1)
                if record is None:  # damage in a live file: say where, and follow on
                    print(clean(f"warning: {path}:{lineno}: unreadable line skipped: "
                                f"{problem}"), file=sys.stderr)
                    continue
                if isinstance(record, TraceEnd):
                    out.write(f"=== run ended: {record.status} ===\n")
                    out.flush()
                    return shown
                if isinstance(record, Step) and keep(record):
                    record = redact_step(record, default_redactor() if redactor is True
                                         else redactor)
                    out.write("\n".join(format_step(record, [])) + "\n\n")
                    out.flush()
                    shown += 1
            continue  # read on at once while the file has more
        if timeout is not None and time.monotonic() - last_news > timeout:
            out.write("=== no new step; stopped following ===\n")
            return shown
        time.sleep(poll)


HELP = ("n/enter: next   p: previous   j N: jump to step N   /TEXT: search   "
        "f: next finding   q: quit")


def interactive(replayer: Replayer, inp: IO[str], out: IO[str]) -> None:
    """A pager over the steps: one step at a time, commands read line by line."""
    steps = [step for step, _ in replayer]
    if not steps:
        out.write("(no steps)\n")
        return
    position = 0
    out.write(f"=== Replaying Trace === {len(steps)} steps   {HELP}\n")
    while True:
        step = steps[position]
        out.write("\n" + "\n".join(format_step(step, replayer.by_step.get(step.index, []),
                                               full=True)) + "\n")
        out.write(f"[{position + 1}/{len(steps)}] > ")
        out.flush()
        line = inp.readline()
        if not line:
            return
        command = line.strip()
        if command in ("q", "quit", "exit"):
            return
        if command in ("", "n"):
            position = min(position + 1, len(steps) - 1)
        elif command == "p":
            position = max(position - 1, 0)
        elif command.startswith("j"):
            target = command[1:].strip()
            if target.isdigit():
                position = max(0, min(int(target) - 1, len(steps) - 1))
        elif command.startswith("/"):
            needle = command[1:].lower()
            order = list(range(position + 1, len(steps))) + list(range(0, position + 1))
            hit = next((i for i in order if needle in " ".join(
                format_step(steps[i], [], full=True)).lower()), None)
            if hit is None:
                out.write(f"(not found: {command[1:]})\n")
            else:
                position = hit
        elif command == "f":
            hit = next((i for i in range(position + 1, len(steps))
                        if replayer.by_step.get(steps[i].index)), None)
            if hit is None:
                out.write("(no further finding)\n")
            else:
                position = hit
        else:
            out.write(HELP + "\n")


def run_cli(path: Path, *, fmt: str | None, filters: Filters, single: int | None,
            follow_mode: bool, interactive_mode: bool, findings: bool,
            timeout: float | None = None, redactor: Any = True) -> int:
    """``tracebench replay``: returns the exit code."""
    out = sys.stdout
    if follow_mode:
        follow(path, out, keep=filters, timeout=timeout, redactor=redactor)
        return 0
    found: list[Finding] = []
    if findings:
        pipeline = Pipeline.from_settings()
        for trace in import_path(path, format=fmt)[:1]:
            found = pipeline.analyze(trace).findings
    replayer = Replayer(path, findings=found, format=fmt, redactor=redactor)
    if interactive_mode and sys.stdin.isatty() and out.isatty():
        interactive(replayer, sys.stdin, out)
        return 0
    shown = replay_print(replayer, out, keep=filters, single=single)
    if single is not None and not shown:
        print(clean(f"{path}: no step {single}"), file=sys.stderr)
        return 1
    return 0
