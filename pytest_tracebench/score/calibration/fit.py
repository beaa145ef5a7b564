"""Fitting the score model to verified runs, and predicting held-out runs (scikit-learn).

The model is an L2-regularised logistic regression (scikit-learn's ``LogisticRegression``)
on the terms of :mod:`.model`: one flag per detector, one column per behaviour feature
(counts centred at the corpus median, so that the reference run is a typical one). A finding
must never raise a score: a detector whose fitted weight comes out positive (its findings go
with passing runs) is given weight 0 and the rest refitted, until none is positive.

Held-out predictions come from refitting on the other groups: whole sources left out one at a
time (``LeaveOneGroupOut``), or whole tasks in folds (``GroupKFold``) — the same task recurs
across agents, so a task seen in training says nothing about behaviour.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from pytest_tracebench.score.calibration.features import FEATURES
from pytest_tracebench.score.calibration.model import ModelTerm, ScoreModel, chance
from pytest_tracebench.score.calibration.runs import VerifiedRun

try:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("tracebench calibrate needs scikit-learn: "
                      "pip install 'pytest-tracebench[calibrate]'") from exc

#: Regularisation strength (scikit-learn's ``C``: smaller is stronger). Chosen by the
#: leave-one-source-out AUROC on the development corpus; see docs/scoring.md.
DEFAULT_C = 0.5
#: A detector costs points only when the runs it fires on are this much more often
#: unresolved than runs in general (its lift), pooled, and at least as often (lift 1.0) in
#: every source where it fires on enough runs: a finding that fires on passing runs as often
#: as on failing ones is evidence for a reviewer, not a reason to lower a score.
MIN_LIFT = 1.5
MIN_SOURCE_LIFT = 1.0
MIN_FIRES = 5


def eligible(runs: Sequence[VerifiedRun], detectors: Sequence[str], *,
             min_lift: float = MIN_LIFT) -> list[str]:
    """The detectors whose findings separate unresolved from resolved runs well enough to
    cost points (see :data:`MIN_LIFT`)."""
    unresolved = sum(not r.resolved for r in runs)
    if not runs or not unresolved:
        return []
    base = unresolved / len(runs)
    by_source: dict[str, list[VerifiedRun]] = {}
    for run in runs:
        by_source.setdefault(run.source, []).append(run)
    chosen = []
    for name in detectors:
        fires = [r for r in runs if r.fired.get(name)]
        if len(fires) < MIN_FIRES:
            continue
        if sum(not r.resolved for r in fires) / len(fires) / base < min_lift:
            continue
        ok = True
        for members in by_source.values():
            fired = [r for r in members if r.fired.get(name)]
            if len(fired) < MIN_FIRES:
                continue
            share = sum(not r.resolved for r in members) / len(members)
            if share and sum(not r.resolved for r in fired) / len(fired) / share < \
                    MIN_SOURCE_LIFT:
                ok = False
                break
        if ok:
            chosen.append(name)
    return chosen


def references(runs: Sequence[VerifiedRun], features: Sequence[str]
               ) -> dict[str, tuple[float, float | None, float | None]]:
    """``(reference, low, high)`` per feature: where it contributes nothing (0 for flags and
    shares, the median for counts), and for counts the range it is clipped to (the 5th to
    95th percentile of the fitting runs: a run far outside the corpus counts as its edge)."""
    out: dict[str, tuple[float, float | None, float | None]] = {}
    for name in features:
        feature = FEATURES.get(name)
        values = sorted(r.features[name] for r in runs if name in r.features)
        if feature is not None and feature.scale == "log" and values:
            low = values[int(0.05 * (len(values) - 1))]
            high = values[int(0.95 * (len(values) - 1))]
            out[name] = (round(statistics.median(values), 4), round(low, 4), round(high, 4))
        else:
            out[name] = (0.0, None, None)
    return out


def _value(run: VerifiedRun, name: str, bounds: tuple[float, float | None, float | None]
           ) -> float:
    reference, low, high = bounds
    value = run.features.get(name, reference)
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value - reference


def _matrix(runs: Sequence[VerifiedRun], detectors: Sequence[str], features: Sequence[str],
            reference: dict[str, tuple[float, float | None, float | None]]) -> Any:
    rows = [[1.0 if run.fired.get(d) else 0.0 for d in detectors]
            + [_value(run, f, reference[f]) for f in features]
            for run in runs]
    return np.asarray(rows, dtype=float).reshape(len(runs), len(detectors) + len(features))


def fit(runs: Sequence[VerifiedRun], detectors: Sequence[str], features: Sequence[str], *,
        c: float = DEFAULT_C, fitted_on: dict[str, object] | None = None) -> ScoreModel:
    """The score model fitted on ``runs``."""
    if len({r.resolved for r in runs}) < 2:
        raise ValueError("fitting needs both resolved and unresolved runs")
    reference = references(runs, features)
    x = _matrix(runs, detectors, features, reference)
    y = np.asarray([1 if r.resolved else 0 for r in runs])
    allowed = set(eligible(runs, detectors))
    active = [i for i, d in enumerate(detectors) if d in allowed] + \
        list(range(len(detectors), x.shape[1]))
    n_detectors = len(detectors)
    while True:
        model = LogisticRegression(C=c, max_iter=5000)
        model.fit(x[:, active], y)
        weights = dict(zip(active, model.coef_[0], strict=True))
        positive = [i for i, w in weights.items() if i < n_detectors and w > 0]
        if not positive:
            break
        active = [i for i in active if i not in positive]
    terms = [ModelTerm(name=d, kind="detector", weight=round(float(weights.get(i, 0.0)), 4))
             for i, d in enumerate(detectors)]
    terms += [ModelTerm(name=f, kind="feature",
                        weight=round(float(weights.get(n_detectors + i, 0.0)), 4),
                        reference=reference[f][0], low=reference[f][1], high=reference[f][2])
              for i, f in enumerate(features)]
    return ScoreModel(intercept=round(float(model.intercept_[0]), 4), terms=terms,
                      fitted_on=fitted_on or {})


def held_out(runs: Sequence[VerifiedRun], detectors: Sequence[str], features: Sequence[str],
             *, by: str, c: float = DEFAULT_C, folds: int = 5) -> list[float]:
    """Each run's predicted chance of passing from a model that never saw its group:
    ``by="source"`` leaves one source out at a time, ``by="task"`` splits tasks into
    ``folds`` groups."""
    groups = [r.source if by == "source" else r.task for r in runs]
    splitter: Any = LeaveOneGroupOut() if by == "source" else \
        GroupKFold(n_splits=min(folds, len(set(groups))))
    predictions = [0.0] * len(runs)
    index = np.arange(len(runs))
    for train, test in splitter.split(index, groups=groups):
        training = [runs[i] for i in train]
        if len({r.resolved for r in training}) < 2:
            rate = sum(r.resolved for r in training) / max(1, len(training))
            for i in test:
                predictions[i] = rate
            continue
        model = fit(training, detectors, features, c=c)
        for i in test:
            run = runs[i]
            predictions[i] = chance(model, {d: bool(n) for d, n in run.fired.items()},
                                    run.features)
    return predictions
