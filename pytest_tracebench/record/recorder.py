"""The Trace Logger: :class:`TraceRecorder`, the object behind the ``trace`` fixture.

Each step is serialised, redacted, truncated and appended to the trace file as one JSON line
with one ``write()`` call, so a process killed at any moment leaves every finished step on
disk. The header is written lazily with the first record, so an agent can still name itself
(:meth:`TraceRecorder.set_agent`) before it acts.

A step's line is made by the native encoder (:mod:`pytest_tracebench.record._stepwriter`) in
the common case — plain JSON values, no secret trigger, under the size limit — and by the
Python path below (``_step_line``) for anything it declines; the Python path is what defines a
step's line. The native call also writes the line, through the writer's sink, once the header
is out; otherwise :meth:`TraceRecorder._append` writes it. The recorder keeps the step
counter, the current parent, the file and the sink.

The recorder knows nothing of pytest; the plugin and the benchmark agents both use it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, TypeVar, overload

import pydantic_core
from pydantic import BaseModel

from pytest_tracebench._jsonsafe import plain as _plain
from pytest_tracebench.models import (
    STEP_KINDS,
    TRACE_SCHEMA_VERSION,
    AgentInfo,
    EndStatus,
    SourceInfo,
    Step,
    TaskInfo,
    Trace,
    TraceEnd,
    TraceHeader,
)
from pytest_tracebench.record._stepwriter import (
    Encoder,
    LineWriter,
    WriterClosed,
    compile_triggers,
    encoder,
)
from pytest_tracebench.record.redaction import Redactor, default_redactor, redact_json
from pytest_tracebench.replay.cassette import Cassette, ReplayDivergence

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MAX_OUTPUT_CHARS = 100_000
_TRUNCATED_FIELDS = ("input", "output", "error")
_STEP_KIND_SET = frozenset(STEP_KINDS)


def _now() -> float:
    """Seconds since the epoch to the microsecond: what the native writer stamps, too."""
    return round(time.time(), 6)


class RecorderError(Exception):
    """Misuse of the recorder (unknown step kind, recording after the end)."""


class ReplayedError(Exception):
    """A replayed call that raised when it was recorded; the message is the recorded error."""


_NOT_REPLAYED = object()


@dataclasses.dataclass
class RunResult:
    """What :meth:`TraceRecorder.run` returns."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


def _jsonable(value: Any) -> Any:
    """``json.dumps`` fallback: make common non-JSON values readable instead of failing."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return repr(value)


def _dumps(record: Mapping[str, Any]) -> bytes:
    """One JSON line (without the newline) as UTF-8 bytes.

    pydantic-core's serialiser is several times faster than ``json.dumps``; values it refuses
    (lone surrogates, circular references) are made plain first (``_jsonsafe.plain``).
    """
    try:
        return pydantic_core.to_json(record, fallback=_jsonable, inf_nan_mode="null")
    except (pydantic_core.PydanticSerializationError, ValueError):
        # Lone surrogates become U+FFFD and NaN null: as \ud800 escapes and NaN tokens
        # they made lines our own loader rejected.
        return json.dumps(_plain(record, _jsonable), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")


def truncate_text(text: str, limit: int) -> str:
    """Head and tail of ``text`` around a marker that states how much was cut."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n...[tracebench: {cut} chars truncated]...\n{text[-tail:]}"


