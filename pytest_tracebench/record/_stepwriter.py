"""Where a trace's lines go (:class:`LineWriter`), and the native step encoder that makes most
of them.

:class:`~pytest_tracebench.record.recorder.TraceRecorder` makes each step's line in one of two
ways: the native encoder (``pytest_tracebench.record._steplog``, C), which serialises and
pre-checks the common case — plain JSON values, no secret trigger, under the size limit —
and returns ``None`` for anything else; or the recorder's Python path, which is the
specification of what a step looks like (the encoder is tested against it). The finished
line reaches the file with one ``write()``: in the common case from the same native call
(``write_step``/``write_command``, through the writer's :attr:`LineWriter.sink`), else
through :meth:`LineWriter.append`.

The encoder is stateless: it is given the step, the compiled secret triggers
(:func:`compile_triggers`), the size limit and, to write, the sink (a list the writer owns).
An install without a C compiler records exactly the same traces, more slowly;
``TRACEBENCH_NATIVE=0`` turns the encoder off on purpose (the tests compare both).
"""

from __future__ import annotations

import functools
import importlib
import os
import stat
import threading
from typing import Any, Literal, Protocol

__all__ = ["Encoder", "LineWriter", "WriterClosed", "compile_triggers", "encoder",
           "native_available"]


class WriterClosed(Exception):
    """A step line appended after the trace's end record (the recorder names the step)."""


class Encoder(Protocol):
    """The native module's calls (``_steplog.c`` documents each). ``write_*`` return ``True``
    when the line was written to the sink, the line when the sink is closed, ``None`` when
    declined; a failed write raises :class:`OSError` with the line as its ``line``."""

    def encode_step(self, index: int, kind: str, name: str, input: Any, output: Any,
                    error: Any, meta: Any, started_at: Any, ended_at: Any, parent: Any,
                    triggers: Any, max_chars: int, /) -> bytes | None: ...

    def encode_command(self, index: int, command: Any, exit_code: Any, stdout: Any,
                       stderr: Any, cwd: Any, timed_out: Any, started_at: Any, ended_at: Any,
                       name: Any, parent: Any, triggers: Any, max_chars: int, /
                       ) -> bytes | None: ...

    def write_step(self, sink: list[int], index: int, kind: str, name: str, input: Any,
                   output: Any, error: Any, meta: Any, started_at: Any, ended_at: Any,
                   parent: Any, triggers: Any, max_chars: int, /
                   ) -> Literal[True] | bytes | None: ...

    def write_command(self, sink: list[int], index: int, command: Any, exit_code: Any,
                      stdout: Any, stderr: Any, cwd: Any, timed_out: Any, started_at: Any,
                      ended_at: Any, name: Any, parent: Any, triggers: Any, max_chars: int, /
                      ) -> Literal[True] | bytes | None: ...


