"""Loading the detectors that the settings select, tuning them, and running them safely.

The threshold contract, the same for built-in and third-party detectors (``docs/hooks.md``): a
detector declares its tunable thresholds as ``thresholds``, a mapping of each name to its
default, and holds the values in effect in ``options``; settings tune it in one way,
:func:`tune`, which checks the names against ``thresholds`` and builds a new detector of the
same class with ``type(detector)(**overrides)``. :class:`~pytest_tracebench.detectors.Detector`
implements the constructor side (names checked, values converted to the default's type).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pluggy

from pytest_tracebench.detectors._gc import paused_gc
from pytest_tracebench.detectors.view import TraceView, view_of
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
    return [tune(d, settings.thresholds.get(d.name) or {}) for d in chosen]


def tune(detector: Any, overrides: Mapping[str, Any]) -> Any:
    """``detector`` with ``overrides`` of its declared thresholds: a new detector of the same
    class, built as ``type(detector)(**overrides)`` (the contract of the
    ``tracebench_detectors`` hook); ``detector`` itself when there is nothing to override.

    A name that the detector does not declare in ``thresholds`` is refused here, for every
    detector alike, before its class sees it; so is a value its class cannot take."""
    if not overrides:
        return detector
    declared = thresholds_of(detector)
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        names = ", ".join(repr(u) for u in unknown)
        raise ConfigError(f"thresholds: detector {detector.name!r} has no threshold {names}; "
                          f"known: {known}")
    try:
        return type(detector)(**overrides)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"thresholds: {exc}") from None


def thresholds_of(detector: Any) -> dict[str, Any]:
    """The thresholds in effect for ``detector``, by name, in the order it declares them:
    its ``options`` where it keeps them, else the declared defaults."""
    declared: Mapping[str, Any] = getattr(detector, "thresholds", None) or {}
    options: Mapping[str, Any] = getattr(detector, "options", None) or {}
    return {name: options.get(name, default) for name, default in declared.items()}


def describe_thresholds(detector: Any, width: int = 60) -> str:
    """``name=value, ...`` of every threshold in effect, as ``tracebench detectors`` lists
    them; a value longer than ``width`` characters (a list of regexes) is shown by its size,
    ``[7 items]``, so that one line per detector stays readable."""
    shown = []
    for name, value in thresholds_of(detector).items():
        text = str(value)
        if len(text) > width and isinstance(value, (list, tuple, set, frozenset, dict)):
            text = f"[{len(value)} items]"
        shown.append(f"{name}={text}")
    return ", ".join(shown)


def detect(trace: Trace, detectors: list[Any]) -> list[Finding]:
    """Findings of every detector on ``trace``, in step order.

    A detector that raises does not break the run: it is skipped and reported as an ``info``
    finding of detector ``tracebench_internal`` naming it and its error.
    """
    findings: list[Finding] = []
    with paused_gc():
        # Held while the detectors run, so that each one asking ``view_of(trace)`` gets this
        # view, and let go afterwards (a caller that reads the view next keeps its own).
        view = _shared_view(trace)
        _run_all(trace, detectors, findings)
        del view
    findings.sort(key=lambda f: (f.steps[0] if f.steps else -1, f.detector))
    return findings


def _shared_view(trace: Trace) -> TraceView | None:
    """The trace's view, or ``None`` when it cannot be built: then each detector that asks
    for it fails on its own and is reported, as when it runs alone."""
    try:
        return view_of(trace)
    except Exception:
        return None


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
