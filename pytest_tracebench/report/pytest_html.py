"""pytest-html columns and extras, registered only when pytest-html is active.

Every row gets a Score and a Findings cell (empty for rows without a trace), and a test's
extras hold its findings and a link to its trace file, not the trace itself: reports of many
megabytes are what makes pytest-html reports slow to open.

The link to the dashboard comes from the session's resolved settings (command line, ini or
``[tool.tracebench] html``), the same path the dashboard is written to.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["PytestHtmlIntegration"]


class PytestHtmlIntegration:
    """The pytest-html hooks of one session, registered only when pytest-html is active."""

    def __init__(self, dashboard: Path | None) -> None:
        self.dashboard = dashboard
        """The dashboard's absolute path, linked from each test's extras (``None``: none)."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="tracebench-score">Score</th>')
        cells.insert(3, '<th data-column-type="tracebench-findings">Findings</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        result = getattr(report, "tracebench", None)
        if not isinstance(result, dict):
            cells.insert(2, '<td class="col-tracebench-score"></td>')
            cells.insert(3, '<td class="col-tracebench-findings"></td>')
            return
        score = (result.get("score") or {}).get("value")
        counts: dict[str, int] = {}
        for finding in result.get("findings", []):
            counts[finding["detector"]] = counts.get(finding["detector"], 0) + 1
        text = ", ".join(f"{d} x{n}" if n > 1 else d for d, n in sorted(counts.items())) or "-"
        shown = "" if score is None else score
        cells.insert(2, f'<td class="col-tracebench-score">{shown}</td>')
        cells.insert(3, f'<td class="col-tracebench-findings">{html.escape(text)}</td>')

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        outcome = yield
        report = outcome.get_result()
        result = getattr(report, "tracebench", None)
        if report.when != "call" or not isinstance(result, dict):
            return
        try:
            from pytest_html import extras
        except ImportError:  # pragma: no cover - registered only when pytest-html is active
            return
        items = "".join(
            f"<li>step {f['steps'][0] + 1 if f['steps'] else '-'}: "
            f"<b>{html.escape(f['detector'])}</b> [{html.escape(f['severity'])}] "
            f"{html.escape(f['message'])}</li>" for f in result.get("findings", []))
        score = (result.get("score") or {}).get("value")
        block = (f'<div class="tracebench"><p>tracebench score: {score}</p>'
                 f"<ul>{items or '<li>no findings</li>'}</ul></div>")
        report_extras = list(getattr(report, "extras", []))
        report_extras.append(extras.html(block))
        target = item.config.getoption("htmlpath", None)
        base = os.path.dirname(os.path.abspath(target)) if target else os.getcwd()
        if self.dashboard is not None:
            page = str(self.dashboard)
            if not page.endswith((".html", ".htm")):
                page = os.path.join(page, "index.html")
            report_extras.append(extras.url(
                f"{os.path.relpath(page, base)}#/trace/{result['trace_id']}",
                name="tracebench dashboard"))
        path = result.get("path")
        if path:
            report_extras.append(extras.url(os.path.relpath(path, base), name="tracebench trace"))
        report.extras = report_extras
