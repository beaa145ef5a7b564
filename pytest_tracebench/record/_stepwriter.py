"""The recorder's line writer: the native one when it was built, else a Python one.

:class:`TraceRecorder` hands every step to a writer. The native writer
(``pytest_tracebench.record._steplog``, C) serialises the step, checks it for secrets and writes it
in one call, and declines (``emit`` returns ``False``) whenever the step needs more than that:
a secret trigger, a value that is not plain JSON, a line over the size limit. The recorder
then takes its Python path, which is the specification of what a step looks like; the
native one is tested against it.

:class:`PyStepWriter` has the same interface and declines every fast path, so an install
without a C compiler records exactly the same traces, more slowly. ``TRACEBENCH_NATIVE=0``
selects it on purpose (the tests compare both).
"""

from __future__ import annotations

import functools
import importlib
import itertools
import os
import stat
from collections.abc import Sequence
from typing import Any, Protocol


class StepWriter(Protocol):
    """What the recorder needs from a writer (``_steplog.c`` documents each call)."""

    fast: bool
    """Whether the fast path is open (the header is written, the trace not ended)."""
    parent: int | None
    """The parent of steps recorded now: the innermost open span's index."""

    def __next__(self) -> int:
        """The next step index."""
        ...

    @property
    def fd(self) -> int: ...

    @property
    def count(self) -> int: ...

    @property
    def lines(self) -> list[bytes]: ...

    def emit(self, index: int, kind: str, name: str, input: Any, output: Any, error: Any,
             meta: Any, started_at: Any, ended_at: Any, parent: Any) -> bool: ...

    def emit_command(self, index: int, command: Any, exit_code: Any, stdout: Any, stderr: Any,
                     cwd: Any, timed_out: Any, started_at: Any, ended_at: Any, name: Any,
                     parent: Any) -> bool: ...

    def record(self, line: bytes) -> None: ...

    def write(self, data: bytes) -> None: ...

    @property
    def sealed(self) -> bool: ...

    def detach(self) -> None: ...

    def seal(self) -> None: ...

    def close(self, final: bytes | None = None) -> None: ...


class PyStepWriter:
    """The writer without the native fast path: every ``emit`` declines.

    Where the lines are follows the native writer: those written to a regular file are read
    back from it (every complete line between the header and the file's offset), the others
    are kept in memory; so both show what the file holds, a forked child's lines included.
    """

    def __init__(self, fd: int, limit: int, triggers: Sequence[str] | None, redact: bool):
        self._fd = fd
        self._mem: list[bytes] = []
        self._count = 0
        self._first = 0  # where the step lines start: after the header
        self._in_file = fd >= 0 and stat.S_ISREG(os.fstat(fd).st_mode)
        self.sealed = False
        self.fast = False
        self.parent: int | None = None
        self._indices = itertools.count()

    def __iter__(self) -> PyStepWriter:
        return self

    def __next__(self) -> int:
        return next(self._indices)

    @property
    def fd(self) -> int:
        return self._fd

    @property
    def count(self) -> int:
        return self._count

    @property
    def lines(self) -> list[bytes]:
        in_file = self._read_back() if self._fd >= 0 and self._in_file else []
        return in_file + self._mem

    def emit(self, *args: Any) -> bool:
        return False

    def emit_command(self, *args: Any) -> bool:
        return False

    def record(self, line: bytes) -> None:
        if b"\n" in line:
            raise ValueError("a trace line cannot hold a newline")
        self._count += 1
        if self._fd >= 0:
            try:
                _write_all(self._fd, line + b"\n")
            except OSError:
                self._mem.append(line)  # kept; the recorder detaches and warns
                raise
            if self._in_file:
                return
        self._mem.append(line)

    def write(self, data: bytes) -> None:
        if self._fd >= 0:
            _write_all(self._fd, data)
            if self._count == 0:  # the header
                self._first += len(data)

    def _read_back(self) -> list[bytes]:
        end = os.lseek(self._fd, 0, os.SEEK_CUR)
        chunks, offset = [], self._first
        while offset < end:
            chunk = os.pread(self._fd, end - offset, offset)
            if not chunk:
                break  # truncated by someone else meanwhile: what is left
            chunks.append(chunk)
            offset += len(chunk)
        data = b"".join(chunks)
        return data[:data.rfind(b"\n") + 1].splitlines()

    def _absorb(self) -> None:
        if self._fd < 0 or not self._in_file:
            return
        self._in_file = False
        self._mem[:0] = self._read_back()

    def detach(self) -> None:
        try:
            self._absorb()
        finally:
            self._fd = -1

    def seal(self) -> None:
        self.sealed = True

    def close(self, final: bytes | None = None) -> None:
        try:
            self._absorb()
            if final is not None:
                self.write(final)
        finally:
            self.sealed = True
            self._fd = -1


def _write_all(fd: int, data: bytes) -> None:
    """Every byte, in as few ``write()`` calls as the OS allows (EINTR is retried by Python)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@functools.cache
def _native() -> Any:
    """The native module, or ``None`` where it was not built (typed through the Protocol)."""
    try:
        return importlib.import_module("pytest_tracebench.record._steplog")
    except ImportError:
        return None


def native_available() -> bool:
    """Whether the native writer was built and imports on this machine."""
    return _native() is not None


def make_writer(fd: int, limit: int, triggers: Sequence[str] | None, redact: bool) -> StepWriter:
    """The native writer unless it is missing or ``TRACEBENCH_NATIVE=0``."""
    native = _native() if os.environ.get("TRACEBENCH_NATIVE", "1") != "0" else None
    if native is not None:
        writer: StepWriter = native.StepWriter(fd, limit, triggers, redact)
        return writer
    return PyStepWriter(fd, limit, triggers, redact)
