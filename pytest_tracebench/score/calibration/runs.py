"""Verified runs for calibration: each trajectory analysed blind, then paired with its verdict.

The pipeline analyses every trajectory with verdicts turned off (``Settings.verdicts = False``:
it never opens a verdict file, and the outcome the score uses is the trajectory's own). Only
afterwards, here, is each result paired with the verdict beside its file. A run is grouped by
its *source* (the first folder under the path the user gave: one agent/benchmark run each, as
in the development corpus) and its *task* (the task id), so cross-validation can hold out whole
sources and whole tasks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.importers import detect_importer, get_importers, iter_trace_inputs
from pytest_tracebench.importers.verdicts import Verdict, verdict_for
from pytest_tracebench.models import TraceResult
from pytest_tracebench.record.trace_file import TraceLoadError
from pytest_tracebench.score.calibration.features import FEATURES
from pytest_tracebench.settings import Settings


@dataclass
class VerifiedRun:
    """One analysed trajectory with the verifier's verdict on it."""

    path: str
    source: str
    task: str
    verdict: Verdict
    fired: dict[str, int]
    """Findings per detector, ``info`` findings left out (they cost nothing)."""
    features: dict[str, float]
    cost: float | None
    actions: int
    result: TraceResult = field(repr=False)

    @property
    def resolved(self) -> bool:
        return self.verdict.resolved


@dataclass
class Collection:
    """What reading the runs gave: the verified runs, and what could not be used."""

    runs: list[VerifiedRun]
    errors: list[str]
    unverified: list[str]
    """Trajectories with no verdict beside them."""
    readers: Counter[str]
    """How many verdicts each reader gave (``swe-bench-report``, ``harness-log``, ...)."""
    not_trajectories: list[str] = field(default_factory=list)
    """Files under the inputs that hold no run (verdicts, patches, logs, notes, unknown
    formats): walked past, as a corpus of runs holds many."""
    results: list[TraceResult] = field(default_factory=list, repr=False)
    """Every analysed run, with a verdict or not (reviewer labels need no verdict)."""


def source_of(path: Path, roots: Sequence[Path]) -> str:
    """The source a run belongs to: with several paths given, the path it was found under
    (each path one source); with one, the first folder below it (a corpus of sources, one
    folder each, as the development corpus is laid out)."""
    for root in roots:
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        if len(roots) > 1 or len(relative.parts) < 2:
            return root.resolve().name
        return relative.parts[0]
    return path.parent.name


def collect(paths: Sequence[str], settings: Settings, *, jobs: int = 1,
            fmt: str | None = None) -> Collection:
    """Analyse every trajectory under ``paths`` blind, then pair it with its verdict."""
    blind = settings.model_copy(update={"verdicts": False})
    errors: list[str] = []
    inputs, others = trajectories(paths, fmt)
    results = analyze_paths(inputs, blind, fmt=fmt, jobs=jobs, errors=errors) \
        if inputs else []
    roots = [Path(p) for p in paths]
    runs: list[VerifiedRun] = []
    unverified: list[str] = []
    readers: Counter[str] = Counter()
    for result in results:
        if result.path is None:
            continue
        path = Path(result.path)
        verdict = verdict_for(path, [result.task_id])
        if verdict is None:
            unverified.append(result.path)
            continue
        readers[verdict.reader] += 1
        fired = Counter(f.detector for f in result.findings if f.severity != "info")
        features = result.features or {name: 0.0 for name in FEATURES}
        cost = result.outcome.get("cost_usd")
        actions = features.get("actions")
        runs.append(VerifiedRun(
            path=result.path, source=source_of(path, roots), task=result.task_id,
            verdict=verdict, fired=dict(fired), features=dict(features),
            cost=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool)
            and math.isfinite(cost) and cost > 0 else None,
            actions=round(math.expm1(actions)) if actions is not None else result.step_count,
            result=result))
    return Collection(runs=runs, errors=errors, unverified=unverified, readers=readers,
                      not_trajectories=others, results=list(results))


def trajectories(paths: Sequence[str], fmt: str | None) -> tuple[list[str], list[str]]:
    """``(trajectories, other files)`` under ``paths``: a file is a trajectory when an
    importer recognises it (or ``fmt`` is forced); companions and unknown files are not."""
    importers = get_importers()
    found: list[str] = []
    others: list[str] = []
    for path, skip in iter_trace_inputs(paths, importers):
        if skip is not None:
            others.append(str(path))
            continue
        if fmt is None:
            try:
                detect_importer(path, importers)
            except TraceLoadError:
                others.append(str(path))
                continue
        found.append(str(path))
    return found, others
