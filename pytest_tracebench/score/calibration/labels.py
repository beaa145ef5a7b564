"""Reviewer labels: findings a person marked right or wrong, and each detector's precision
against them.

A verifier says whether a run worked, not whether a finding is true: "retry loop at steps
4-11" can be right on a run that passed and wrong on one that failed. So a reviewer marks
findings in the dashboard, and the marks download as a *labels file*: JSON Lines, one marked
finding a line (docs/dashboard.md)::

    {"trace_id": "9f3c…", "detector": "retry_loop", "steps": [3, 5, 7], "label": "right"}

``trace_id`` and ``detector`` name the finding's trace and detector, ``steps`` its steps as
the JSON report gives them (from 0), ``label`` is ``right`` or ``wrong``. Other keys (the
dashboard adds ``task_id`` and ``message``, for the person reading the file) are ignored. A
finding labelled twice counts with its last label.

``tracebench calibrate RUNS --labels FILE`` analyses the runs as the detectors are now and
matches each label to the finding it names (same trace and detector, the same steps, else the
finding of that detector in that trace sharing the most steps): precision is the share of the
matched findings labelled right. A label whose finding the detectors no longer make is counted
apart (a false alarm gone, or a true finding lost), as are labels of traces not among the runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pytest_tracebench.models import Finding, TraceResult

LABELS = ("right", "wrong")


class LabelsError(Exception):
    """A labels file that cannot be read (the message names the file, line and field)."""


@dataclass(frozen=True)
class Label:
    trace_id: str
    detector: str
    steps: tuple[int, ...]
    right: bool
    line: int


def read_labels(path: Path) -> list[Label]:
    """The labels of ``path``, the last one of each finding; :class:`LabelsError` names the
    first line that is not a label."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise LabelsError(f"{path}: cannot read the labels file: {exc.strerror or exc}") \
            from None
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: not UTF-8 text (byte {exc.start}); a labels file is "
                          f"JSON lines") from None
    found: dict[tuple[str, str, tuple[int, ...]], Label] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        label = _label(line, f"{path}:{number}", number)
        found[(label.trace_id, label.detector, label.steps)] = label
    if not found:
        raise LabelsError(f"{path}: no labels in the file (expected JSON lines of trace_id, "
                          f"detector, steps, label)")
    return list(found.values())


def _label(line: str, where: str, number: int) -> Label:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise LabelsError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise LabelsError(f"{where}: expected an object with trace_id, detector, steps, "
                          f"label; got {type(data).__name__}")
    for key in ("trace_id", "detector"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise LabelsError(f"{where}: field {key!r}: expected a non-empty string, got "
                              f"{_shown(data.get(key))}")
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in steps):
        raise LabelsError(f"{where}: field 'steps': expected a list of step numbers (from "
                          f"0), got {_shown(steps)}")
    if data.get("label") not in LABELS:
        raise LabelsError(f"{where}: field 'label': expected \"right\" or \"wrong\", got "
                          f"{_shown(data.get('label'))}")
    return Label(data["trace_id"], data["detector"], tuple(sorted(set(steps))),
                 data["label"] == "right", number)


def _shown(value: object) -> str:
    text = "nothing" if value is None else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelledDetector(_Out):
    """One detector against the reviewer's labels."""

    detector: str
    right: int = 0
    """Findings it makes now that the reviewer marked right."""
    wrong: int = 0
    """Findings it makes now that the reviewer marked wrong."""
    precision: float | None = None
    """``right / (right + wrong)``; ``None`` with no labelled finding."""
    gone_right: int = 0
    """Labelled right, no longer found: true findings lost."""
    gone_wrong: int = 0
    """Labelled wrong, no longer found: false alarms gone."""
    unlabelled: int = 0
    """Its findings on the runs that no label names."""


class LabelsReport(_Out):
    """What ``tracebench calibrate --labels`` measured."""

    file: str
    labels: int
    matched: int
    """Labels matched to a finding the detectors make now."""
    other_traces: int
    """Labels of traces that are not among the runs."""
    detectors: list[LabelledDetector]


def measure_labels(labels: Sequence[Label], results: Sequence[TraceResult],
                   file: str) -> LabelsReport:
    """Each detector's precision on ``results`` against ``labels``."""
    findings: dict[str, list[Finding]] = {}
    for result in results:
        findings.setdefault(result.trace_id, []).extend(result.findings)
    rows: dict[str, LabelledDetector] = {}

    def row(name: str) -> LabelledDetector:
        return rows.setdefault(name, LabelledDetector(detector=name))

    taken: set[tuple[str, int]] = set()  # (trace, finding number) already matched
    other = matched = 0
    pending: list[Label] = []
    for exact in (True, False):  # exact matches first, so a near one cannot take their finding
        for label in (labels if exact else pending):
            if label.trace_id not in findings:
                other += 1
                continue
            number = _match(label, findings[label.trace_id], taken, exact)
            if number is None:
                if exact:
                    pending.append(label)
                    continue
                target = row(label.detector)
                if label.right:
                    target.gone_right += 1
                else:
                    target.gone_wrong += 1
                continue
            taken.add((label.trace_id, number))
            matched += 1
            target = row(label.detector)
            if label.right:
                target.right += 1
            else:
                target.wrong += 1
    for trace_id, items in findings.items():
        for number, finding in enumerate(items):
            if (trace_id, number) not in taken:
                row(finding.detector).unlabelled += 1
    for item in rows.values():
        judged = item.right + item.wrong
        item.precision = round(item.right / judged, 4) if judged else None
    return LabelsReport(file=file, labels=len(labels), matched=matched, other_traces=other,
                        detectors=sorted(rows.values(), key=lambda r: r.detector))


def _match(label: Label, items: list[Finding], taken: set[tuple[str, int]],
           exact: bool) -> int | None:
    best, overlap = None, 0
    wanted = set(label.steps)
    for number, finding in enumerate(items):
        if finding.detector != label.detector or (label.trace_id, number) in taken:
            continue
        steps = set(finding.steps)
        if exact:
            if steps == wanted:
                return number
            continue
        shared = len(steps & wanted)
        if shared > overlap:
            best, overlap = number, shared
    return best


def render_labels(report: LabelsReport) -> str:
    """The measures as text for the terminal."""
    lines = [f"=== Reviewer labels: {report.labels} in {report.file}, {report.matched} "
             f"matched to findings the detectors make now ==="]
    if report.other_traces:
        lines.append(f"{report.other_traces} label(s) of traces not among these runs, "
                     f"left out")
    lines.append("precision = labelled right / labelled findings found now; gone = labelled "
                 "findings no longer made")
    width = max([len(r.detector) for r in report.detectors] + [8])
    lines.append(f"  {'detector':{width}}  right  wrong  precision  gone right/wrong  "
                 f"unlabelled")
    for r in report.detectors:
        precision = f"{r.precision:.2f}" if r.precision is not None else "n/a"
        lines.append(f"  {r.detector:{width}}  {r.right:5}  {r.wrong:5}  {precision:>9}  "
                     f"{r.gone_right:>10}/{r.gone_wrong:<5}  {r.unlabelled:10}")
    return "\n".join(lines)
