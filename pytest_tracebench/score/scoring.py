"""Scoring: findings, behaviour and the run's outcome become a score a person can explain.

The score is the chance, in percent, that the verifier accepts the run, judged from the
trajectory alone by a score model (:mod:`.calibration.model`): a logistic model over "this
detector fired" and behaviour features, fitted on real verified runs. The breakdown starts at
the model's reference run and lists what each finding and feature added or took off. Findings
of detectors the model has no weight for (a plugin's, say) cost the points of their severity
(``weights``; the second finding of a detector ``repeat_decay`` times that, and so on). A known
outcome (the pytest test's own result, a verifier's verdict read with ``--verdicts``) is a
separate, stated term: ``outcome_points``. ``pipeline.reward()`` gives the same judgement in [0, 1]
for RL loops, and plugins can replace the score (``tracebench_score``) or shape the reward
(``tracebench_reward``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pytest_tracebench.models import (
    SEVERITIES,
    FeatureTerm,
    Finding,
    Penalty,
    Score,
    TraceResult,
)
from pytest_tracebench.score.calibration.features import FEATURES
from pytest_tracebench.score.calibration.model import load_model, predict
from pytest_tracebench.settings import Settings


def outcome_of(result: TraceResult) -> str:
    """``passed``, ``failed``, ``error``, ``aborted`` or ``unknown``.

    A verdict on the work (the pytest test's result, a verifier's ``passed`` or reward)
    decides first: an agent stopped by its step limit may still have left a change that
    passes. Without one, the end record's status and exit status say how the run ended."""
    outcome = result.outcome
    passed = outcome.get("passed")
    if isinstance(passed, bool):
        return "passed" if passed else "failed"
    reward = outcome.get("reward")
    if isinstance(reward, (int, float)) and not isinstance(reward, bool):
        return "passed" if reward >= 1 else "failed"
    if result.status == "aborted":
        return "aborted"
    if result.status in ("error", "timeout"):
        return "error"
    if result.status == "failed":
        return "failed"
    status = str(outcome.get("status") or outcome.get("exit_status") or "").lower()
    if status in ("incomplete", "failed", "failure", "unresolved"):
        return "failed"
    return "unknown"


def score(result: TraceResult, settings: Settings | None = None) -> Score:
    """The built-in score of one analysed trace (0 to 100, with its breakdown)."""
    settings = settings or Settings()
    model = load_model(settings.calibration)
    fitted = model.detector_weights()
    serious = [f for f in result.findings if f.severity != "info"]
    fired = {f.detector: True for f in serious}
    chance, base, contributions = predict(model, fired, result.features)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    penalties: list[Penalty] = []
    features: list[FeatureTerm] = []
    for term, value, points in contributions:
        if term.kind == "detector":
            own = [f for f in serious if f.detector == term.name]
            worst = max((f.severity for f in own), key=order.__getitem__)
            penalties.append(Penalty(detector=term.name, severity=worst, count=len(own),
                                     points=round(-points, 2)))
        else:
            known = FEATURES.get(term.name)
            raw = result.features.get(term.name, value)
            shown = known.shown(raw) if known else f"{raw:g}"
            if raw != value:  # outside the fitting corpus's range: counted at its edge
                shown += f" (counted as {known.shown(value) if known else f'{value:g}'})"
            features.append(FeatureTerm(name=term.name, value=round(value, 4), shown=shown,
                                        points=round(points, 2)))
    penalties.extend(_unfitted(serious, fitted, settings))
    penalties.sort(key=lambda p: (-p.points, p.detector))
    outcome = outcome_of(result)
    outcome_points = float(settings.outcome_points.get(outcome, 0.0))
    unfitted = sum(p.points for p in penalties if p.detector not in fitted)
    value = max(0.0, min(100.0, 100.0 * chance - unfitted - outcome_points))
    value = round(value, 1)
    return Score(value=value, reward=round(value / 100.0, 4), outcome_points=outcome_points,
                 outcome=outcome, penalties=penalties, base=round(100.0 * base, 2),
                 model=str(settings.calibration) if settings.calibration else "built-in",
                 features=features)


def _unfitted(findings: list[Finding], fitted: dict[str, float], settings: Settings
              ) -> list[Penalty]:
    """Severity points for findings of detectors the score model does not weigh."""
    weights = settings.weights
    decay = settings.repeat_decay
    seen: Counter[str] = Counter()
    points: dict[tuple[str, str], float] = defaultdict(float)
    counts: Counter[tuple[str, str]] = Counter()
    order = {s: i for i, s in enumerate(SEVERITIES)}
    # Most severe first, so the full weight goes to the finding that matters most.
    for finding in sorted(findings, key=lambda f: -order[f.severity]):
        if finding.detector in fitted:
            continue
        weight = float(weights.get(finding.severity, 0.0))
        cost = weight * (decay ** seen[finding.detector])
        seen[finding.detector] += 1
        points[(finding.detector, finding.severity)] += cost
        counts[(finding.detector, finding.severity)] += 1
    return [Penalty(detector=d, severity=s, count=counts[(d, s)],  # type: ignore[arg-type]
                    points=round(p, 2)) for (d, s), p in points.items() if p > 0]


def breakdown(value: Score) -> list[tuple[float, str]]:
    """The score's breakdown as ``(signed points, what)`` lines, in the order they apply:
    the reference run, the model's terms (largest first), severity points of unweighted
    detectors, the known outcome. The points add up to the score (before clamping)."""
    lines: list[tuple[float, str]] = [(value.base, "a typical run (the score model's "
                                                   "reference)")]
    terms: list[tuple[float, str]] = []
    for penalty in value.penalties:
        terms.append((-penalty.points, f"{penalty.detector} ({penalty.count} "
                                       f"{penalty.severity})"))
    for feature in value.features:
        known = FEATURES.get(feature.name)
        what = known.description if known else feature.name
        terms.append((feature.points, f"{feature.name} = {feature.shown}: {what}"))
    terms.sort(key=lambda t: -abs(t[0]))
    lines.extend(terms)
    if value.outcome_points:
        lines.append((-value.outcome_points, f"outcome: {value.outcome}"))
    return lines


def breakdown_text(value: Score) -> str:
    """One line: ``base 48.2, final_edit_untested -12.1, ..., outcome (failed) -25``."""
    parts = [f"base {value.base:g}"]
    parts += [f"{p.detector} -{p.points:g}" for p in value.penalties]
    parts += [f"{f.name} {f.points:+g}" for f in value.features]
    if value.outcome_points:
        parts.append(f"outcome ({value.outcome}) -{value.outcome_points:g}")
    return ", ".join(parts)


def score_result(result: TraceResult, settings: Settings | None = None,
                 pm: Any = None) -> Score:
    """The score, from a ``tracebench_score`` plugin if one answers, else the built-in one;
    a ``tracebench_reward`` plugin may then shape the reward."""
    settings = settings or Settings()
    value: Score | None = None
    if pm is not None:
        value = pm.hook.tracebench_score(result=result, settings=settings)
    if value is None:
        value = score(result, settings)
    if pm is not None:
        shaped = pm.hook.tracebench_reward(result=result, score=value)
        if shaped is not None:
            value = value.model_copy(update={"reward": max(0.0, min(1.0, float(shaped)))})
    return value
