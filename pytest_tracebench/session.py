"""Session-wide state of a ``pytest --tracebench`` run.

Registered as a pytest plugin by ``plugin.py`` only when recording is on. It gathers the
per-test results that travel on reports (builtin dicts, so pytest-xdist carries them from the
workers) and writes the end-of-session summary.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path
from typing import Any

import pluggy
import pytest

from .config import Settings
from .pipeline import Pipeline
from .redaction import Redactor
from .tracer import TraceRecorder

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def trace_filename(nodeid: str) -> str:
    """A file name for a node id: readable, unique, and unable to leave its directory.

    Everything but letters, digits, ``._-`` becomes ``_`` (so ``/``, ``..`` and NUL cannot
    form a path), the readable part is capped, and a hash of the full id keeps distinct ids
    apart after sanitising.
    """
    readable = _UNSAFE.sub("_", nodeid.replace("::", "__")).strip("._-")[:120] or "trace"
    digest = hashlib.sha1(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}-{digest}.jsonl"


class TracebenchState:
    """Settings, plugin manager and redactor of one pytest session (also without --tracebench)."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager, base_dir: Path) -> None:
        self.settings = settings
        self.pm = pm
        directory = settings.dir if settings.dir.is_absolute() else base_dir / settings.dir
        self.trace_dir = directory / "traces"
        patterns = [p for plist in pm.hook.tracebench_redaction_patterns(settings=settings)
                    for p in plist]
        self.redactor = Redactor(patterns)
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        """Detectors are loaded on first use: sessions that record nothing never pay."""
        if self._pipeline is None:
            from .detectors import load_detectors

            self._pipeline = Pipeline(self.settings, self.pm,
                                      load_detectors(self.pm, self.settings))
        return self._pipeline

    def trace_path(self, nodeid: str) -> Path:
        return self.trace_dir / trace_filename(nodeid)

    def notify_finished(self, recorder: TraceRecorder) -> None:
        """Tell plugins a trace is complete; a plugin that raises only costs a warning."""
        path = str(recorder.path) if recorder.path is not None else None
        try:
            self.pm.hook.tracebench_trace_finished(trace=recorder.to_trace(), path=path)
        except Exception as exc:
            warnings.warn(
                f"tracebench: a tracebench_trace_finished hook raised "
                f"{type(exc).__name__}: {exc}",
                stacklevel=2,
            )


class TracebenchSession:
    """Collects results from reports and prints the summary at the end."""

    def __init__(self, state: TracebenchState) -> None:
        self.state = state
        self.results: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "tracebench", None)
        if isinstance(result, dict):
            self.results.append(result)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        tr.section("tracebench")
        if not self.results:
            tr.write_line("no trace recorded: no test used the `trace` fixture")
            return
        tr.write_line(f"{len(self.results)} trace(s) in {self.state.trace_dir}")
        for result in sorted(self.results, key=lambda r: str(r.get("nodeid"))):
            tr.write_line(
                f"{result.get('nodeid')}: {result.get('step_count')} steps, "
                f"{result.get('status')}"
            )
