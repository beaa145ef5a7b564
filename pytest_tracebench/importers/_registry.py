"""Finding the importer for a file, and walking directories of trajectories."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pluggy

from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.models import Trace
from pytest_tracebench.record.trace_file import (
    TraceLoadError,
    check_regular,
    check_trace_size,
    not_regular,
    out_of_memory,
)

_HEAD_BYTES = 1 << 16

#: Files that sit beside trajectories in benchmark outputs but are not trajectories themselves.
#: A directory walk reports them as skipped (with the reason), never silently. Exact names
#: first, then the patterns of :data:`COMPANION_PATTERNS`.
COMPANION_FILES: dict[str, str] = {
    "report.json": "SWE-bench harness report (a verdict, not a trajectory)",
    "result.json": "Harbor trial result (a verdict, not a trajectory)",
    "results.json": "Terminal-Bench results (a verdict, not a trajectory)",
    "DERIVED_verdict.json": "verdict (not a trajectory)",
    "ctrf.json": "CTRF test report of the verifier (a verdict, not a trajectory)",
    "reward.txt": "verifier reward (a verdict, not a trajectory)",
    "run_instance.log": "SWE-bench harness log (a verdict, not a trajectory)",
    "test_output.txt": "SWE-bench harness test output (a verdict, not a trajectory)",
    "eval.sh": "SWE-bench evaluation script (not a trajectory)",
    "run_metadata.json": "Terminal-Bench run metadata (not a trajectory)",
    "metadata.json": "session metadata (read with its events/ folder)",
    "base_state.json": "conversation state (read with its events/ folder)",
    "README.md": "documentation",
    "PROVENANCE.md": "documentation",
    "LICENSE": "license",
    "index.csv": "table of runs (not a trajectory)",
    "corpus_index.csv": "table of runs (not a trajectory)",
}
#: ``(pattern, reason)`` on the file name, tried after the exact names.
COMPANION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r".+\.(?:diff|patch)$"), "patch (the change the agent submitted, not a "
                                         "trajectory)"),
    (re.compile(r".+\.eval\.log$"), "SWE-bench harness log (a verdict, not a trajectory)"),
    (re.compile(r"exit_statuses_.*\.ya?ml$"), "run summary (not a trajectory)"),
    (re.compile(r".+\.ya?ml$"), "configuration (not a trajectory)"),
    (re.compile(r".+\.csv$"), "table (not a trajectory)"),
)


def companion_reason(name: str) -> str | None:
    """Why a file of this name beside trajectories is not one, or ``None``."""
    reason = COMPANION_FILES.get(name)
    if reason is not None:
        return reason
    for pattern, why in COMPANION_PATTERNS:
        if pattern.fullmatch(name):
            return why
    return None


@runtime_checkable
class Importer(Protocol):
    """What an importer provides. ``sniff`` must be cheap: it sees the first 64 KiB."""

    name: str
    """Format name used with ``--format`` (``mini-swe-agent``)."""
    description: str
    """One line for ``docs/formats.md`` and ``tracebench formats``."""

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when ``path`` (whose first bytes are ``head``; ``b""`` for a directory) is in
        this format."""
        ...

    def load(self, path: Path) -> list[Trace]:
        """The traces in ``path`` (some formats hold several runs per file)."""
        ...


@dataclass
class UnsupportedFormat:
    """A format we recognise but do not import yet: refused with a message naming it."""

    name: str
    description: str
    reason: str
    markers: tuple[str, ...]
    suffixes: tuple[str, ...] = ()

    def sniff(self, path: Path, head: bytes) -> bool:
        if self.suffixes and not path.name.endswith(self.suffixes):
            return False
        text = head.decode("utf-8", "replace")
        return all(marker in text for marker in self.markers)

    def load(self, path: Path) -> list[Trace]:
        raise TraceLoadError(path, f"{self.description} is not supported yet: {self.reason}")


def get_importers(pm: pluggy.PluginManager | None = None) -> list[Importer]:
    """All importers, built-in first, in detection order."""
    if pm is None:
        pm = get_plugin_manager()
    importers: list[Importer] = []
    # pluggy calls the most recently registered plugin first; reversed, built-ins come first.
    for batch in reversed(pm.hook.tracebench_importers()):
        importers.extend(batch)
    return importers


