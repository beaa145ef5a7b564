"""The detector base class: thresholds with defaults, and a helper to make findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pytest_tracebench.models import Finding, Severity, Trace
from pytest_tracebench.settings import to_bool, to_float, to_int, to_list


class Detector:
    """Base class of the built-in detectors; plugins may subclass it or duck-type it.

    Subclasses set ``name``, ``category``, ``description`` and ``thresholds`` (defaults, each
    documented in ``docs/detectors.md``) and implement :meth:`detect`.
    """

    name: ClassVar[str] = "detector"
    category: ClassVar[str] = "other"
    description: ClassVar[str] = ""
    thresholds: ClassVar[dict[str, Any]] = {}

    def __init__(self, **overrides: Any) -> None:
        unknown = set(overrides) - set(self.thresholds)
        if unknown:
            known = ", ".join(sorted(self.thresholds)) or "none"
            names = ", ".join(repr(u) for u in sorted(unknown))
            raise ValueError(f"detector {self.name!r} has no threshold {names}; known: {known}")
        self.options: dict[str, Any] = {**self.thresholds}
        for key, value in overrides.items():
            default = self.thresholds[key]
            self.options[key] = _coerce(self.name, key, value, default)

    def detect(self, trace: Trace) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, message: str, steps: Sequence[int], *, severity: Severity = "medium",
                step_kind: str | None = None, **evidence: Any) -> Finding:
        """A finding of this detector. ``steps[0]`` is the step the finding is about, where
        every report points ("Step N"): a claim's message, not the earlier test run that
        disproves it; the other steps follow in order. ``step_kind="run"`` marks a finding
        about the whole run, whose first step's kind is incidental (clusters then ignore
        it)."""
        ordered = sorted(set(steps))
        if ordered and ordered[0] != steps[0]:
            ordered.remove(steps[0])
            ordered.insert(0, steps[0])
        return Finding(detector=self.name, category=self.category, severity=severity,
                       message=message, steps=ordered, evidence=evidence,
                       step_kind=step_kind)


def _coerce(detector: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the threshold's default, by the settings' one coercion of
    that type (a bool threshold refuses ``maybe`` rather than reading it as false)."""
    try:
        if isinstance(default, bool):
            return to_bool(value)
        if isinstance(default, int):
            return to_int(value)
        if isinstance(default, float):
            return to_float(value)
        if isinstance(default, (list, tuple)):
            return to_list(value, sep="|")
    except ValueError as exc:
        raise ValueError(f"detector {detector!r} threshold {key!r}: {exc}") from None
    return value
