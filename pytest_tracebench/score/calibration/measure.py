"""How well findings and the score agree with the verifier: the measures `calibrate` reports.

Ranking is measured by AUROC (scikit-learn's ``roc_auc_score``: the chance that a resolved
run scores above an unresolved one), with a 95% interval from a bootstrap that resamples whole
tasks (runs of one task are not independent). Calibration is measured by binning the
predicted chances and comparing each bin's mean prediction with the resolve rate observed in
it (the expected calibration error is the runs-weighted mean gap). A detector is measured by
how much more often the runs it fires on are unresolved than runs in general (its lift).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from pytest_tracebench.score.calibration.runs import VerifiedRun

try:
    import numpy as np
    from sklearn.metrics import roc_auc_score
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("tracebench calibrate needs scikit-learn: "
                      "pip install 'pytest-tracebench[calibrate]'") from exc

_RESAMPLES = 1000
_SEED = 20261202


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auroc(_Out):
    """AUROC with its 95% task-bootstrap interval (``None`` when one class is missing)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0


class CalibrationBin(_Out):
    low: float
    high: float
    n: int
    predicted: float
    observed: float


class DetectorMeasure(_Out):
    """How one detector's firing relates to the verdict, over a set of runs."""

    detector: str
    fires_resolved: int
    fires_unresolved: int
    resolved: int
    unresolved: int
    precision: float | None
    """P(unresolved | fires)."""
    lift: float | None
    """precision / P(unresolved)."""
    recall: float | None
    """P(fires | unresolved)."""
    resolved_rate: float | None
    """P(fires | resolved): how often it fires on runs the verifier accepted."""


class Agreement(_Out):
    """A detector against the verifier's per-test results."""

    detector: str
    truth: str
    """What it is compared with (``fail_to_pass_failed``, ``pass_to_pass_failed``)."""
    runs: int
    """Runs whose verdict has per-test results."""
    true_positive: int
    false_positive: int
    false_negative: int
    precision: float | None
    recall: float | None


def auroc(runs: Sequence[VerifiedRun], scores: Sequence[float]) -> Auroc:
    """AUROC of ``scores`` for ``resolved`` (scikit-learn), with a 95% bootstrap interval
    that resamples whole tasks."""
    y = np.asarray([1 if r.resolved else 0 for r in runs])
    s = np.asarray(scores, dtype=float)
    if len(set(y.tolist())) < 2:
        return Auroc(value=None, n=len(runs))
    value = float(roc_auc_score(y, s))
    samples = _task_bootstrap(y, s, [r.task for r in runs])
    if samples.size == 0:
        return Auroc(value=round(value, 4), n=len(runs))
    low, high = np.percentile(samples, [2.5, 97.5])
    return Auroc(value=round(value, 4), low=round(float(low), 4), high=round(float(high), 4),
                 n=len(runs))


def _task_bootstrap(y: Any, s: Any, tasks: Sequence[str]) -> Any:
    """AUROC of each of ``_RESAMPLES`` bootstrap samples of the tasks, at once.

    A sample draws tasks with replacement; each run then counts as often as its task was
    drawn. The AUROC of such a weighted sample is the weighted Mann-Whitney statistic (the
    share of resolved/unresolved pairs ranked right, ties counting half), computed for all
    samples together over one sort of the scores."""
    names, task_of = np.unique(np.asarray(tasks, dtype=object).astype(str), return_inverse=True)
    rng = np.random.default_rng(_SEED)
    draws = rng.integers(0, len(names), size=(_RESAMPLES, len(names)))
    counts = np.zeros((_RESAMPLES, len(names)))
    np.add.at(counts, (np.repeat(np.arange(_RESAMPLES), len(names)), draws.ravel()), 1.0)
    weights = counts[:, task_of]
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positive = (weights * y)[:, order]
    negative = (weights * (1 - y))[:, order]
    pos_group = np.add.reduceat(positive, starts, axis=1)
    neg_group = np.add.reduceat(negative, starts, axis=1)
    below = np.cumsum(neg_group, axis=1) - neg_group
    pairs = pos_group.sum(axis=1) * neg_group.sum(axis=1)
    keep = pairs > 0
    right = (pos_group * (below + 0.5 * neg_group)).sum(axis=1)
    return right[keep] / pairs[keep]


def calibration_table(runs: Sequence[VerifiedRun], predicted: Sequence[float], bins: int = 10
                      ) -> tuple[list[CalibrationBin], float | None]:
    """Equal-width bins of the predicted chance: mean prediction and observed resolve rate;
    and the expected calibration error."""
    table: list[CalibrationBin] = []
    total = len(runs)
    if not total:
        return table, None
    gap = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, p in enumerate(predicted)
                   if low <= p < high or (b == bins - 1 and p == 1.0)]
        if not members:
            continue
        mean_p = sum(predicted[i] for i in members) / len(members)
        observed = sum(runs[i].resolved for i in members) / len(members)
        gap += len(members) / total * abs(mean_p - observed)
        table.append(CalibrationBin(low=low, high=high, n=len(members),
                                    predicted=round(mean_p, 4), observed=round(observed, 4)))
    return table, round(gap, 4)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def detector_measures(runs: Sequence[VerifiedRun], detectors: Sequence[str]
                      ) -> list[DetectorMeasure]:
    resolved = sum(r.resolved for r in runs)
    unresolved = len(runs) - resolved
    base = unresolved / len(runs) if runs else 0.0
    out = []
    for name in detectors:
        fires_r = sum(1 for r in runs if r.resolved and r.fired.get(name))
        fires_u = sum(1 for r in runs if not r.resolved and r.fired.get(name))
        precision = _ratio(fires_u, fires_r + fires_u)
        out.append(DetectorMeasure(
            detector=name, fires_resolved=fires_r, fires_unresolved=fires_u,
            resolved=resolved, unresolved=unresolved, precision=precision,
            lift=round(precision / base, 4) if precision is not None and base else None,
            recall=_ratio(fires_u, unresolved), resolved_rate=_ratio(fires_r, resolved)))
    return out


def agreement(runs: Sequence[VerifiedRun], detector: str, truth: str,
              has_truth: Callable[[VerifiedRun], bool | None]) -> Agreement:
    """``detector`` firing against a per-test fact of the verdict (``has_truth`` returns
    ``None`` where the verdict has no per-test results)."""
    tp = fp = fn = n = 0
    for run in runs:
        fact = has_truth(run)
        if fact is None:
            continue
        n += 1
        fired = bool(run.fired.get(detector))
        tp += fired and fact
        fp += fired and not fact
        fn += (not fired) and fact
    return Agreement(detector=detector, truth=truth, runs=n, true_positive=tp,
                     false_positive=fp, false_negative=fn, precision=_ratio(tp, tp + fp),
                     recall=_ratio(tp, tp + fn))


def f2p_failed(run: VerifiedRun) -> bool | None:
    tests = run.verdict.fail_to_pass_failed
    if tests is None:
        tests = run.verdict.tests_failed
    return None if tests is None else bool(tests)


def p2p_failed(run: VerifiedRun) -> bool | None:
    tests = run.verdict.pass_to_pass_failed
    return None if tests is None else bool(tests)


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
