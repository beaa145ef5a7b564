"""Failure detectors: behaviour that pass/fail benchmarks hide.

A detector is an object with a ``name``, a ``category``, documented ``thresholds`` and
``detect(trace) -> Iterable[Finding]``. The built-in detectors live in one module per family
(``loops``, ``testing``, ``claims``, ``tampering``, ``flow``, ``runtime``); each module is a
plugin that returns its detectors from the public ``tracebench_detectors`` hook, exactly as a
third-party package does.
"""

from __future__ import annotations

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors._runner import INTERNAL, detect, load_detectors

__all__ = ["INTERNAL", "Detector", "detect", "load_detectors"]
