"""Comparing two reports: the differences per task and per detector, and the
``compare_fail`` rules (``score_drop:5``, ``findings_rise:retry_loop:0``) that turn them into
gates.

Both front ends use these: ``pytest --tracebench-compare`` and ``tracebench analyze
--compare`` through :func:`pytest_tracebench.finish.finish`, ``tracebench compare`` directly.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pytest_tracebench.models import (
    ComparedValue,
    Comparison,
    DetectorComparison,
    EvaluationReport,
    Gate,
    TaskComparison,
    TraceResult,
)
from pytest_tracebench.settings import ConfigError

__all__ = ["CompareRule", "check_rule", "compare_gates", "compare_reports", "parse_rule"]

_EXPR = re.compile(r"^(score_drop|pass_rate_drop|findings_rise)"
                   r"(?::([A-Za-z_*][\w*]*))?:(\d+(?:\.\d+)?)(%?)$")
_UNITS = {"score_drop": " points", "pass_rate_drop": " pp", "findings_rise": ""}


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


def _counts(report: EvaluationReport) -> Counter[str]:
    counts: Counter[str] = Counter()
    for result in report.results:
        for finding in result.findings:
            counts[finding.detector] += 1
    return counts


def _key(result: TraceResult) -> str:
    return f"{result.nodeid or result.task_id} [{result.agent}]"


def _score(result: TraceResult | None) -> float | None:
    return result.score.value if result is not None and result.score is not None else None


def _task(key: str, old: TraceResult | None, cur: TraceResult | None) -> TaskComparison:
    old_score, new_score = _score(old), _score(cur)
    old_det = Counter(f.detector for f in old.findings) if old else Counter()
    new_det = Counter(f.detector for f in cur.findings) if cur else Counter()
    return TaskComparison(
        task=key, base=old_score, new=new_score,
        delta=None if old_score is None or new_score is None
        else round(new_score - old_score, 2),
        appeared=sorted((new_det - old_det).elements()),
        disappeared=sorted((old_det - new_det).elements()),
        only_in="new" if old is None else ("base" if cur is None else None),
    )


def compare_reports(base: EvaluationReport, new: EvaluationReport) -> Comparison:
    """Differences between two reports: summary, per task, per detector."""
    base_by = {_key(r): r for r in base.results}
    new_by = {_key(r): r for r in new.results}
    tasks = [_task(key, base_by.get(key), new_by.get(key))
             for key in sorted(set(base_by) | set(new_by))]
    base_counts, new_counts = _counts(base), _counts(new)
    detectors = [DetectorComparison(detector=d, base=base_counts[d], new=new_counts[d],
                                    delta=new_counts[d] - base_counts[d])
                 for d in sorted(set(base_counts) | set(new_counts))]
    return Comparison(
        mean_score=ComparedValue(base=base.summary.mean_score, new=new.summary.mean_score),
        pass_rate=ComparedValue(base=base.summary.pass_rate, new=new.summary.pass_rate),
        tasks=tasks, detectors=detectors)


def _values(rule: CompareRule, base: EvaluationReport, new: EvaluationReport
            ) -> tuple[float | None, float | None]:
    """The rule's metric in the baseline and now (the pass rate in percentage points)."""
    if rule.metric == "score_drop":
        return base.summary.mean_score, new.summary.mean_score
    if rule.metric == "pass_rate_drop":
        old, cur = base.summary.pass_rate, new.summary.pass_rate
        return None if old is None else old * 100, None if cur is None else cur * 100
    base_counts, new_counts = _counts(base), _counts(new)
    if rule.detector == "*":
        return float(sum(base_counts.values())), float(sum(new_counts.values()))
    return float(base_counts[rule.detector or ""]), float(new_counts[rule.detector or ""])


def check_rule(rule: CompareRule, base: EvaluationReport, new: EvaluationReport) -> Gate:
    """The gate of one rule: the change against the baseline, the limit it is allowed, and by
    how much it went over. A metric missing from one report is not comparable and passes."""
    old, cur = _values(rule, base, new)
    name = f"compare {rule.text}"
    if old is None or cur is None:
        return Gate(name=name, passed=True,
                    message=f"{rule.text}: not comparable (no value in one report)")
    worse_if_higher = rule.metric == "findings_rise"
    unit = _UNITS[rule.metric]
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
    return Gate(name=name, passed=passed, value=cur, baseline=old, threshold=limit,
                message=message)


def compare_gates(rules: list[str], base: EvaluationReport, new: EvaluationReport
                  ) -> list[Gate]:
    """The gate of each ``compare_fail`` expression, in order."""
    return [check_rule(parse_rule(text), base, new) for text in rules]
