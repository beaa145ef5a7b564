"""The terminal report shows the report's own clustering, as the JSON report and the
dashboard do."""

from __future__ import annotations

from pytest_tracebench.models import EvaluationReport, Finding, TraceResult
from pytest_tracebench.report.terminal import render_terminal
from pytest_tracebench.score.clusters import cluster
from pytest_tracebench.score.summary import summarize_results


def _result(n: int, message: str) -> TraceResult:
    return TraceResult(trace_id=f"t{n}", task_id=f"task{n}", agent="a", status="completed",
                       step_count=3,
                       findings=[Finding(detector="failing_tests", message=message, steps=[2],
                                         step_kind="test")])


def test_clusters_of_one_detector_are_shown_apart() -> None:
    results = [_result(n, "Tests failed after applying the fix.") for n in range(3)] + [
        _result(n, f"The test run at step {n} timed out.") for n in range(3, 5)]
    report = EvaluationReport(created_at=0, results=results, clusters=cluster(results),
                              summary=summarize_results(results))
    lines = render_terminal(report)
    shown = lines[lines.index("=== Failure Clusters ===") + 1:][:2]
    assert [c.count for c in report.clusters] == [3, 2]
    assert shown[0].startswith("failing_tests") and shown[0].endswith(
        "(3)  Tests failed after applying the fix."), shown
    assert shown[1].startswith("failing_tests") and shown[1].endswith(
        "(2)  The test run at step <n> timed out."), shown
