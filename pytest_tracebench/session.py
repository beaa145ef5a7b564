"""Session-wide state of a ``pytest --tracebench`` run.

Registered as a pytest plugin by ``plugin.py`` only when recording is on. It gathers the
per-test results that travel on reports (builtin dicts, so pytest-xdist carries them from the
workers) and writes the end-of-session summary.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pluggy
import pytest

from pytest_tracebench._pytest_keys import RECORDER_KEY
from pytest_tracebench.finish import Finished, finish
from pytest_tracebench.models import EvaluationReport, Gate, Trace, TraceResult
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.recorder import TraceRecorder
from pytest_tracebench.record.redaction import redactor_from_settings
from pytest_tracebench.record.trace_file import load_trace, trace_filename
from pytest_tracebench.report import render_terminal
from pytest_tracebench.report.build import build_report
from pytest_tracebench.score.gates import PER_TRACE
from pytest_tracebench.settings import Settings

_FAILURE_CHARS = 8_000  # of pytest's failure text kept in the trace: its end, where the E lines are


def outcome_of_test(report: pytest.TestReport) -> dict[str, Any]:
    """The outcome a test's trace ends with: whether it passed and, when it failed, what
    failed (pytest's failure text: the assertion of the test that judged the agent). A
    reviewer reads it in the dashboard as what decided the run; detectors never read it."""
    outcome: dict[str, Any] = {"passed": report.passed, "test_outcome": report.outcome}
    if report.failed and report.longrepr is not None:
        text = report.longreprtext
        if len(text) > _FAILURE_CHARS:
            text = "…" + text[-_FAILURE_CHARS:]
        outcome["failure"] = text
    return outcome


class TracebenchState:
    """Settings, plugin manager and redactor of one pytest session (also without --tracebench)."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager, base_dir: Path) -> None:
        self.settings = settings
        self.pm = pm
        directory = settings.dir if settings.dir.is_absolute() else base_dir / settings.dir
        self.base_dir = directory
        self.trace_dir = directory / "traces"
        self.redactor = redactor_from_settings(settings, pm)
        """The one redactor ``Pipeline.from_settings`` and ``finish`` get too (``None`` with
        redaction off)."""
        self._pipeline: Pipeline | None = None
        self.results: list[dict[str, Any] | Deferred] = []
        """Per-test results in test order: plain dicts from reports (analysed at the test's
        end, what xdist carries), or traces whose analysis waits for the session's end."""
        self.defer = False
        """Analyse at the session's end: set when no per-test gate, JUnit property or
        pytest-html column needs a test's score while it runs (issue 17)."""
        self.keep_traces = False
        """Keep each analysed trace for the dashboard this process writes (``--tracebench-html``
        and not an xdist worker); otherwise a trace is let go once analysed."""
        self.traces: dict[str, Trace] = {}
        """The analysed traces by id, handed to the dashboard: it read every trace file again
        (with a plugin manager of its own per read) where the run already had them (issue 18)."""

    def keep(self, trace: Trace) -> None:
        """Hand ``trace`` on to the dashboard, when one is written here."""
        if self.keep_traces:
            self.traces[trace.trace_id] = trace

    @property
    def pipeline(self) -> Pipeline:
        """Built once, on first use (sessions that record nothing never load detectors), as
        the CLI builds it: ``Pipeline.from_settings``, with the session's redactor."""
        if self._pipeline is None:
            self._pipeline = Pipeline.from_settings(self.settings, self.pm)
        return self._pipeline

    def trace_path(self, nodeid: str) -> Path:
        return self.trace_dir / trace_filename(
            nodeid, self.redactor if self.settings.redact else None)

    def notify_finished(self, recorder: TraceRecorder) -> None:
        """Tell plugins a trace is complete; a plugin that raises only costs a warning."""
        if not self.pm.hook.tracebench_trace_finished.get_hookimpls():
            return  # nobody listens: building the trace again cost a tenth of a short test
        path = str(recorder.path) if recorder.path is not None else None
        try:
            self.pm.hook.tracebench_trace_finished(trace=recorder.to_trace(), path=path)
        except Exception as exc:
            warnings.warn(
                f"tracebench: a tracebench_trace_finished hook raised "
                f"{type(exc).__name__}: {exc}",
                stacklevel=2,
            )


class GateStat:
    """A failed session gate as an entry of the terminal reporter's ``stats`` (which other
    plugins read as reports: the attributes they look for are there)."""

    count_towards_summary = True
    when = "session"
    nodeid = ""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate


@dataclasses.dataclass
class Deferred:
    """A finished trace analysed at the session's end: by its file when that was written
    whole (the recorder and its lines are let go), else by its recorder; by the trace itself
    when a ``tracebench_trace_finished`` hook had it built already (read once, not twice)."""

    path: str | None
    recorder: TraceRecorder | None = None
    trace: Trace | None = None

    @classmethod
    def of(cls, recorder: TraceRecorder) -> Deferred:
        path = str(recorder.path) if recorder.path is not None else None
        if recorder.built_trace is not None:
            return cls(path, trace=recorder.built_trace)
        if path is not None and recorder.write_error is None:
            return cls(path)
        return cls(path, recorder)

    def load(self) -> Trace:
        """The trace, parsed now unless it was built already."""
        if self.trace is not None:
            return self.trace
        if self.recorder is not None:
            return self.recorder.to_trace()
        assert self.path is not None  # of() keeps the recorder of a run without a file
        return load_trace(self.path)

    def analyze(self, pipeline: Pipeline) -> tuple[Trace, TraceResult]:
        """The trace and its result (the recorder's lines were redacted when written)."""
        trace = self.load()
        return trace, pipeline.analyze(trace, path=self.path, redacted=True)


class TracebenchSession:
    """Collects per-test results from reports; at the end builds the report, applies the
    session gates, writes JSON and saved runs, and prints the summary."""

    def __init__(self, state: TracebenchState, config: pytest.Config) -> None:
        self.state = state
        self.config = config
        self.results = state.results
        self.report: EvaluationReport | None = None
        self.errors: list[str] = []
        self.finished: Finished | None = None
        self.running: pytest.Item | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.running = item  # until its reports are logged: an interrupt leaves it here

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.running = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "tracebench", None)
        if isinstance(result, dict):
            self.results.append(result)

    def _interrupted(self) -> None:
        """The test a Ctrl-C (KeyboardInterrupt) stopped has no call report, so its trace was
        never ended or analysed: end it as aborted (``test_outcome: interrupted``) and keep it
        in the report with the steps it recorded."""
        item, self.running = self.running, None
        recorder = item.stash.get(RECORDER_KEY, None) if item is not None else None
        if recorder is None or recorder.finished:
            return
        recorder.end("aborted", {"passed": False, "test_outcome": "interrupted",
                                 "reason": "the session was interrupted (KeyboardInterrupt) "
                                           "during this test"})
        path = str(recorder.path) if recorder.path is not None else None
        trace = recorder.to_trace()
        result = self.state.pipeline.analyze(trace, path=path)
        self.state.keep(trace)
        self.results.append(result.model_dump(mode="json"))

    def _collect_results(self) -> list[TraceResult]:
        """Every test's result in test order; a deferred trace is parsed and analysed here,
        once, and handed on to the dashboard with the traces analysed while tests ran."""
        results: list[TraceResult] = []
        for entry in self.results:
            if isinstance(entry, Deferred):
                trace, result = entry.analyze(self.state.pipeline)
                self.state.keep(trace)
                results.append(result)
            else:
                results.append(TraceResult.model_validate(entry))
        return results

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Build the report and hand it to :func:`finish` (the stage the CLI ends with too);
        what stays here is pytest's: the exit status."""
        if hasattr(self.config, "workerinput"):
            return  # an xdist worker: the controller gets the results on the reports
        settings = self.state.settings
        if session.exitstatus == pytest.ExitCode.INTERRUPTED:
            self._interrupted()
        results = self._collect_results()
        cwd = self.config.invocation_params.dir
        report = build_report(results, settings, cwd=cwd,
                              redactor=self.state.redactor if settings.redact else None)
        # Each test was judged by min_score/fail_on (with its marker) when it ended.
        self.finished = finish(report, settings, base_dir=self.state.base_dir, cwd=cwd,
                               pm=self.state.pm, judge=False, traces=self.state.traces)
        self.report = report
        failure = self.finished.write_error
        if failure is not None:
            # Disk full or a read-only folder: say which file, keep the terminal report, and
            # do not let CI read the session as clean.
            self.errors.append(f"tracebench: cannot write {failure.path or 'the report'}: "
                               f"{failure.problem}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if not self.finished.passed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        tr.section("tracebench")
        report, finished = self.report, self.finished
        if report is None or finished is None:
            return
        if not report.results:
            tr.write_line("no trace recorded: no test used the `trace` fixture", yellow=True)
            for gate in finished.gates:
                mark = "PASSED" if gate.passed else "FAILED"
                tr.write_line(f"gate {gate.name}: {mark}: {gate.message}", red=not gate.passed)
        else:
            verbose = self.config.get_verbosity() > 0
            for line in render_terminal(report, verbose=verbose):
                failed_gate = line.startswith("gate ") and ": FAILED:" in line
                tr.write_line(line, red=failed_gate, bold=failed_gate)
            tr.write_line(f"traces: {self.state.trace_dir}")
        if finished.json_path is not None:
            tr.write_line(f"JSON report: {self.state.settings.json_path}")
        if finished.html_path is not None:
            tr.write_line(f"HTML dashboard: {finished.html_path}")
        if finished.saved_path is not None:
            tr.write_line(f"saved run: {finished.saved_path}")
        for error in self.errors:
            tr.write_line(error, red=True)
        # pytest's last line counts tests: "3 passed" with exit code 1 hides why the session
        # failed. Each failed session gate is counted there too ("1 tracebench gate failed");
        # not the per-trace one, whose tests pytest already counts as failed.
        failed = [GateStat(g) for g in finished.failed_gates if g.name != PER_TRACE]
        if failed:
            tr.stats.setdefault("tracebench gate failed", []).extend(failed)
