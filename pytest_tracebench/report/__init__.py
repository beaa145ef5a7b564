"""Reports: one ``EvaluationReport`` model, rendered for the terminal, JSON, HTML, pytest-html
and JUnit. ``build_report`` makes it from per-trace results; nothing is computed twice."""

from __future__ import annotations

from pytest_tracebench.report.build import build_report
from pytest_tracebench.report.saved_runs import (
           ReportLoadError,
           find_run,
           load_report,
           save_run,
           write_report,
)
from pytest_tracebench.report.terminal import render_terminal

__all__ = ["ReportLoadError", "build_report", "find_run", "load_report", "render_terminal",
           "save_run", "write_report"]
