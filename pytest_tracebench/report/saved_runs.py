"""Writing, reading and numbering saved reports (``<dir>/runs/NNNN_name.json``).

A saved report that cannot be read is reported in one line and skipped, like
pytest-benchmark's corrupt saved runs; a newer report version is refused with advice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from pytest_tracebench._atomic import write_text
from pytest_tracebench._jsonsafe import plain
from pytest_tracebench.models import REPORT_SCHEMA_VERSION, EvaluationReport
from pytest_tracebench.record.trace_file import _MIB, max_trace_bytes, not_regular

_RUN = re.compile(r"^(\d{4})_(.*)\.json$")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class ReportLoadError(Exception):
    """A report file cannot be used; the message is one line naming the file."""


def write_report(report: EvaluationReport, path: Path) -> Path:
    """Write ``report`` as JSON, replaced whole (see :mod:`.._atomic`): a reader never sees
    half a report, runs writing the same path at once do not fail, a full disk leaves no
    temporary file and its error names ``path``."""
    return write_text(path, report.model_dump_json(indent=2) + "\n")


def _report_text(path: Path) -> str:
    """The report's text, refused in one line when it cannot be one: a FIFO or a device, over
    the size limit, a zip, binary, UTF-16 or otherwise not UTF-8."""
    problem = not_regular(path)
    if problem is not None:
        raise ReportLoadError(f"{path}: {problem}")
    try:
        size = path.stat().st_size
        limit = max_trace_bytes()
        if size > limit:
            raise ReportLoadError(f"{path}: {size / 1e6:,.0f} MB is over the {limit // _MIB:,} "
                                  f"MiB limit for a report; raise TRACEBENCH_MAX_TRACE_MB to "
                                  f"read it")
        data = path.read_bytes()
    except OSError as exc:
        raise ReportLoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if data.startswith(b"PK\x03\x04"):
        raise ReportLoadError(f"{path}: not a tracebench report: a zip archive (an Inspect "
                              f".eval log is a trajectory: analyze it)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportLoadError(f"{path}: not a tracebench report: UTF-16 text (a report is "
                              f"UTF-8 JSON)")
    if b"\x00" in data[:8192]:
        raise ReportLoadError(f"{path}: not a tracebench report: a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportLoadError(f"{path}: not a tracebench report: not UTF-8 text at byte "
                              f"{exc.start}") from None


def load_report(path: Path) -> EvaluationReport:
    try:
        return _load_report(path)
    except RecursionError:
        raise ReportLoadError(f"{path}: not a tracebench report: nested too deeply to "
                              f"read") from None
    except MemoryError:
        pass  # reported below, once the handler has let go of what was being read
    raise ReportLoadError(f"{path}: out of memory reading it")


def _load_report(path: Path) -> EvaluationReport:
    text = _report_text(path)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportLoadError(f"{path}: not a tracebench report: invalid JSON ({exc})") from None
    if _SURROGATE.search(text):
        # ``\ud800`` is valid JSON but no text: printed or written again it raised
        # UnicodeEncodeError. Lone surrogates become U+FFFD, as the trace loader does.
        data = plain(data)
    del text
    if not isinstance(data, dict) or "results" not in data:
        raise ReportLoadError(f"{path}: not a tracebench report (no 'results')")
    version = data.get("schema_version")
    if isinstance(version, int) and version > REPORT_SCHEMA_VERSION:
        raise ReportLoadError(f"{path}: field 'schema_version': report version {version} is "
                              f"newer than this pytest-tracebench reads "
                              f"({REPORT_SCHEMA_VERSION}); upgrade pytest-tracebench")
    try:
        return EvaluationReport.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ReportLoadError(f"{path}: field '{loc}': {err['msg']}") from None


def runs_dir(base: Path) -> Path:
    return base / "runs"


def saved_runs(base: Path) -> list[Path]:
    folder = runs_dir(base)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _RUN.match(p.name))


def save_run(report: EvaluationReport, base: Path, name: str) -> Path:
    """Save as the next numbered run; returns the path."""
    existing = saved_runs(base)
    number = int(_RUN.match(existing[-1].name).group(1)) + 1 if existing else 1  # type: ignore[union-attr]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"
    return write_report(report, runs_dir(base) / f"{number:04d}_{safe[:80]}.json")


def find_run(base: Path, ref: str) -> Path:
    """A saved run by number (``3``, ``0003``), name, ``latest``, or path."""
    candidate = Path(ref)
    if candidate.suffix == ".json" and candidate.exists():
        return candidate
    if (candidate.suffix == ".json" or "/" in ref or "\\" in ref) and not candidate.exists():
        # A path, not a run's number or name: say that this file is missing, not that no run
        # was saved.
        raise ReportLoadError(f"{ref}: no such file")
    runs = saved_runs(base)
    if not runs and candidate.exists() and not candidate.is_dir():
        return candidate  # a file of another name: load_report says what it is
    if not runs:
        raise ReportLoadError(f"{runs_dir(base)}: no saved run to compare with; save one "
                              f"first with --tracebench-save=NAME or --tracebench-autosave")
    if ref in ("latest", "last", ""):
        return runs[-1]
    for path in runs:
        match = _RUN.match(path.name)
        assert match is not None
        if ref.isdigit() and int(ref) == int(match.group(1)):
            return path
        if match.group(2) == ref:
            return path
    if candidate.exists() and not candidate.is_dir():
        return candidate
    names = ", ".join(p.name for p in runs[-5:])
    raise ReportLoadError(f"{runs_dir(base)}: no saved run {ref!r}; latest: {names}")
