"""The end-of-run stage, written once for both front ends.

``pytest --tracebench`` (``session.py``) and ``tracebench analyze``/``report`` (``cli.py``)
both end here: the baseline is read, the gates are checked, the comparison is made, and the
JSON report, the dashboard and the saved run are written. What stays in each front end is how
it prints and how it turns :class:`Finished` into an exit status (pytest's
``session.exitstatus``, the command's return code).

A baseline that cannot be read (missing, corrupt, no saved run yet) is a failed ``compare``
gate with the reader's one-line message, whichever front end ran: the report is still built
and written, so CI shows why the comparison could not run. A file that cannot be written ends
the writing there and is reported as :attr:`Finished.write_error`; each front end words it
as it words its other errors.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pluggy
from pydantic import BaseModel, ConfigDict

from pytest_tracebench.models import Comparison, EvaluationReport, Gate, Trace
from pytest_tracebench.record.redaction import redactor_from_settings
from pytest_tracebench.report.html import write_dashboard
from pytest_tracebench.report.saved_runs import (
    ReportLoadError,
    find_run,
    load_report,
    save_run,
    write_report,
)
from pytest_tracebench.score.compare import compare_reports
from pytest_tracebench.score.gates import judge_traces, per_trace_gate, session_gates
from pytest_tracebench.settings import Settings

__all__ = ["Finished", "WriteError", "finish"]

#: ``--json -``: the front end prints the report on stdout instead of writing a file.
STDOUT = "-"


class WriteError(BaseModel):
    """An output that could not be written: each front end says so in its own words (the
    CLI's ``tracebench: error: PATH: PROBLEM``, pytest's ``tracebench: cannot write ...``)."""

    path: str | None
    """The file or folder named by the error, when it names one."""
    problem: str
    """What went wrong (``No space left on device``)."""


class Finished(BaseModel):
    """What the end of a run decided and wrote."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    gates: list[Gate]
    """Every gate checked, in the order shown (also set on the report)."""
    comparison: Comparison | None = None
    """The differences against the baseline, when one was read (also set on the report)."""
    json_path: Path | None = None
    """Where the JSON report was written."""
    json_to_stdout: bool = False
    """The JSON report goes to stdout (``--json -``): the front end prints it."""
    html_path: Path | None = None
    """The dashboard's page, when one was written."""
    saved_path: Path | None = None
    """The saved run, when one was saved."""
    write_error: WriteError | None = None
    """The file that could not be written, and why (nothing after it was written)."""

    @property
    def failed_gates(self) -> list[Gate]:
        """The gates that did not hold."""
        return [gate for gate in self.gates if not gate.passed]

    @property
    def passed(self) -> bool:
        """Every gate held (a write error is the front end's to weigh)."""
        return not self.failed_gates


def _baseline(settings: Settings, base_dir: Path) -> tuple[EvaluationReport | None, Gate | None]:
    """The baseline to compare with, or the failed ``compare`` gate saying why there is none."""
    if not settings.compare:
        return None, None
    try:
        return load_report(find_run(base_dir, settings.compare)), None
    except ReportLoadError as exc:
        return None, Gate(name="compare", passed=False, message=str(exc))


def _gates(report: EvaluationReport, settings: Settings, baseline: EvaluationReport | None,
           judge: bool) -> list[Gate]:
    """The per-trace summary first, then the session gates.

    The per-trace gate is there when ``min_score``/``fail_on`` is set, or, for traces judged
    by the front end (pytest), when a marker's gate failed one. A saved report re-rendered
    (``tracebench report``) without those settings is not judged again by its old verdicts."""
    gated = settings.min_score is not None or bool(settings.fail_on)
    if judge and gated:
        judge_traces(report, settings.min_score, settings.fail_on)
    if not judge:
        gated = gated or any(r.gate for r in report.results)
    gates = [per_trace_gate(report)] if gated else []
    return gates + session_gates(report, settings, baseline)


def _resolved(path: Path, cwd: Path) -> Path:
    return path if path.is_absolute() else cwd / path


def _write(report: EvaluationReport, settings: Settings, finished: Finished, *, cwd: Path,
           base_dir: Path, pm: pluggy.PluginManager | None,
           traces: Mapping[str, Trace] | None) -> None:
    """The JSON report, the dashboard, the saved run, in that order, each recorded on
    ``finished``; an ``OSError`` (disk full, a read-only folder) propagates."""
    if settings.json_path is not None and not finished.json_to_stdout:
        finished.json_path = write_report(report, _resolved(settings.json_path, cwd))
    if settings.html is not None:
        # The dashboard shows steps read back from trace files, imported ones unredacted:
        # the same redactor (built-in and plugin patterns) whichever front end asks.
        finished.html_path = write_dashboard(
            report, _resolved(settings.html, cwd), dict(traces) if traces is not None else None,
            redactor=redactor_from_settings(settings, pm),
            single_file=settings.self_contained_html)
    if settings.save or settings.autosave:
        finished.saved_path = save_run(report, base_dir,
                                       settings.save or time.strftime("%Y%m%d-%H%M%S"))


def finish(report: EvaluationReport, settings: Settings, *, base_dir: Path, cwd: Path,
           pm: pluggy.PluginManager | None = None, judge: bool = True,
           json_to_stdout: bool = False,
           traces: Mapping[str, Trace] | None = None) -> Finished:
    """Gates, comparison and outputs of a finished run; sets ``report.gates`` and
    ``report.comparison`` before anything is written, so the files carry them.

    ``base_dir``: the tracebench directory (saved runs). ``cwd``: what relative output paths
    are relative to. ``pm``: the plugin manager whose redaction patterns the dashboard uses
    (one is built from the settings when ``None``). ``judge``: judge each trace by the
    settings' ``min_score``/``fail_on`` here; pytest passes ``False``, as it judged each test
    with its marker when the test ended. ``json_to_stdout``: the front end prints the report
    when ``json`` is ``-``. ``traces``: the runs as analysed, by trace id, so the dashboard
    shows them without reading their files again (a result without one is read from its file).
    """
    baseline, unreadable = _baseline(settings, base_dir)
    gates = _gates(report, settings, baseline, judge)
    if unreadable is not None:
        gates.append(unreadable)
    comparison = compare_reports(baseline, report) if baseline is not None else None
    report.gates = gates
    if comparison is not None:
        report.comparison = comparison
    finished = Finished(gates=gates, comparison=comparison,
                        json_to_stdout=json_to_stdout and settings.json_path is not None
                        and str(settings.json_path) == STDOUT)
    try:
        _write(report, settings, finished, cwd=cwd, base_dir=base_dir, pm=pm, traces=traces)
    except OSError as exc:
        finished.write_error = WriteError(
            path=None if exc.filename is None else str(exc.filename),
            problem=exc.strerror or str(exc))
    return finished