def _truncate_value(value: Any, limit: int, path: str, notes: dict[str, Any]) -> Any:
    if isinstance(value, str):
        if len(value) > limit:
            notes[path] = {
                "length": len(value),
                "sha256": hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest(),
            }
            return truncate_text(value, limit)
        return value
    if isinstance(value, dict):
        return {k: _truncate_value(v, limit, f"{path}.{k}", notes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_truncate_value(v, limit, f"{path}[{i}]", notes) for i, v in enumerate(value)]
    return value


class Span:
    """A step that encloses other steps; created by :meth:`TraceRecorder.span`."""

    def __init__(self, recorder: TraceRecorder, index: int, kind: str, name: str, input: Any):
        self.recorder = recorder
        self.index = index
        self.kind = kind
        self.name = name
        self.input = input
        self.output: Any = None
        self.error: str | None = None
        self.meta: dict[str, Any] = {}
        self.started_at = _now()

    def set_output(self, output: Any) -> None:
        """Set what the span produced; written when the span closes."""
        self.output = output


class TraceRecorder:
    """Records the steps of one agent run.

    ``path=None`` records in memory only (what the ``trace`` fixture does without
    ``--tracebench``); :attr:`steps` and :meth:`to_trace` work either way.
    """

    _trace: Trace | None = None
    """The ended run's trace, built by the first :meth:`to_trace` after :meth:`end`."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        task: TaskInfo | Mapping[str, Any] | str | None = None,
        agent: AgentInfo | Mapping[str, Any] | str | None = None,
        redactor: Redactor | None = None,
        redact: bool = True,
        max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
        meta: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        on_finish: Callable[[TraceRecorder], None] | None = None,
        cassette: Cassette | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        if redactor is None and redact:
            redactor = default_redactor()
        self.redactor = redactor if redact else None
        self.max_output_chars = max_output_chars
        self.header = TraceHeader(
            schema_version=TRACE_SCHEMA_VERSION,
            trace_id=trace_id or uuid.uuid4().hex,
            task=_coerce_model(TaskInfo, task, "id"),
            agent=_coerce_model(AgentInfo, agent, "name"),
            started_at=time.time(),
            source=SourceInfo(format="tracebench"),
            meta=dict(meta or {}),
        )
        self.end_record: TraceEnd | None = None
        self._stack: list[Span] = []
        self._lock = threading.RLock()
        self.write_error: str | None = None
        """Why the trace file stopped being written (disk full, ...); ``None`` if it was not."""
        self._header_written = False
        self._agent_changed = False
        self._on_finish = on_finish
        self.cassette = cassette
        """Answers recorded calls in replay mode (see :mod:`pytest_tracebench.replay.cassette`)."""
        fd = -1
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Unbuffered: every record is one write() system call, so it is in the OS's
                # hands (and survives SIGKILL of this process) as soon as the call returns.
                # Read-write: the writer reads its lines back instead of keeping a copy.
                # (os.open's descriptors are not inherited by subprocesses.)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC
                             | getattr(os, "O_BINARY", 0), 0o666)  # closed in end()
            except OSError as exc:
                # A read-only or full trace directory must not fail the agent's run: record
                # in memory (the test's own analysis still sees every step) and say so once.
                import warnings

                self.write_error = f"{self.path}: cannot create the trace file: " \
                                   f"{exc.strerror or exc}"
                warnings.warn(f"tracebench: {self.write_error}; the steps are kept in memory "
                              f"only", RuntimeWarning, stacklevel=2)
        self._fd = fd
        self._writer = LineWriter(fd, self._lock)
        self._sink = self._writer.sink  # the same list for the writer's life
        self._header_due = fd >= 0  # written with the first line, so set_agent() can go first
        self._indices = itertools.count()  # next() is atomic: threads never share an index
        self._parent: int | None = None
        """The parent of steps recorded now: the innermost open span's index."""
        self._encoder, self._triggers = self._native_encoder()

    # -- identity -----------------------------------------------------------------------------

    @property
    def trace_id(self) -> str:
        return self.header.trace_id

    def set_agent(self, name: str, model: str | None = None, **extra: Any) -> None:
        """Name the agent. Before the first step it goes in the header, later in the end record."""
        self.header.agent = AgentInfo(name=name, model=model, **extra)
        if self._header_written:
            self._agent_changed = True

    def set_task(self, **fields: Any) -> None:
        """Update task fields (``description``, ``budget``, ...) before the first step."""
        self.header.task = self.header.task.model_copy(update=fields)

    @property
    def finished(self) -> bool:
        return self.end_record is not None

    # -- the core call ------------------------------------------------------------------------

    def step(
        self,
        kind: str,
        name: str,
        *,
        input: Any = None,
        output: Any = None,
        error: str | None = None,
        meta: Mapping[str, Any] | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
        parent: int | None = None,
    ) -> int:
        """Record one step and return its index."""
        if kind not in _STEP_KIND_SET:
            raise RecorderError(f"unknown step kind {kind!r}; expected one of {STEP_KINDS}")
        index = next(self._indices)
        if parent is None:
            parent = self._parent
        # The common case in one native call that encodes and writes (no lock: see "the
        # sink" in _steplog.c); written out here, in command() and in _record(), not shared:
        # a Python call less per step (docs/performance.md, "recording"). Keep them alike.
        encoder = self._encoder
        if encoder is not None:
            try:
                line = encoder.write_step(self._sink, index, kind, name, input, output, error,
                                          meta, started_at, ended_at, parent, self._triggers,
                                          self.max_output_chars)
            except OSError as exc:
                self._native_write_failed(exc)
                return index
            if line is True:
                return index
            if line is not None:  # made, not written: the sink is closed
                self._append(line)
                return index
        self._append(self._step_line(index, kind, name, input, output, error, meta,
                                     started_at, ended_at, parent))
        return index

    def _native_encoder(self) -> tuple[Encoder | None, Any]:
        """The native encoder and the compiled triggers it checks, or ``(None, None)``: every
        step then takes the Python path (no compiler, ``TRACEBENCH_NATIVE=0``, or a redactor
        whose pre-check the encoder cannot do: no triggers, or triggers it cannot hold)."""
        native = encoder()
        if native is None or self.redactor is None:
            return native, None
        triggers = self.redactor.triggers
        compiled = compile_triggers(tuple(triggers)) if triggers is not None else None
        return (native, compiled) if compiled is not None else (None, None)

    def _record(
        self,
        index: int,
        kind: str,
        name: str,
        input: Any,
        output: Any,
        error: str | None,
        meta: Mapping[str, Any] | None,
        started_at: float | None,
        ended_at: float | None,
        parent: int | None,
    ) -> None:
        """Record a step's line: the native call's, else the Python path's (what step() does
        inline)."""
        encoder = self._encoder
        if encoder is not None:
            try:
                line = encoder.write_step(self._sink, index, kind, name, input, output, error,
                                          meta, started_at, ended_at, parent, self._triggers,
                                          self.max_output_chars)
            except OSError as exc:
                self._native_write_failed(exc)
                return
            if line is True:
                return
            if line is not None:  # made, not written: the sink is closed
                self._append(line)
                return
        self._append(self._step_line(index, kind, name, input, output, error, meta,
                                     started_at, ended_at, parent))

    def _step_line(
        self,
        index: int,
        kind: str,
        name: str,
        input: Any,
        output: Any,
        error: str | None,
        meta: Mapping[str, Any] | None,
        started_at: float | None,
        ended_at: float | None,
        parent: int | None,
    ) -> bytes:
        """The Python path: the step's line as the trace format defines it, with its newline."""
        if started_at is None or ended_at is None:
            now = _now()
            started_at = now if started_at is None else started_at
            ended_at = now if ended_at is None else ended_at
        record: dict[str, Any] = {
            "type": "step",
            "index": index,
            "kind": kind,
            "name": name,
            "input": input,
            "output": output,
            "started_at": started_at,
            "ended_at": ended_at,
        }
        if error is not None:
            record["error"] = error
        if parent is not None:
            record["parent"] = parent
        if meta:
            record["meta"] = dict(meta)
        line = self._finish_record(record)
        if b"\n" in line:
            raise ValueError("a trace line cannot hold a newline")
        return line + b"\n"

    def _finish_record(self, record: dict[str, Any]) -> bytes:
        """Serialise ``record``; redact and truncate it in place when needed. Returns the line."""
        line = _dumps(record)
        if self.redactor is not None and self.redactor.might_contain(line):
            # Round-trip first so objects the JSON fallback turned into text are redacted too.
            plain = json.loads(line)
            for key in ("name", *_TRUNCATED_FIELDS, "meta"):
                if key in plain:
                    record[key] = self.redactor.redact_value(plain[key])
            line = _dumps(record)
        if len(line) > self.max_output_chars:
            notes: dict[str, Any] = {}
            for key in _TRUNCATED_FIELDS:
                if key in record:
                    record[key] = _truncate_value(record[key], self.max_output_chars, key, notes)
            if notes:
                record.setdefault("meta", {})["truncated"] = notes
                line = _dumps(record)
        return line

    def _write_header(self) -> None:
        """The header line, once, before the first record."""
        with self._lock:
            try:
                if self._header_written or self._writer.fd < 0:
                    return
                self._write_header_line()
            finally:
                # Only now: a step in another thread that saw it still due waits for the lock.
                self._header_due = False

    def _write_header_line(self) -> None:
        header = self.header.model_dump(mode="json")
        line = _dumps(header)
        if self.redactor is not None and self.redactor.might_contain(line):
            line = _dumps(self.redactor.redact_value(header))
        try:
            self._writer.write_header(line + b"\n")  # opens the sink to the native call
        except OSError as exc:
            self._write_failed(exc)
            return
        self._header_written = True

    def _append(self, line: bytes) -> None:
        """Write a step's finished line (with its newline), whichever path made it, when the
        native call did not write it."""
        if self._header_due:
            self._write_header()
        try:
            self._writer.append(line)
        except OSError as exc:
            # Disk full, file size limit, a vanished mount: the agent's run must go on, and
            # what is already on disk stays loadable (at worst a truncated last line, which
            # the loader drops with a warning). Later steps are kept in memory, so the
            # test's own analysis still sees the whole run.
            self._write_failed(exc)
        except WriterClosed:
            raise self._after_end(line) from None

    def _native_write_failed(self, exc: OSError) -> None:
        """The native call could not write its line (it closed the sink): keep the line in
        memory, then detach and warn, as when :meth:`_append`'s write fails."""
        line = getattr(exc, "line", None)
        if isinstance(line, bytes):
            self._writer.keep(line)
        self._write_failed(exc)

    def _after_end(self, line: bytes) -> RecorderError:
        """The error for a step recorded after the end record, naming the step."""
        name = json.loads(line).get("name")
        return RecorderError(f"trace {self.trace_id}: step {name!r} recorded after the end record")

    def _write_failed(self, exc: OSError) -> None:
        import warnings

        with self._lock:
            fd, self._fd = self._fd, -1
            lost = ""
            try:
                self._writer.detach()  # reads the lines already written back into memory
            except OSError as read_exc:
                lost = f" (and the steps written before could not be read back: " \
                       f"{read_exc.strerror or read_exc})"
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.write_error = f"{self.path}: cannot write: {exc.strerror or exc}"
        warnings.warn(f"tracebench: {self.write_error}; the trace file ends here, later steps "
                      f"are kept in memory only{lost}", RuntimeWarning, stacklevel=4)

    # -- typed helpers ------------------------------------------------------------------------

    def command(
        self,
        command: str | Sequence[str],
        *,
        exit_code: int | None = None,
        stdout: str = "",
        stderr: str = "",
        cwd: str | Path | None = None,
        timed_out: bool = False,
        started_at: float | None = None,
        ended_at: float | None = None,
        name: str | None = None,
    ) -> int:
        """A shell command and its result."""
        index = next(self._indices)
        # As in step(): the encoder builds and writes this step's line straight from the
        # arguments, not from the two dicts the Python path builds first.
        encoder = self._encoder
        if encoder is not None:
            try:
                line = encoder.write_command(self._sink, index, command, exit_code, stdout,
                                             stderr, cwd, timed_out, started_at, ended_at,
                                             name, self._parent, self._triggers,
                                             self.max_output_chars)
            except OSError as exc:
                self._native_write_failed(exc)
                return index
            if line is True:
                return index
            if line is not None:  # made, not written: the sink is closed
                self._append(line)
                return index
        self._append(self._command_line(index, command, exit_code, stdout, stderr, cwd,
                                        timed_out, started_at, ended_at, name))
        return index

    def _command_line(self, index: int, command: str | Sequence[str], exit_code: int | None,
                      stdout: str, stderr: str, cwd: str | Path | None, timed_out: bool,
                      started_at: float | None, ended_at: float | None,
                      name: str | None) -> bytes:
        """The Python path of :meth:`command`: its line."""
        text = command if isinstance(command, str) else " ".join(str(c) for c in command)
        inp: dict[str, Any] = {"command": text}
        if cwd is not None:
            inp["cwd"] = str(cwd)
        out = {"exit_code": exit_code, "stdout": stdout, "stderr": stderr, "timed_out": timed_out}
        return self._step_line(index, "command", name or text.split(" ", 1)[0] or "command",
                               inp, out, None, None, started_at, ended_at, self._parent)

    def read(self, target: str | Path, *, content: Any = None, name: str = "read") -> int:
        """A file read or context retrieval (``target`` is a path or a query)."""
        return self.step("read", name, input={"path": str(target)}, output=content)

    def edit(
        self,
        path: str | Path,
        *,
        diff: str | None = None,
        old: str | None = None,
        new: str | None = None,
        content: str | None = None,
        op: str | None = None,
        name: str = "edit",
    ) -> int:
        """A file change: a unified ``diff``, an ``old``/``new`` pair, or the whole ``content``.

        ``op`` is ``create``, ``modify``, ``delete`` or ``revert`` when known."""
        inp: dict[str, Any] = {"path": str(path)}
        if op is not None:
            inp["op"] = op
        for key, value in (("diff", diff), ("old", old), ("new", new), ("content", content)):
            if value is not None:
                inp[key] = value
        return self.step("edit", name, input=inp)

    def test_run(
        self,
        *,
        passed: int = 0,
        failed: int = 0,
        errors: int = 0,
        skipped: int = 0,
        failing: Sequence[str] = (),
        command: str | None = None,
        exit_code: int | None = None,
        output: str | None = None,
        ok: bool | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
        name: str = "run_tests",
    ) -> int:
        """A test run with its counts and the ids of failing tests.

        ``ok`` is the run's verdict; it defaults to "no failures and no errors".
        ``started_at``/``ended_at`` (epoch seconds) say when the run happened: a test run is
        recorded after it ended, so without them it would take no time at all.
        """
        out: dict[str, Any] = {
            "ok": (failed == 0 and errors == 0) if ok is None else ok,
            "passed": passed, "failed": failed, "errors": errors, "skipped": skipped,
            "failing": list(failing),
        }
        if exit_code is not None:
            out["exit_code"] = exit_code
        if output is not None:
            out["output"] = output
        return self.step("test", name, input={"command": command} if command else None,
                         output=out, started_at=started_at, ended_at=ended_at)

    def message(self, text: str, *, role: str = "assistant", name: str = "message") -> int:
        """Something the agent says or thinks (plans, claims, final words)."""
        return self.step("message", name, input={"role": role}, output={"text": text})

    def llm(
        self,
        messages: Any = None,
        *,
        response: Any = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        tool_calls: Any = None,
        cost_usd: float | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
        name: str = "llm",
    ) -> int:
        """A model call: prompt messages, the response, token usage."""
        inp: dict[str, Any] = {"messages": messages}
        if model is not None:
            inp["model"] = model
        out: dict[str, Any] = {"content": response}
        if tool_calls is not None:
            out["tool_calls"] = tool_calls
        usage = {k: v for k, v in (("input_tokens", input_tokens),
                                   ("output_tokens", output_tokens)) if v is not None}
        if usage:
            out["usage"] = usage
        if cost_usd is not None:
            out["cost_usd"] = cost_usd
        return self.step("llm", name, input=inp, output=out, started_at=started_at,
                         ended_at=ended_at)

    def submit(self, patch: str | None = None, *, answer: Any = None,
               name: str = "submit") -> int:
        """The agent's final submission (a patch, an answer)."""
        inp: dict[str, Any] = {}
        if patch is not None:
            inp["patch"] = patch
        if answer is not None:
            inp["answer"] = answer
        return self.step("submit", name, input=inp)

    def error(self, exc: BaseException | str, *, name: str = "error") -> int:
        """An exception in the agent or the harness."""
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        return self.step("error", name, error=text, output={"type": type(exc).__name__}
                         if not isinstance(exc, str) else None)

    # -- spans and tool decoration ------------------------------------------------------------

    @contextlib.contextmanager
    def span(self, name: str, *, kind: str = "tool", input: Any = None) -> Iterator[Span]:
        """Group the steps recorded inside the block under one parent step.

        The span's index is taken when it opens (so it sorts before its children); its line is
        written when it closes, with any exception raised inside as its ``error``.
        """
        if kind not in _STEP_KIND_SET:
            raise RecorderError(f"unknown step kind {kind!r}; expected one of {STEP_KINDS}")
        with self._lock:
            index = next(self._indices)
            parent = self._parent
            span = Span(self, index, kind, name, input)
            self._stack.append(span)
            self._parent = index
        try:
            yield span
        except BaseException as exc:
            span.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with self._lock:
                if span in self._stack:
                    self._stack.remove(span)
                self._parent = self._stack[-1].index if self._stack else None
            if self.end_record is None:
                self._record(span.index, span.kind, span.name, span.input, span.output,
                             span.error, span.meta or None, span.started_at, _now(), parent)

    @overload
    def tool(self, fn: F) -> F: ...

    @overload
    def tool(self, *, kind: str = "tool", name: str | None = None) -> Callable[[F], F]: ...

    def tool(
        self, fn: F | None = None, *, kind: str = "tool", name: str | None = None
    ) -> F | Callable[[F], F]:
        """Decorator recording every call of an agent's tool function as a step.

        Records the bound arguments, the result or the exception (re-raised), and timing.
        Works on plain and ``async`` functions: ``@trace.tool`` or ``@trace.tool(kind="read")``.
        """

        def decorate(func: F) -> F:
            step_name = name or func.__name__
            signature = inspect.signature(func)

            if inspect.iscoroutinefunction(func):

                @functools.wraps(func)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    arguments = _bind(signature, args, kwargs)
                    replayed = self._replay(kind, step_name, arguments)
                    if replayed is not _NOT_REPLAYED:
                        return replayed
                    with self.span(step_name, kind=kind, input=arguments) as span:
                        span.meta["replayable"] = True
                        result = await func(*args, **kwargs)
                        span.set_output(result)
                        return result

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                arguments = _bind(signature, args, kwargs)
                replayed = self._replay(kind, step_name, arguments)
                if replayed is not _NOT_REPLAYED:
                    return replayed
                with self.span(step_name, kind=kind, input=arguments) as span:
                    span.meta["replayable"] = True
                    result = func(*args, **kwargs)
                    span.set_output(result)
                    return result

            return wrapper  # type: ignore[return-value]

        if fn is not None:
            return decorate(fn)
        return decorate

    # -- replay -------------------------------------------------------------------------------

    def _comparable(self, value: Any) -> Any:
        """``value`` as it would be stored (JSON form, secrets redacted), for matching."""
        plain = json.loads(_dumps({"v": value}))["v"]
        return self.redactor.redact_value(plain) if self.redactor is not None else plain

    def _replay(self, kind: str, name: str, arguments: Any) -> Any:
        """The recorded answer to this call, or ``_NOT_REPLAYED`` to execute it."""
        cassette = self.cassette
        if cassette is None or not cassette.should_replay():
            return _NOT_REPLAYED
        args = self._comparable(arguments)
        match, divergence = cassette.lookup(name, args)
        if divergence is not None:
            where = divergence.get("expected_step")
            self.step("error", "replay_divergence",
                      error=f"replay divergence: {name} called differently from the "
                            f"recording" + (f" (recorded step {where + 1})"
                                           if where is not None else ""),
                      meta={"replay": divergence})
        if match is None:
            if cassette.mode == "none":
                diff = (divergence or {}).get("diff", "")
                raise ReplayDivergence(
                    f"replay mode 'none': no recorded answer for {name}"
                    f"({json.dumps(args, default=str)[:200]})\n{diff}")
            return _NOT_REPLAYED
        recorded = match.step
        now = time.time()
        self.step(recorded.kind, name, input=arguments, output=recorded.output,
                  error=recorded.error, started_at=now, ended_at=now,
                  meta={"replayed": True, "replayable": True,
                        "recorded_step": recorded.index})
        if recorded.error:
            raise ReplayedError(recorded.error)
        return recorded.output

    def run(self, command: str | Sequence[str], *, cwd: str | Path | None = None,
            timeout: float | None = None, env: Mapping[str, str] | None = None) -> RunResult:
        """Execute a command and record it; in replay mode, answer it from the recording.

        The command runs through the shell when given as a string. Output is captured as
        text; a timeout is recorded (``timed_out``) and returns exit code ``None``.
        """
        import subprocess

        text = command if isinstance(command, str) else " ".join(str(c) for c in command)
        step_name = text.split(" ", 1)[0] or "run"
        arguments = {"command": text, **({"cwd": str(cwd)} if cwd is not None else {})}
        replayed = self._replay("command", step_name, arguments)
        if replayed is not _NOT_REPLAYED:
            out = replayed if isinstance(replayed, dict) else {}
            return RunResult(out.get("exit_code"), str(out.get("stdout", "")),
                             str(out.get("stderr", "")), bool(out.get("timed_out")))
        started = time.time()
        try:
            proc = subprocess.run(command, shell=isinstance(command, str), cwd=cwd,
                                  capture_output=True, text=True, timeout=timeout,
                                  env=dict(env) if env is not None else None,
                                  errors="replace")
            result = RunResult(proc.returncode, proc.stdout, proc.stderr, False)
        except subprocess.TimeoutExpired as exc:
            def _text(data: Any) -> str:
                return data.decode("utf-8", "replace") if isinstance(data, bytes) \
                    else (data or "")
            result = RunResult(None, _text(exc.stdout), _text(exc.stderr), True)
        self.step("command", step_name, input=arguments,
                  output={"exit_code": result.returncode, "stdout": result.stdout,
                          "stderr": result.stderr, "timed_out": result.timed_out},
                  started_at=started, ended_at=time.time(), meta={"replayable": True})
        return result

    # -- ending -------------------------------------------------------------------------------

    def end(
        self, status: EndStatus = "completed", outcome: Mapping[str, Any] | None = None
    ) -> None:
        """Write the end record and close the file. Later calls do nothing."""
        with self._lock:
            if self.end_record is not None:
                return
            # From here every step line is refused: appends take this lock and find the
            # writer sealed, and the native call finds the sink closed (it writes with the
            # GIL held, so one under way finished before this statement). The count is final.
            self._writer.seal()
            end = TraceEnd(status=status, ended_at=_now(), step_count=self._writer.count,
                           outcome=dict(outcome or {}))
            extra: dict[str, Any] = {}
            if self._agent_changed:
                extra["agent"] = self.header.agent.model_dump(mode="json")
            record = {**end.model_dump(mode="json"), **extra}
            if self.redactor is not None and self.redactor.might_contain(_dumps(record)):
                record = self.redactor.redact_value(record)
            self._write_header()
            try:
                # Reads the lines back into memory, then writes the end record.
                self._writer.close(_dumps(record) + b"\n")
            except OSError as exc:
                self._write_failed(exc)
            self.end_record = TraceEnd.model_validate(record)
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        if self._on_finish is not None:
            self._on_finish(self)

    def __enter__(self) -> TraceRecorder:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and not self.finished:
            self.error(exc, name="unhandled_exception")
            self.end("error", {"exception": f"{type(exc).__name__}: {exc}"})
        else:
            self.end()

    # -- reading back -------------------------------------------------------------------------

    @property
    def steps(self) -> list[Step]:
        """The steps recorded so far, in index order, as models."""
        steps = [Step.model_validate_json(line) for line in self._writer.lines]
        steps.sort(key=lambda step: step.index)
        return steps

    def to_trace(self) -> Trace:
        """The run so far as a :class:`Trace` (the same content the file holds).

        Once the run has ended the trace no longer changes, so it is built once and the same
        object is handed to every reader (the ``tracebench_trace_finished`` hook, the test's
        analysis, the dashboard): parsing the step lines again was a whole second read of the
        trace per reader (issue 18). Readers must not change it."""
        if self._trace is not None:
            return self._trace
        ended = self.end_record is not None
        # An ended recorder's header no longer changes, so it can be shared; a live one is
        # copied so that later updates do not reach a trace already handed out.
        header = self.header if ended else self.header.model_copy(deep=True)
        if self.redactor is not None:
            # As written: the task, the node id and the agent can hold secrets too.
            data = header.model_dump(mode="json")
            clean = redact_json(data, self.redactor)
            if clean is not data:
                header = TraceHeader.model_validate(clean)
        trace = Trace(header=header, steps=self.steps, end=self.end_record)
        if ended:
            self._trace = trace
        return trace

    @property
    def built_trace(self) -> Trace | None:
        """The ended run's trace if :meth:`to_trace` has built it already, else ``None``: a
        reader that can also load the file uses it instead of parsing again."""
        return self._trace


def _coerce_model(model: type[Any], value: Any, key: str) -> Any:
    if value is None:
        return model()
    if isinstance(value, model):
        return value.model_copy()
    if isinstance(value, str):
        return model(**{key: value})
    return model.model_validate(dict(value))


def _bind(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's arguments by parameter name (``self``/``cls`` left out)."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), "kwargs": kwargs}
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    for skip in ("self", "cls"):
        arguments.pop(skip, None)
    return arguments
