"""The score model: weights that turn findings and behaviour into a chance of passing.

A score model is a logistic model over *terms*: one per detector (1 when the detector found
something in the run, 0 otherwise) and one per behaviour feature (see :mod:`.features`). Its
prediction is the chance that the verifier accepts the run, judged from the trajectory alone;
the score is that chance in percent. The weights are fitted on real verified runs by
``tracebench calibrate`` and stored as JSON: the package ships the ones fitted on the
development corpus, and ``[tool.tracebench] calibration = "PATH"`` selects a user's own.

Applying a model needs nothing but arithmetic (no scikit-learn), so the default score stays
fast and free of optional dependencies. The breakdown is exact: the score starts at the
model's *reference* run (every flag off, every count at the corpus median) and each term, the
largest first, moves it by the points shown; they add up to the score.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Version of the score model file format; a newer one is refused.
MODEL_VERSION = 1


class ModelTerm(BaseModel):
    """One weighted term of the model."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str
    """Detector name (``kind: detector``) or feature name (``kind: feature``)."""
    kind: Literal["detector", "feature"]
    """What the term reads: whether a detector fired, or a behaviour feature's value."""
    weight: float
    """Change in log-odds of passing per unit of the term's value (per 1 for a flag; per
    ``log(1 + count)`` for a count). A detector's weight is never positive."""
    reference: float = 0.0
    """The value at which the term contributes nothing (0 for flags; the fitting corpus's
    median for counts)."""
    low: float | None = None
    """A count below this (the fitting corpus's 5th percentile) counts as this."""
    high: float | None = None
    """A count above this (the 95th percentile) counts as this."""

    def value_of(self, fired: Mapping[str, bool], features: Mapping[str, float]) -> float:
        """The term's value for a run: 1/0 for a detector, the feature clipped to its range
        (a missing feature is at the reference)."""
        if self.kind == "detector":
            return 1.0 if fired.get(self.name) else 0.0
        value = float(features.get(self.name, self.reference))
        if self.low is not None and value < self.low:
            return self.low
        if self.high is not None and value > self.high:
            return self.high
        return value


class ScoreModel(BaseModel):
    """Fitted weights of the score, as written by ``tracebench calibrate --write-model``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    version: int = MODEL_VERSION
    """Format version of this file."""
    intercept: float
    """Log-odds of passing of the reference run."""
    terms: list[ModelTerm] = Field(default_factory=list)
    """The weighted terms."""
    fitted_on: dict[str, object] = Field(default_factory=dict)
    """Where the weights came from: corpus, number of runs and sources, the command, date,
    and the held-out measures of the fit."""

    def detector_weights(self) -> dict[str, float]:
        return {t.name: t.weight for t in self.terms if t.kind == "detector"}


class ModelError(Exception):
    """A score model file cannot be used; the message names the file."""


@functools.lru_cache(maxsize=8)
def _load(path: str | None, mtime_ns: int) -> ScoreModel:
    if path is None:
        text = resources.files("pytest_tracebench.score").joinpath("score_model.json").read_text(
            encoding="utf-8")
        where = "the built-in score model"
    else:
        where = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"{path}: cannot read the score model: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ModelError(f"{where}: not a score model: invalid JSON: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("version"), int) and \
            raw["version"] > MODEL_VERSION:
        raise ModelError(f"{where}: score model version {raw['version']} is newer than this "
                         f"release reads ({MODEL_VERSION}); upgrade pytest-tracebench")
    try:
        return ScoreModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ModelError(f"{where}: field '{field}': {first['msg']}") from None


def load_model(path: str | Path | None = None) -> ScoreModel:
    """The score model at ``path``, or the built-in one (cached per file version)."""
    if path is None:
        return _load(None, 0)
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _load(str(path), stamp)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def predict(model: ScoreModel, fired: Mapping[str, bool], features: Mapping[str, float]
            ) -> tuple[float, float, list[tuple[ModelTerm, float, float]]]:
    """``(chance, reference chance, [(term, value, points), ...])`` for one run.

    ``points`` are percentage points of the chance, signed, largest effect first; they add
    up to ``100 * (chance - reference chance)``. Terms whose value is at their reference
    (a detector that did not fire) are left out."""
    contributions: list[tuple[ModelTerm, float, float]] = []
    for term in model.terms:
        value = term.value_of(fired, features)
        logit = term.weight * (value - term.reference)
        if logit:
            contributions.append((term, value, logit))
    contributions.sort(key=lambda c: (-abs(c[2]), c[0].name))
    base = _sigmoid(model.intercept)
    running = model.intercept
    previous = base
    out: list[tuple[ModelTerm, float, float]] = []
    for term, value, logit in contributions:
        running += logit
        now = _sigmoid(running)
        out.append((term, value, 100.0 * (now - previous)))
        previous = now
    return previous, base, out


def chance(model: ScoreModel, fired: Mapping[str, bool], features: Mapping[str, float]
           ) -> float:
    """Just the predicted chance of passing (for fitting loops and measures)."""
    logit = model.intercept
    for term in model.terms:
        logit += term.weight * (term.value_of(fired, features) - term.reference)
    return _sigmoid(logit)