class LineWriter:
    """A trace's file and the step lines recorded so far.

    Lines written to a regular file are read back from it when asked for (every complete
    line between the header and the file's offset), so what the recorder shows is what the
    file holds, a forked child's lines included; keeping a second copy in memory cost more
    per step than making the line. Lines with nowhere else to go (no file, a pipe or
    ``/dev/null``, after a failed write or the end) are kept in memory.

    ``lock`` is the recorder's: :meth:`append` takes it, so a line is counted and written
    whole, never after :meth:`close`, and never between the recorder's header and its
    first line. The other calls are made by the recorder while it holds the lock.

    :attr:`sink` is the native writer's way in (``_steplog.c``, "the sink", explains why it
    needs no lock): open only once the header is written to a regular file, closed first
    thing by :meth:`seal`, :meth:`detach` and :meth:`close`, so no native write lands after
    the header is due, the count is read, the lines are read back or the file is closed.
    """

    def __init__(self, fd: int, lock: threading.RLock) -> None:
        self.fd = fd
        """The file descriptor, ``-1`` when there is none or it was detached."""
        self.sink = [-1, 0]
        """``[fd, count]``: the descriptor the native writer may write step lines to (``-1``
        while it may not) and how many it wrote. Written by the native call and here."""
        self._count = 0  # lines appended here (the sink counts the native writer's)
        self._mem: list[bytes] = []
        self._first = 0  # where the step lines start: after the header
        self._in_file = fd >= 0 and stat.S_ISREG(os.fstat(fd).st_mode)
        self._lock = lock
        self.closed = False
        """Whether the trace has ended: :meth:`append` raises :class:`WriterClosed`."""

    @property
    def count(self) -> int:
        """How many step lines were recorded (appended here or written by the native call)."""
        return self._count + self.sink[1]

    @property
    def lines(self) -> list[bytes]:
        """Every step line (without its newline), in write order: a new list each time."""
        in_file = self._read_back() if self.fd >= 0 and self._in_file else []
        return in_file + self._mem

    def append(self, line: bytes) -> None:
        """Record a step line that ends with its newline: one ``write()``, else memory.

        On a failed write the line is kept in memory and the error raised: the recorder
        detaches and warns."""
        with self._lock:
            if self.closed:
                raise WriterClosed(line)
            self._count += 1
            if self.fd >= 0:
                try:
                    written = os.write(self.fd, line)  # one call, unless the OS splits it
                    if written != len(line):
                        _write_all(self.fd, line[written:])
                except OSError:
                    self._mem.append(line[:-1])
                    raise
                if self._in_file:
                    return
            self._mem.append(line[:-1])

    def keep(self, line: bytes) -> None:
        """A line the native call failed to write (it closed the sink): kept in memory, as
        :meth:`append` keeps its own; dropped if the trace ended meanwhile (the end record
        was counted without it)."""
        with self._lock:
            if not self.closed:
                self._count += 1
                self._mem.append(line[:-1])

    def write_header(self, data: bytes) -> None:
        """The header line; then the native call may write step lines (a regular file)."""
        if self.fd >= 0:
            _write_all(self.fd, data)
            self._first += len(data)
            if self._in_file and not self.closed:
                self.sink[0] = self.fd

    def write(self, data: bytes) -> None:
        """Bytes that are not a step line (the end record)."""
        if self.fd >= 0:
            _write_all(self.fd, data)

    def _read_back(self) -> list[bytes]:
        end = os.lseek(self.fd, 0, os.SEEK_CUR)
        chunks, offset = [], self._first
        while offset < end:
            chunk = os.pread(self.fd, end - offset, offset)
            if not chunk:
                break  # truncated by someone else meanwhile: what is left
            chunks.append(chunk)
            offset += len(chunk)
        data = b"".join(chunks)
        return data[:data.rfind(b"\n") + 1].splitlines()

    def _absorb(self) -> None:
        if self.fd < 0 or not self._in_file:
            return
        self._in_file = False
        self._mem[:0] = self._read_back()

    def seal(self) -> None:
        """The trace is ending: no step line is written or counted from now on."""
        self.sink[0] = -1
        self.closed = True

    def detach(self) -> None:
        """Stop writing (a write failed): the lines in the file move to memory."""
        self.sink[0] = -1  # before reading back: no native write after the offset is read
        try:
            self._absorb()
        finally:
            self.fd = -1

    def close(self, final: bytes | None = None) -> None:
        """The trace has ended: the lines move to memory, then ``final`` is written."""
        self.seal()
        try:
            self._absorb()
            if final is not None:
                self.write(final)
        finally:
            self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    """Every byte, in as few ``write()`` calls as the OS allows (EINTR is retried by Python)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@functools.cache
def _native() -> Any:
    """The native module, or ``None`` where it was not built."""
    try:
        return importlib.import_module("pytest_tracebench.record._steplog")
    except ImportError:
        return None


def native_available() -> bool:
    """Whether the native encoder was built and imports on this machine."""
    return _native() is not None


def encoder() -> Encoder | None:
    """The native encoder, unless it is missing or ``TRACEBENCH_NATIVE=0``."""
    if os.environ.get("TRACEBENCH_NATIVE", "1") == "0":
        return None
    native: Encoder | None = _native()
    return native


@functools.lru_cache(maxsize=64)
def compile_triggers(triggers: tuple[str, ...]) -> Any:
    """``triggers`` compiled for the native pre-check (a 64 KiB table, built once per set),
    or ``None`` where the encoder is not built or cannot hold them (more than 256, not
    lowercase ASCII of 2 to 64 bytes): the caller then checks in Python."""
    native = _native()
    if native is None:
        return None
    try:
        return native.Triggers(triggers)
    except ValueError:
        return None
