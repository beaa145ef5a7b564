"""Gates: thresholds that turn scores and findings into pass/fail, with messages saying which
threshold failed and by how much.

Per test: ``min_score`` and ``fail_on`` (the ``tracebench`` marker overrides both). Per
session: ``fail_under`` (mean score), compare expressions against a saved baseline, and
``require_traces``. The same functions serve ``pytest --tracebench`` and ``tracebench analyze``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pytest_tracebench.models import EvaluationReport, TraceResult
from pytest_tracebench.score.scoring import breakdown_text
from pytest_tracebench.settings import ConfigError, Settings

_EXPR = re.compile(r"^(score_drop|pass_rate_drop|findings_rise)"
                   r"(?::([A-Za-z_*][\w*]*))?:(\d+(?:\.\d+)?)(%?)$")


@dataclass(frozen=True)
class CompareRule:
    """One ``--tracebench-compare-fail`` expression."""

    metric: str
    """``score_drop``, ``pass_rate_drop`` or ``findings_rise``."""
    amount: float
    percent: bool
    detector: str | None = None
    text: str = ""


def parse_rule(text: str) -> CompareRule:
    """``score_drop:5``, ``score_drop:10%``, ``pass_rate_drop:5``, ``findings_rise:retry_loop:2``
    (``*`` for all detectors), each absolute or in percent of the baseline."""
    match = _EXPR.match(text.strip())
    if not match:
        raise ConfigError(
            f"compare_fail: cannot read {text!r}; expected score_drop:N[%], "
            f"pass_rate_drop:N[%] or findings_rise:DETECTOR:N[%] (DETECTOR may be *)")
    metric, detector, amount, percent = match.groups()
    if (metric == "findings_rise") != (detector is not None):
        raise ConfigError(f"compare_fail: {text!r}: findings_rise takes a detector "
                          f"(findings_rise:DETECTOR:N), the other metrics do not")
    return CompareRule(metric, float(amount), percent == "%", detector, text.strip())


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


def per_trace_gate(report: EvaluationReport, min_score: float | None,
                   fail_on: list[str]) -> dict[str, Any]:
    """Judge every trace of ``report`` by ``min_score``/``fail_on`` (``tracebench analyze``,
    ``report``): sets each result's ``gate`` and the summary's count, and returns the gate
    entry, which names each failing trace (its file, else its task) and why."""
    failing = []
    for result in report.results:
        result.gate = gate_reason(result, min_score, fail_on)
        if result.gate:
            failing.append(result)
    report.summary.gate_failed = len(failing)
    shown = [f"{r.path or r.nodeid or r.task_id}: {r.gate}" for r in failing[:5]]
    more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
    return {"name": "per-trace gates", "passed": not failing,
            "message": f"{len(failing)} of {len(report.results)} trace(s) failed min_score/"
                       f"fail_on" + (": " + "; ".join(shown) + more if failing else "")}


def _counts(report: EvaluationReport) -> Counter[str]:
    counts: Counter[str] = Counter()
    for result in report.results:
        for finding in result.findings:
            counts[finding.detector] += 1
    return counts


def _key(result: TraceResult) -> str:
    return f"{result.nodeid or result.task_id} [{result.agent}]"


def compare_reports(base: EvaluationReport, new: EvaluationReport) -> dict[str, Any]:
    """Differences between two reports: summary, per task, per detector."""
    base_by = {_key(r): r for r in base.results}
    new_by = {_key(r): r for r in new.results}
    tasks = []
    for key in sorted(set(base_by) | set(new_by)):
        old, cur = base_by.get(key), new_by.get(key)
        old_score = old.score.value if old is not None and old.score is not None else None
        new_score = cur.score.value if cur is not None and cur.score is not None else None
        old_det = Counter(f.detector for f in old.findings) if old else Counter()
        new_det = Counter(f.detector for f in cur.findings) if cur else Counter()
        tasks.append({
            "task": key, "base": old_score, "new": new_score,
            "delta": None if old_score is None or new_score is None
            else round(new_score - old_score, 2),
            "appeared": sorted((new_det - old_det).elements()),
            "disappeared": sorted((old_det - new_det).elements()),
            "only_in": "new" if old is None else ("base" if cur is None else None),
        })
    base_counts, new_counts = _counts(base), _counts(new)
    detectors = [{"detector": d, "base": base_counts[d], "new": new_counts[d],
                  "delta": new_counts[d] - base_counts[d]}
                 for d in sorted(set(base_counts) | set(new_counts))]
    return {
        "mean_score": {"base": base.summary.mean_score, "new": new.summary.mean_score},
        "pass_rate": {"base": base.summary.pass_rate, "new": new.summary.pass_rate},
        "tasks": tasks,
        "detectors": detectors,
    }


def _check_rule(rule: CompareRule, base: EvaluationReport, new: EvaluationReport
                ) -> dict[str, Any]:
    def verdict(old: float | None, cur: float | None, worse_if_higher: bool, unit: str
                ) -> dict[str, Any]:
        if old is None or cur is None:
            return {"name": f"compare {rule.text}", "passed": True,
                    "message": f"{rule.text}: not comparable (no value in one report)"}
        change = (cur - old) if worse_if_higher else (old - cur)
        limit = abs(old) * rule.amount / 100 if rule.percent else rule.amount
        passed = change <= limit
        shown = f"{rule.amount:g}%" if rule.percent else f"{rule.amount:g}{unit}"
        what = "rose" if worse_if_higher else "dropped"
        label = {"score_drop": "mean score", "pass_rate_drop": "pass rate"}.get(
            rule.metric, f"{rule.detector} findings")
        message = (f"{label} {what} by {round(max(change, 0), 2):g}{unit} "
                   f"({round(old, 2):g} -> {round(cur, 2):g}); allowed {shown}")
        if not passed:
            message += f": over by {round(change - limit, 2):g}{unit}"
        return {"name": f"compare {rule.text}", "passed": passed, "value": cur,
                "baseline": old, "threshold": limit, "message": message}

    if rule.metric == "score_drop":
        return verdict(base.summary.mean_score, new.summary.mean_score, False, " points")
    if rule.metric == "pass_rate_drop":
        old = base.summary.pass_rate
        cur = new.summary.pass_rate
        return verdict(None if old is None else old * 100, None if cur is None else cur * 100,
                       False, " pp")
    base_counts, new_counts = _counts(base), _counts(new)
    if rule.detector == "*":
        old_n, new_n = sum(base_counts.values()), sum(new_counts.values())
    else:
        old_n, new_n = base_counts[rule.detector or ""], new_counts[rule.detector or ""]
    return verdict(float(old_n), float(new_n), True, "")


def session_gates(report: EvaluationReport, settings: Settings,
                  baseline: EvaluationReport | None = None) -> list[dict[str, Any]]:
    """Check the session-level gates; each entry says what was checked and whether it held."""
    gates: list[dict[str, Any]] = []
    if settings.require_traces and report.summary.traces == 0:
        gates.append({"name": "require_traces", "passed": False,
                      "message": "no trace was recorded (require_traces)"})
    if settings.fail_under is not None:
        mean = report.summary.mean_score
        passed = mean is not None and mean >= settings.fail_under
        gates.append({
            "name": "fail_under", "passed": passed, "value": mean,
            "threshold": settings.fail_under,
            "message": (f"mean score {mean:g} is under fail_under={settings.fail_under:g} by "
                        f"{settings.fail_under - mean:g}" if mean is not None and not passed
                        else f"mean score {mean} >= fail_under={settings.fail_under:g}"
                        if passed else "no scored trace for fail_under"),
        })
    if baseline is not None:
        for text in settings.compare_fail:
            gates.append(_check_rule(parse_rule(text), baseline, report))
    return gates
