"""`tracebench calibrate`: the measures over verified runs, as one report (text and JSON).

:func:`calibrate` takes the collected runs, measures the built-in (or configured) score and
every detector against the verdicts, cross-validates a freshly fitted model by source and by
task, and fits the model that ``--write-model`` writes. :func:`render` prints it; the same
report, as JSON, is what ``docs/detectors.md`` is generated from and what the dashboard's
calibration view shows.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from pytest_tracebench.score.calibration.features import FEATURES, WEIGHED
from pytest_tracebench.score.calibration.fit import DEFAULT_C, MIN_FIRES, fit, held_out
from pytest_tracebench.score.calibration.measure import (
    Agreement,
    Auroc,
    CalibrationBin,
    DetectorMeasure,
    agreement,
    auroc,
    calibration_table,
    detector_measures,
    f2p_failed,
    p2p_failed,
)
from pytest_tracebench.score.calibration.model import ScoreModel, chance
from pytest_tracebench.score.calibration.runs import Collection, VerifiedRun

#: Version of the calibration report (JSON).
CALIBRATION_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceRow(_Out):
    """One source's runs, measured on the model fitted without that source."""

    source: str
    runs: int
    resolved: int
    score: Auroc
    """AUROC of the held-out score within this source."""
    current: Auroc
    """AUROC of the score the settings give now (the shipped or configured model)."""
    cost: Auroc | None
    """AUROC of the run's cost alone (lower cost ranks higher), where cost is recorded."""
    steps: Auroc
    """AUROC of the number of actions alone (fewer ranks higher)."""
    unresolved_silent: int = 0
    """Unresolved runs on which no detector found anything (info findings aside): what the
    trajectory shows of them is behaviour only."""
    resolved_flagged: int = 0
    """Resolved runs with a finding of a detector that costs points."""


class Target(_Out):
    measure: str
    target: str
    value: str
    met: bool | None
    """``None`` when it cannot be measured on these runs."""


class CalibrationReport(_Out):
    """What ``tracebench calibrate`` measured."""

    version: int = CALIBRATION_VERSION
    created: str = ""
    runs: int
    resolved: int
    readers: dict[str, int] = Field(default_factory=dict)
    """How many verdicts each reader gave."""
    errors: int = 0
    """Inputs that could not be read."""
    unverified: int = 0
    """Trajectories with no verdict beside them (not measured)."""
    not_trajectories: int = 0
    """Files under the inputs that hold no run (verdicts, patches, notes, unknown formats)."""
    sources: list[SourceRow] = Field(default_factory=list)
    pooled: dict[str, Auroc] = Field(default_factory=dict)
    """``held_out_source`` (leave one source out), ``held_out_task`` (task folds),
    ``current`` (the score as configured now), ``cost``, ``steps``."""
    calibration: list[CalibrationBin] = Field(default_factory=list)
    """Held-out (leave one source out) predicted chance against the observed rate."""
    ece: float | None = None
    detectors: list[DetectorMeasure] = Field(default_factory=list)
    per_source: dict[str, list[DetectorMeasure]] = Field(default_factory=dict)
    agreement: list[Agreement] = Field(default_factory=list)
    features: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    """Each behaviour feature's AUROC alone (higher value ranks higher), per source and
    ``pooled``: which way it points, and whether it points that way everywhere."""
    false_success_on_resolved: float | None = None
    targets: list[Target] = Field(default_factory=list)
    model: ScoreModel
    """The model fitted on all runs (what ``--write-model`` writes)."""
    thresholds: dict[str, dict[str, object]] = Field(default_factory=dict)
    """Every detector's thresholds in effect when these runs were measured."""


def _costed(runs: Sequence[VerifiedRun]) -> tuple[list[VerifiedRun], list[float]]:
    picked = [r for r in runs if r.cost is not None]
    return picked, [-(r.cost or 0.0) for r in picked]


