"""Reading and writing trace files.

Three shapes load into a :class:`~pytest_tracebench.models.Trace`:

* our JSON Lines (``{"type": "trace"...}`` then steps then ``{"type": "end"...}``), read line by
  line so memory does not grow with the file beyond the trace itself;
* a single JSON document of the same models (``{"header": ..., "steps": [...], "end": ...}``);
* the seed's example shape: a JSON list of ``{action, state, timestamp, output}`` records.

Problems are reported as one line naming the file, the line and the field. Damage that leaves
the recorded steps usable (a truncated last line, a missing end record) is a warning kept on
``Trace.warnings``; damage that makes the file untrustworthy is a :class:`TraceLoadError`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

from pydantic import Field, TypeAdapter, ValidationError

from pytest_tracebench._atomic import replacing
from pytest_tracebench._jsonsafe import plain
from pytest_tracebench.errors import TraceLoadError
from pytest_tracebench.models import TRACE_SCHEMA_VERSION, Step, Trace, TraceEnd, TraceHeader
from pytest_tracebench.record import seed as _seed

if TYPE_CHECKING:
    from pytest_tracebench.record.redaction import Redactor

__all__ = [
    "DEFAULT_MAX_LINE_MB",
    "DEFAULT_MAX_TRACE_MB",
    "MEMORY_RATIO",
    "TraceLoadError",
    "check_regular",
    "check_schema_version",
    "check_trace_size",
    "check_zip",
    "dump_trace",
    "format_loc",
    "header_line",
    "iter_records",
    "load_trace",
    "max_line_bytes",
    "max_trace_bytes",
    "not_regular",
    "out_of_memory",
    "special_kind",
    "trace_filename",
]


_RECORD = TypeAdapter(Annotated[TraceHeader | Step | TraceEnd, Field(discriminator="type")])
_SNIFF_BYTES = 1 << 20
_MIB = 1 << 20
DEFAULT_MAX_LINE_MB = 32
DEFAULT_MAX_TRACE_MB = 512


def _limit_mb(variable: str, default: int) -> int:
    """A size limit in MiB from the environment (read per call, so it applies to workers)."""
    raw = os.environ.get(variable, "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else default


def max_line_bytes() -> int:
    """Longest JSON Lines record read (``TRACEBENCH_MAX_LINE_MB``, default 32 MiB).

    Our recorder truncates long strings (``max_output_chars``), so a longer line is damage or
    a hostile file; reading it whole could exhaust memory."""
    return _limit_mb("TRACEBENCH_MAX_LINE_MB", DEFAULT_MAX_LINE_MB) * _MIB


def max_trace_bytes() -> int:
    """Largest trace loaded whole for analysis (``TRACEBENCH_MAX_TRACE_MB``, default 512
    MiB), counting a zip's members at their uncompressed size; also the limit for a report
    and for a download. Replay streams and has no such limit."""
    return _limit_mb("TRACEBENCH_MAX_TRACE_MB", DEFAULT_MAX_TRACE_MB) * _MIB


#: What a loaded and analysed trace costs in memory, as a multiple of its size (uncompressed),
#: measured by ``tests/test_limits.py``: 2-3 for real runs, ~15 for our own JSON Lines of
#: one-line steps, ~31 for a mini-swe-agent file of 100-byte steps (each step is a few
#: objects of fixed size, whatever its text).
MEMORY_RATIO = "2 to 35 times"


def special_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is neither a regular file nor a folder: a
    FIFO waits for a writer forever, a device such as ``/dev/zero`` never ends."""
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None


