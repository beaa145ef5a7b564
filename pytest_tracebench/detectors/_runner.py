"""Loading the detectors that the settings select, and running them safely."""

from __future__ import annotations

import gc
from typing import Any

import pluggy

from pytest_tracebench.models import Finding, Trace
from pytest_tracebench.settings import ConfigError, Settings

#: Detector name of findings that report a detector's own failure.
INTERNAL = "tracebench_internal"


def load_detectors(pm: pluggy.PluginManager, settings: Settings) -> list[Any]:
    """All detectors from the hook, selected, disabled and tuned by ``settings``."""
    detectors: list[Any] = []
    # pluggy calls the most recently registered plugin first; reversed, built-ins come first.
    for batch in reversed(pm.hook.tracebench_detectors(settings=settings)):
        detectors.extend(batch)
    by_name = {d.name: d for d in detectors}
    for name in (*settings.detectors, *settings.disable, *settings.thresholds):
        if name not in by_name:
            raise ConfigError(f"unknown detector {name!r}; known: {', '.join(sorted(by_name))}")
    chosen = [d for d in detectors if (not settings.detectors or d.name in settings.detectors)
              and d.name not in settings.disable]
    configured = []
    for detector in chosen:
        overrides = settings.thresholds.get(detector.name)
        if overrides:
            try:
                detector = type(detector)(**overrides)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"thresholds: {exc}") from None
        configured.append(detector)
    return configured


def detect(trace: Trace, detectors: list[Any]) -> list[Finding]:
    """Findings of every detector on ``trace``, in step order.

    A detector that raises does not break the run: it is skipped and reported as an ``info``
    finding of detector ``tracebench_internal`` naming it and its error.
    """
    findings: list[Finding] = []
    # Detection allocates many objects that live as long as the trace (the shared view);
    # each full collection they trigger walks the whole trace again: 25% of the time of a
    # 100,000-step trace. Paused here, collected afterwards as usual.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        _run_all(trace, detectors, findings)
    finally:
        if paused:
            gc.enable()
    findings.sort(key=lambda f: (f.steps[0] if f.steps else -1, f.detector))
    return findings


def _run_all(trace: Trace, detectors: list[Any], findings: list[Finding]) -> None:
    for detector in detectors:
        try:
            findings.extend(detector.detect(trace))
        except Exception as exc:
            findings.append(Finding(
                detector=INTERNAL, category="internal", severity="info",
                message=f"detector {getattr(detector, 'name', detector)!r} failed and was "
                        f"skipped: {type(exc).__name__}: {exc}",
                evidence={"detector": getattr(detector, "name", repr(detector))},
            ))