def calibrate(collection: Collection, detectors: Sequence[str], current: ScoreModel | None,
              *, features: Sequence[str] | None = None, c: float = DEFAULT_C,
              command: str = "", thresholds: dict[str, dict[str, object]] | None = None
              ) -> CalibrationReport:
    """Measure ``current`` and a model fitted on these runs, held out by source and task.
    ``current=None``: the score now is the model fitted here (it is about to be installed)."""
    runs = collection.runs
    names = list(features) if features is not None else list(WEIGHED)
    detectors = list(detectors)
    model = fit(runs, detectors, names, c=c, fitted_on={"command": command})
    if current is None:
        current = model
    costing = {t.name for t in model.terms if t.kind == "detector" and t.weight < 0}
    by_source = held_out(runs, detectors, names, by="source", c=c)
    by_task = held_out(runs, detectors, names, by="task", c=c)
    now = [chance(current, {d: bool(n) for d, n in r.fired.items()}, r.features)
           for r in runs]
    sources = sorted({r.source for r in runs})
    rows: list[SourceRow] = []
    per_source: dict[str, list[DetectorMeasure]] = {}
    for source in sources:
        idx = [i for i, r in enumerate(runs) if r.source == source]
        mine = [runs[i] for i in idx]
        costed, cost_scores = _costed(mine)
        rows.append(SourceRow(
            source=source, runs=len(mine), resolved=sum(r.resolved for r in mine),
            score=auroc(mine, [by_source[i] for i in idx]),
            current=auroc(mine, [now[i] for i in idx]),
            cost=auroc(costed, cost_scores) if len(costed) >= 10 else None,
            steps=auroc(mine, [-r.actions for r in mine]),
            unresolved_silent=sum(1 for r in mine if not r.resolved and not r.fired),
            resolved_flagged=sum(1 for r in mine if r.resolved and costing & set(r.fired))))
        per_source[source] = detector_measures(mine, detectors)
    costed, cost_scores = _costed(runs)
    table, ece = calibration_table(runs, by_source)
    resolved_runs = [r for r in runs if r.resolved]
    false_claims = sum(1 for r in resolved_runs if r.fired.get("false_success_claim"))
    model.fitted_on = {
        "runs": len(runs), "resolved": sum(r.resolved for r in runs), "sources": sources,
        "c": c, "command": command,
        "held_out_source_auroc": auroc(runs, by_source).value,
    }
    report = CalibrationReport(
        created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        runs=len(runs), resolved=sum(r.resolved for r in runs),
        readers=dict(sorted(collection.readers.items())), errors=len(collection.errors),
        unverified=len(collection.unverified),
        not_trajectories=len(collection.not_trajectories), sources=rows,
        pooled={"held_out_source": auroc(runs, by_source),
                "held_out_task": auroc(runs, by_task),
                "current": auroc(runs, now),
                "cost": auroc(costed, cost_scores),
                "steps": auroc(runs, [-r.actions for r in runs])},
        calibration=table, ece=ece,
        detectors=detector_measures(runs, detectors), per_source=per_source,
        agreement=[agreement(runs, "incomplete_resolution", "fail_to_pass_failed", f2p_failed),
                   agreement(runs, "regression", "pass_to_pass_failed", p2p_failed)],
        false_success_on_resolved=round(false_claims / len(resolved_runs), 4)
        if resolved_runs else None,
        model=model, thresholds=thresholds or {})
    for name in [*names, *(n for n in FEATURES if n not in names)]:
        by = {"pooled": auroc(runs, [r.features.get(name, 0.0) for r in runs]).value}
        for source in sources:
            mine = [r for r in runs if r.source == source and name in r.features]
            by[source] = auroc(mine, [r.features[name] for r in mine]).value \
                if len(mine) >= 10 else None
        report.features[name] = by
    report.targets = targets(report, current)
    return report


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def targets(report: CalibrationReport, current: ScoreModel) -> list[Target]:
    """The targets of the detection work (docs/detectors.md), on these runs."""
    out: list[Target] = []
    pooled = report.pooled["held_out_source"].value
    out.append(Target(measure="AUROC of the score, pooled over held-out sources",
                      target=">= 0.80", value=_fmt(pooled),
                      met=None if pooled is None else pooled >= 0.80))
    for row in report.sources:
        if row.cost is None or row.cost.value is None or row.score.value is None:
            continue
        out.append(Target(measure=f"AUROC on {row.source} vs its cost baseline",
                          target=f">= {row.cost.value + 0.05:.2f}",
                          value=_fmt(row.score.value),
                          met=row.score.value >= row.cost.value + 0.05))
    costing = {t.name for t in report.model.terms if t.kind == "detector" and t.weight < 0}
    for measure in report.detectors:
        if measure.detector not in costing:
            continue
        # Sources where it fires on too few runs to measure are left out, as the fit does.
        worst = [m.lift for rows in report.per_source.values() for m in rows
                 if m.detector == measure.detector and m.lift is not None
                 and m.fires_resolved + m.fires_unresolved >= MIN_FIRES]
        met = measure.lift is not None and measure.lift >= 1.5 and all(w >= 1.0 for w in worst)
        out.append(Target(measure=f"lift of {measure.detector} (pooled; lowest source)",
                          target=">= 1.5; >= 1.0",
                          value=f"{_fmt(measure.lift)}; {_fmt(min(worst) if worst else None)}",
                          met=met if measure.lift is not None else None))
    for item in report.agreement:
        if item.detector == "incomplete_resolution":
            out.append(Target(measure="incomplete_resolution precision vs failing FAIL_TO_PASS",
                              target=">= 0.80", value=_fmt(item.precision),
                              met=None if item.precision is None else item.precision >= 0.8))
    rate = report.false_success_on_resolved
    out.append(Target(measure="false_success_claim on resolved runs", target="<= 2%",
                      value="n/a" if rate is None else f"{100 * rate:.1f}%",
                      met=None if rate is None else rate <= 0.02))
    out.append(Target(measure="expected calibration error (held-out sources)",
                      target="<= 0.05", value=_fmt(report.ece, 3),
                      met=None if report.ece is None else report.ece <= 0.05))
    return out