def not_regular(path: str | Path) -> str | None:
    """``not a regular file (a FIFO)`` when ``path`` (links followed) is a FIFO, a device or a
    socket; ``None`` for files, folders and paths that cannot be looked at (their reader says
    why)."""
    try:
        kind = special_kind(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None
    return f"not a regular file ({kind})" if kind else None


def check_regular(path: str | Path) -> None:
    """Refuse, before opening it, what is not a regular file or a folder."""
    problem = not_regular(path)
    if problem is not None:
        raise TraceLoadError(path, problem)


def check_zip(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose members add up to more than :func:`max_trace_bytes` uncompressed,
    before a member is read: its size on disk says nothing of that (a 4 MB ``.eval`` can
    hold 640 MB), and the zip reader never inflates a member past the size its directory
    declares. Every importer that opens a zip calls this."""
    size = sum(info.file_size for info in archive.infolist())
    if size > max_trace_bytes():
        raise _too_large(path, size, " uncompressed")


def _too_large(path: Path, size: int, packed: str = "") -> TraceLoadError:
    return TraceLoadError(
        path, f"{size / 1e6:,.0f} MB{packed} is over the {max_trace_bytes() // _MIB:,} MiB "
              f"limit for loading a whole trace (a loaded trace takes {MEMORY_RATIO} its size "
              f"in memory); raise TRACEBENCH_MAX_TRACE_MB, or stream it with `tracebench "
              f"replay`")


def _folder_size(path: Path) -> int:
    size = 0
    for member in path.rglob("*"):
        try:
            mode = member.stat().st_mode
        except OSError:
            continue
        kind = special_kind(mode)
        if kind is not None:
            raise TraceLoadError(path, f"holds {member.relative_to(path).as_posix()}, which "
                                       f"is not a regular file ({kind})")
        if stat.S_ISREG(mode):
            size += member.stat().st_size
    return size


def check_trace_size(path: Path) -> None:
    """Refuse, with one line and before reading it, what cannot be loaded whole: a FIFO or a
    device (:func:`not_regular`), and a trace over :func:`max_trace_bytes` (a folder with all
    its files; a zip's members are counted by :func:`check_zip` when it is opened)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return  # the reader reports an unreadable file with its own message
    kind = special_kind(st.st_mode)
    if kind is not None:
        raise TraceLoadError(path, f"not a regular file ({kind})")
    try:
        size = _folder_size(path) if stat.S_ISDIR(st.st_mode) else st.st_size
    except OSError:
        return
    if size > max_trace_bytes():
        raise _too_large(path, size)


def out_of_memory(path: str | Path) -> TraceLoadError:
    """The one line for a file whose loading ran out of memory (an address-space limit)."""
    try:
        size = f"{Path(path).stat().st_size / 1e6:,.0f} MB"
    except OSError:
        size = "the file"
    return TraceLoadError(path, f"out of memory loading it ({size}; a loaded trace takes "
                                f"{MEMORY_RATIO} its size in memory); lower "
                                f"TRACEBENCH_MAX_TRACE_MB to refuse such files before reading")


def format_loc(loc: tuple[int | str, ...]) -> str:
    """``('steps', 3, 'index')`` -> ``steps[3].index``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "?"


def _validation_problem(exc: ValidationError, drop_tag: bool) -> tuple[str, str]:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    if drop_tag and loc and loc[0] in ("trace", "step", "end"):
        loc = loc[1:]
    message = err["msg"]
    if err["type"] == "union_tag_invalid":
        return "type", "unknown record type; expected 'trace', 'step' or 'end'"
    if err["type"] == "union_tag_not_found":
        return "type", "missing record type; expected 'trace', 'step' or 'end'"
    if err["type"] == "literal_error" and loc and loc[-1] == "kind":
        message = f"unknown step kind {err.get('input')!r}; {message}"
    return format_loc(loc), message


def check_schema_version(path: str | Path, version: Any, line: int | None) -> None:
    """Refuse a trace written by a newer tracebench, with a message saying what to do."""
    newer = isinstance(version, int) and version > TRACE_SCHEMA_VERSION
    if newer and not isinstance(version, bool):
        raise TraceLoadError(
            path,
            f"trace format version {version} is newer than this pytest-tracebench reads "
            f"({TRACE_SCHEMA_VERSION}); upgrade pytest-tracebench",
            line=line, field="schema_version",
        )


def _sniff(path: Path) -> tuple[str, bytes]:
    """Return (``jsonl``|``json``, first bytes) or raise for empty and binary files."""
    check_regular(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            first_line = head.lstrip().split(b"\n", 1)[0]
            if len(head) == _SNIFF_BYTES and b"\n" not in head.lstrip():
                first_line = header_line(fh, first_line) or first_line
    except OSError as exc:
        raise TraceLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head.strip():
        raise TraceLoadError(path, "empty file; expected a trace (JSON Lines or JSON)")
    if b"\x00" in head:
        raise TraceLoadError(path, "binary file; expected a trace (JSON Lines or JSON text)")
    try:
        first = json.loads(first_line)
    except (ValueError, RecursionError):
        return "json", head
    if isinstance(first, dict) and first.get("type") == "trace":
        return "jsonl", head
    return "json", head


_HEADER_START = re.compile(rb'\s*\{\s*"type"\s*:\s*"trace"\s*[,}]')


def header_line(fh: BinaryIO, prefix: bytes) -> bytes | None:
    """The whole first line of ``fh`` when ``prefix`` (its first bytes, cut before their
    newline) starts a trace header, which can be longer than any head read for detection (a
    task description of 80 KB); ``None`` otherwise. Read up to :func:`max_line_bytes`."""
    if not _HEADER_START.match(prefix):
        return None
    fh.seek(0)
    line = fh.readline(max_line_bytes() + 1)
    return line.strip() if len(line) <= max_line_bytes() else None


def _lenient(text: str) -> Any:
    """The data of a line only Python's ``json`` accepts, made plain; ``None`` if it does not."""
    try:
        return plain(json.loads(text))
    except (ValueError, RecursionError):
        return None


def iter_records(path: str | Path) -> Iterator[tuple[int, TraceHeader | Step | TraceEnd]]:
    """Yield ``(line number, record)`` from a JSON Lines trace, one line in memory at a time.

    A malformed last line without a newline (a writer killed mid-line) ends the iteration
    quietly; callers that care check :func:`load_trace`'s warnings instead.
    """
    for lineno, record, _ in _iter_jsonl(Path(path), warnings=[]):
        yield lineno, record


def _iter_jsonl(
    path: Path, warnings: list[str]
) -> Iterator[tuple[int, TraceHeader | Step | TraceEnd, bool]]:
    check_regular(path)
    try:
        fh = open(path, "rb")  # closed by the with below
    except OSError as exc:
        raise TraceLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    limit = max_line_bytes()
    with fh:
        lineno = 0
        while raw := fh.readline(limit + 1):  # never more than the limit in memory
            lineno += 1
            if len(raw) > limit:
                raise TraceLoadError(
                    path, f"line longer than {limit // _MIB:,} MiB; a trace line holds one "
                          f"step (long outputs are truncated when recorded); raise "
                          f"TRACEBENCH_MAX_LINE_MB to read it", line=lineno)
            if not raw.strip():
                continue
            complete = raw.endswith(b"\n")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TraceLoadError(path, f"not UTF-8 text at byte {exc.start}",
                                     line=lineno) from None
            if lineno == 1:
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    raise TraceLoadError(path, f"invalid JSON: {exc}", line=1) from None
                if not isinstance(data, dict) or data.get("type") != "trace":
                    raise TraceLoadError(path, "expected the trace header record",
                                         line=1, field="type")
                check_schema_version(path, data.get("schema_version"), 1)
            try:
                record = _RECORD.validate_json(text)
            except ValidationError as exc:
                lenient = _lenient(text) if exc.errors()[0]["type"] == "json_invalid" \
                    and complete else None
                if lenient is not None:
                    # A line Python's json reads but strict parsers do not (\ud800 escapes,
                    # NaN), as older versions of the recorder wrote them.
                    try:
                        record = _RECORD.validate_python(lenient)
                    except ValidationError as lenient_exc:
                        exc = lenient_exc
                    else:
                        yield lineno, record, complete
                        continue
                if exc.errors()[0]["type"] == "json_invalid":
                    if not complete:
                        warnings.append(
                            f"{path}:{lineno}: truncated last line ignored (the writer stopped "
                            f"mid-line)"
                        )
                        return
                    raise TraceLoadError(path, f"invalid JSON: {exc.errors()[0]['msg']}",
                                         line=lineno) from None
                field, message = _validation_problem(exc, drop_tag=True)
                raise TraceLoadError(path, message, line=lineno, field=field) from None
            yield lineno, record, complete


def _load_jsonl(path: Path) -> Trace:
    warnings: list[str] = []
    header: TraceHeader | None = None
    steps: list[Step] = []
    end: TraceEnd | None = None
    seen: set[int] = set()
    for lineno, record, _ in _iter_jsonl(path, warnings):
        if isinstance(record, TraceHeader):
            if header is not None:
                raise TraceLoadError(path, "a second trace header; one trace per file",
                                     line=lineno, field="type")
            header = record
        elif isinstance(record, Step):
            if end is not None:
                warnings.append(f"{path}:{lineno}: step after the end record ignored")
                continue
            if record.index in seen:
                warnings.append(f"{path}:{lineno}: duplicate step index {record.index} ignored")
                continue
            seen.add(record.index)
            steps.append(record)
        else:
            if end is not None:
                warnings.append(f"{path}:{lineno}: second end record ignored")
                continue
            end = record
    assert header is not None  # _iter_jsonl checked line 1
    if not all(a.index < b.index for a, b in itertools.pairwise(steps)):
        steps.sort(key=lambda s: s.index)
    if end is None:
        warnings.append(
            f"{path}: no end record: the run was aborted after {len(steps)} step(s)"
        )
    else:
        _apply_end_overrides(header, end)
        if end.step_count is not None and end.step_count != len(steps):
            warnings.append(
                f"{path}: end record counts {end.step_count} step(s), file holds {len(steps)}"
            )
    return Trace(header=header, steps=steps, end=end, warnings=warnings)


def _apply_end_overrides(header: TraceHeader, end: TraceEnd) -> None:
    """An agent named after the header was written travels in the end record."""
    extra = end.model_extra or {}
    agent = extra.get("agent")
    if isinstance(agent, dict):
        header.agent = header.agent.model_validate(agent)


def _load_json(path: Path) -> Trace:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TraceLoadError(path, f"not UTF-8 text at byte {exc.start}") from None
    except OSError as exc:
        raise TraceLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if exc.pos >= len(text.rstrip()) else "invalid JSON"
        raise TraceLoadError(path, f"{what}: {exc.msg} (column {exc.colno})",
                             line=exc.lineno) from None
    if isinstance(data, list):
        return _seed.from_records(data, path)
    if isinstance(data, dict) and "header" in data and "steps" in data:
        header = data.get("header")
        if isinstance(header, dict):
            check_schema_version(path, header.get("schema_version"), None)
        try:
            trace = Trace.model_validate(data)
        except ValidationError as exc:
            field, message = _validation_problem(exc, drop_tag=False)
            raise TraceLoadError(path, message, field=field) from None
        if trace.end is None:
            trace.warnings.append(
                f"{path}: no end record: the run was aborted after {len(trace.steps)} step(s)"
            )
        return trace
    raise TraceLoadError(
        path,
        "not a tracebench trace: expected JSON Lines starting with a 'trace' record, a JSON "
        "object with 'header' and 'steps', or a list of {action, state} records",
    )


def load_trace(path: str | Path) -> Trace:
    """Load a trace file in any of the shapes above. Raises :class:`TraceLoadError`."""
    path = Path(path)
    if path.is_dir():
        raise TraceLoadError(path, "is a directory; expected a trace file")
    check_trace_size(path)
    shape, _ = _sniff(path)
    if shape == "jsonl":
        return _load_jsonl(path)
    return _load_json(path)


def dump_trace(trace: Trace, path: str | Path, *, document: bool = False) -> Path:
    """Write ``trace`` as JSON Lines (default) or as one JSON document."""
    path = Path(path)
    with replacing(path) as fh:  # whole or not at all, even on a full disk
        if document:
            fh.write(trace.model_dump_json(indent=2) + "\n")
            return path
        fh.write(trace.header.model_dump_json() + "\n")
        for step in trace.steps:
            fh.write(step.model_dump_json(exclude_none=True) + "\n")
        if trace.end is not None:
            fh.write(trace.end.model_dump_json() + "\n")
    return path


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def trace_filename(nodeid: str, redactor: Redactor | None = None) -> str:
    """A file name for a node id: readable, unique, and unable to leave its directory.

    Secrets are redacted first (a parametrize value can hold a token, and once sanitised
    ``[ghp_...`` would be ``_ghp_...``, which no rule's word boundary sees). Everything but
    letters, digits, ``._-`` becomes ``_`` (so ``/``, ``..`` and NUL cannot form a path), the
    readable part is capped, and a hash of the full id keeps distinct ids apart after
    sanitising (a digest, which gives nothing of the id back).
    """
    shown = redactor.redact_text(nodeid) if redactor is not None else nodeid
    readable = _UNSAFE.sub("_", shown.replace("::", "__")).strip("._-")[:120] or "trace"
    digest = hashlib.sha1(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}-{digest}.jsonl"