def _head(path: Path) -> bytes:
    """The first 64 KiB, plus the last 8 KiB of a larger file (some formats put their marker,
    such as mini-swe-agent's ``trajectory_format``, at the end)."""
    if path.is_dir():
        return b""
    check_regular(path)  # opening a FIFO waits for a writer; /dev/zero never ends
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
            if len(head) == _HEAD_BYTES:
                fh.seek(0, 2)
                size = fh.tell()
                fh.seek(max(_HEAD_BYTES, size - 8192))
                head += b"\n" + fh.read()
            return head
    except OSError as exc:
        raise TraceLoadError(path, f"cannot read: {exc.strerror or exc}") from None


def detect_importer(path: Path, importers: Sequence[Importer]) -> Importer:
    """The importer whose markers ``path`` carries, or a TraceLoadError saying what was
    expected."""
    head = _head(path)
    if not path.is_dir():
        if not head.strip():
            raise TraceLoadError(path, "empty file; expected an agent trajectory or a trace")
        if b"\x00" in head and not zipfile.is_zipfile(path):
            raise TraceLoadError(path, "binary file; expected an agent trajectory (JSON, JSON "
                                       "Lines, Markdown) or an Inspect .eval zip")
    for importer in importers:
        try:
            if importer.sniff(path, head):
                return importer
        except Exception:
            continue
    names = ", ".join(i.name for i in importers if not isinstance(i, UnsupportedFormat))
    raise TraceLoadError(path, f"unknown format; expected one of: {names}")


def import_path(path: str | Path, *, format: str | None = None,
                importers: Sequence[Importer] | None = None) -> list[Trace]:
    """Import every trace in ``path`` (a file, or a directory-shaped trajectory)."""
    path = Path(path)
    if not path.exists():
        raise TraceLoadError(path, "no such file or directory")
    check_trace_size(path)
    importers = list(importers) if importers is not None else get_importers()
    if format is not None:
        by_name = {i.name: i for i in importers}
        if format not in by_name:
            raise TraceLoadError(path, f"unknown --format {format!r}; known: "
                                       f"{', '.join(sorted(by_name))}")
        importer = by_name[format]
    else:
        importer = detect_importer(path, importers)
    exhausted = False
    try:
        traces = importer.load(path)
    except TraceLoadError:
        raise
    except MemoryError:
        # Reported once the handler has ended: until then the traceback keeps what was being
        # built, and even the message could not be allocated.
        exhausted = True
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, zipfile.BadZipFile,
            UnicodeDecodeError, RecursionError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise TraceLoadError(path, f"{importer.name}: not a valid {importer.description} file: "
                                   f"{type(exc).__name__}: {detail}") from None
    if exhausted:
        raise out_of_memory(path)
    if not traces:
        raise TraceLoadError(path, f"{importer.name}: the file holds no run")
    return traces


def is_directory_trace(path: Path, importers: Sequence[Importer] | None = None) -> bool:
    """True when an importer reads the folder ``path`` as one run (an OpenHands session, an
    AutoCodeRover task folder, a Terminal-Bench trial): its files are parts of that run, not
    trajectories of their own."""
    if not path.is_dir():
        return False
    for importer in importers if importers is not None else get_importers():
        if isinstance(importer, UnsupportedFormat):
            continue
        try:
            if importer.sniff(path, b""):
                return True
        except Exception:
            continue
    return False


def iter_trace_inputs(paths: Sequence[str | Path], importers: Sequence[Importer] | None = None
                      ) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(path, skip_reason)`` for every input under ``paths``, in a stable order.

    Directory-shaped traces are yielded whole; companion files (verdicts, patches, harness
    logs) come with the reason they are skipped; everything else is yielded for import (and
    reported if it fails).
    """
    importers = list(importers) if importers is not None else get_importers()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir() or is_directory_trace(path, importers):
            yield path, None
            continue
        yield from _walk(path, importers)


def _walk(folder: Path, importers: Sequence[Importer]) -> Iterator[tuple[Path, str | None]]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return  # unreadable folder: nothing of it can be listed
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_symlink() and child.is_dir():
            continue  # never follow linked folders: a link to an ancestor is an endless walk
        if child.is_dir():
            if is_directory_trace(child, importers):
                yield child, None
            else:
                yield from _walk(child, importers)
            continue
        reason = companion_reason(child.name) or not_regular(child)
        yield child, reason


def json_head(head: bytes) -> Any:
    """The JSON value at the start of ``head`` if the whole file fit; ``None`` otherwise."""
    try:
        return json.loads(head)
    except ValueError:
        return None
