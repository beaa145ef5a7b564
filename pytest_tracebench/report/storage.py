"""Writing, reading and numbering saved reports (``<dir>/runs/NNNN_name.json``).

A saved report that cannot be read is reported in one line and skipped, like
pytest-benchmark's corrupt saved runs; a newer report version is refused with advice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from ..models import REPORT_SCHEMA_VERSION, EvaluationReport

_RUN = re.compile(r"^(\d{4})_(.*)\.json$")


class ReportLoadError(Exception):
    """A report file cannot be used; the message is one line naming the file."""


def write_report(report: EvaluationReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a report
    return path


def load_report(path: Path) -> EvaluationReport:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportLoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportLoadError(f"{path}: not a tracebench report: invalid JSON ({exc})") from None
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
    runs = saved_runs(base)
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
    names = ", ".join(p.name for p in runs[-5:])
    raise ReportLoadError(f"{runs_dir(base)}: no saved run {ref!r}; latest: {names}")