def _auroc(a: Auroc | None) -> str:
    if a is None or a.value is None:
        return "n/a"
    if a.low is None:
        return f"{a.value:.2f}"
    return f"{a.value:.2f} [{a.low:.2f}-{a.high:.2f}]"


def render(report: CalibrationReport) -> str:
    """The report as text for the terminal."""
    lines = [f"=== Calibration: {report.runs} verified runs ({report.resolved} resolved) of "
             f"{len(report.sources)} sources ==="]
    readers = ", ".join(f"{k} {v}" for k, v in report.readers.items())
    lines.append(f"verdicts: {readers}; not measured: {report.unverified} without a verdict, "
                 f"{report.errors} unreadable; {report.not_trajectories} other files "
                 f"(verdicts, patches, logs, notes) walked past")
    lines.append("")
    lines.append("AUROC (resolved above unresolved), 95% task-bootstrap interval:")
    names = {"held_out_source": "score, each source held out", "held_out_task":
             "score, tasks held out (5 folds)", "current": "score as configured now",
             "cost": "cost alone (runs with cost)", "steps": "number of actions alone"}
    for key, label in names.items():
        lines.append(f"  {label:34} {_auroc(report.pooled.get(key))}")
    lines.append("")
    width = max([len(r.source) for r in report.sources] + [6])
    lines.append(f"  {'source':{width}}  runs  res  held-out score        now    cost   steps")
    for row in report.sources:
        lines.append(f"  {row.source:{width}}  {row.runs:4}  {row.resolved:3}  "
                     f"{_auroc(row.score):20}  {_fmt(row.current.value):5}  "
                     f"{_fmt(row.cost.value if row.cost else None):5}  "
                     f"{_fmt(row.steps.value):5}")
    lines.append("")
    lines.append("Detectors (pooled): fires on unresolved / resolved runs, precision = "
                 "P(unresolved | fires), lift = precision / P(unresolved), weight in the fit")
    weights = report.model.detector_weights()
    for m in report.detectors:
        lines.append(f"  {m.detector:22} {m.fires_unresolved:4} / {m.fires_resolved:<4} "
                     f"precision {_fmt(m.precision)}  lift {_fmt(m.lift)}  "
                     f"recall {_fmt(m.recall)}  weight {weights.get(m.detector, 0.0):+.2f}")
    lines.append("")
    for item in report.agreement:
        lines.append(f"  {item.detector} vs {item.truth} ({item.runs} runs with per-test "
                     f"results): precision {_fmt(item.precision)}, recall {_fmt(item.recall)}")
    lines.append("")
    lines.append(f"Calibration (held-out sources), ECE {_fmt(report.ece, 3)}:")
    for b in report.calibration:
        lines.append(f"  {b.low:.1f}-{b.high:.1f}: {b.n:4} runs, predicted {b.predicted:.2f}, "
                     f"observed {b.observed:.2f}")
    lines.append("")
    lines.append("Fitted model (all runs): intercept "
                 f"{report.model.intercept:+.2f}; features: " + ", ".join(
                     f"{t.name} {t.weight:+.2f}" for t in report.model.terms
                     if t.kind == "feature" and t.weight))
    lines.append("")
    lines.append("Targets:")
    for t in report.targets:
        mark = "n/a " if t.met is None else ("met " if t.met else "MISS")
        lines.append(f"  {mark} {t.measure}: {t.value} (target {t.target})")
    return "\n".join(lines)
