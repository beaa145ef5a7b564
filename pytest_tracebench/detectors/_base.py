"""The detector base class: thresholds with defaults, and a helper to make findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pytest_tracebench.models import Finding, Severity, Trace


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
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            raise ValueError(f"detector {detector!r} threshold {key!r}: expected a number, "
                             f"got {value!r}") from None
    if isinstance(default, (list, tuple)):
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        return list(value)
    return value
