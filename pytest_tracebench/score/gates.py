"""Gates: thresholds that turn scores and findings into pass/fail, with messages saying which
threshold failed and by how much.

Per test: ``min_score`` and ``fail_on`` (the ``tracebench`` marker overrides both). Per
session: ``fail_under`` (mean score), compare expressions against a saved baseline
(``score/compare.py``), and ``require_traces``. Each session gate is a typed :class:`Gate`;
:func:`pytest_tracebench.finish.finish` applies them for ``pytest --tracebench`` and
``tracebench analyze``/``report`` alike.
"""

from __future__ import annotations

from pytest_tracebench.models import EvaluationReport, Gate, TraceResult
from pytest_tracebench.score.compare import compare_gates
from pytest_tracebench.score.scoring import breakdown_text
from pytest_tracebench.settings import Settings

__all__ = ["PER_TRACE", "gate_reason", "judge_traces", "per_trace_gate", "session_gates",
           "test_failure"]

#: The name of the gate that sums up the per-trace gates (``min_score``, ``fail_on``).
PER_TRACE = "per-trace gates"


def test_failure(result: TraceResult, min_score: float | None,
                 fail_on: list[str]) -> str | None:
    """Why this test's trace fails its gates, or ``None``."""
    reasons = []
    if min_score is not None and result.score is not None and result.score.value < min_score:
        reasons.append(f"tracebench score {result.score.value:g} is under the minimum "
                       f"{min_score:g} by {min_score - result.score.value:g}")
    flagged = [f for f in result.findings if f.detector in fail_on]
    if flagged:
        names = ", ".join(sorted({f.detector for f in flagged}))
        reasons.append(f"findings of {names} (fail_on)")
    if not reasons:
        return None
    lines = ["; ".join(reasons)]
    for finding in result.findings:
        where = f"step {finding.steps[0] + 1}" if finding.steps else "run"
        lines.append(f"  - {where}: {finding.detector} [{finding.severity}] {finding.message}")
    if result.score is not None:
        lines.append("  score breakdown: " + breakdown_text(result.score))
    return "\n".join(lines)


def gate_reason(result: TraceResult, min_score: float | None, fail_on: list[str]) -> str | None:
    """The first line of :func:`test_failure` naming the trace and its score, or ``None``:
    what a report shows beside the trace (``TraceResult.gate``)."""
    reason = test_failure(result, min_score, fail_on)
    return None if reason is None else reason.splitlines()[0]


def judge_traces(report: EvaluationReport, min_score: float | None,
                 fail_on: list[str]) -> None:
    """Judge every trace of ``report`` by ``min_score``/``fail_on``, setting each result's
    ``gate``: what pytest does to each test as it ends (with its marker's overrides), done
    here for traces judged after the fact (``tracebench analyze``, ``report``)."""
    for result in report.results:
        result.gate = gate_reason(result, min_score, fail_on)


def per_trace_gate(report: EvaluationReport) -> Gate:
    """The session gate summing up the per-trace gates already judged (each result's
    ``gate``): sets the summary's count, and names each failing trace (its file, else its
    node id or task) and why."""
    failing = [r for r in report.results if r.gate]
    report.summary.gate_failed = len(failing)
    shown = [f"{r.path or r.nodeid or r.task_id}: {r.gate}" for r in failing[:5]]
    more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
    return Gate(name=PER_TRACE, passed=not failing, value=float(len(failing)), threshold=0.0,
                message=f"{len(failing)} of {len(report.results)} trace(s) failed min_score/"
                        f"fail_on" + (": " + "; ".join(shown) + more if failing else ""))


def _fail_under(report: EvaluationReport, limit: float) -> Gate:
    mean = report.summary.mean_score
    passed = mean is not None and mean >= limit
    if mean is None:
        message = "no scored trace for fail_under"
    elif passed:
        message = f"mean score {mean} >= fail_under={limit:g}"
    else:
        message = f"mean score {mean:g} is under fail_under={limit:g} by {limit - mean:g}"
    return Gate(name="fail_under", passed=passed, value=mean, threshold=limit, message=message)


def session_gates(report: EvaluationReport, settings: Settings,
                  baseline: EvaluationReport | None = None) -> list[Gate]:
    """Check the session-level gates; each says what was checked and whether it held."""
    gates: list[Gate] = []
    if settings.require_traces and report.summary.traces == 0:
        gates.append(Gate(name="require_traces", passed=False,
                          message="no trace was recorded (require_traces)"))
    if settings.fail_under is not None:
        gates.append(_fail_under(report, settings.fail_under))
    if baseline is not None:
        gates.extend(compare_gates(settings.compare_fail, baseline, report))
    return gates
