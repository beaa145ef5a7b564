"""Failure detectors: behaviour that pass/fail benchmarks hide.

A detector is an object with a ``name``, a ``category``, documented ``thresholds`` and
``detect(trace) -> Iterable[Finding]``. The built-in detectors live in one module per family
(``loops``, ``testing``, ``claims``, ``tampering``, ``flow``, ``runtime``); each module is a
plugin that returns its detectors from the public ``tracebench_detectors`` hook, exactly as a
third-party package does. Every detector reads the facts it shares with the others from the
public :mod:`pytest_tracebench.detectors.view` (``view_of(trace)``), and receives its thresholds
the one way :func:`tune` applies them.
"""

from __future__ import annotations

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors._runner import (
    INTERNAL,
    describe_thresholds,
    detect,
    load_detectors,
    thresholds_of,
    tune,
)
from pytest_tracebench.detectors.view import TraceView, view_of

__all__ = ["INTERNAL", "Detector", "TraceView", "describe_thresholds", "detect",
           "load_detectors", "thresholds_of", "tune", "view_of"]
