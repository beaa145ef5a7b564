"""pytest-tracebench: evaluate AI coding agents by how they behave.

The public API is re-exported here; everything else is internal. The names are imported on
first use (PEP 562): pytest imports this package in every session where it is installed, and
the models behind these names (pydantic) cost ≈100 ms to build — a price for sessions that
record, not for every test run of every project (issue 17).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_tracebench.detectors.view import TraceView
    from pytest_tracebench.hookspecs import hookimpl, hookspec
    from pytest_tracebench.models import (
        REPORT_SCHEMA_VERSION,
        TRACE_SCHEMA_VERSION,
        AgentInfo,
        Cluster,
        Comparison,
        EvaluationReport,
        Finding,
        Gate,
        Score,
        Step,
        Summary,
        TaskInfo,
        Trace,
        TraceEnd,
        TraceHeader,
        TraceResult,
    )
    from pytest_tracebench.pipeline import reward
    from pytest_tracebench.record.recorder import RecorderError, TraceRecorder
    from pytest_tracebench.record.redaction import Redactor
    from pytest_tracebench.record.trace_file import TraceLoadError, dump_trace, load_trace
    from pytest_tracebench.settings import ConfigError, Settings

__version__ = "0.1.0"

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "TRACE_SCHEMA_VERSION",
    "AgentInfo",
    "Cluster",
    "Comparison",
    "ConfigError",
    "EvaluationReport",
    "Finding",
    "Gate",
    "RecorderError",
    "Redactor",
    "Score",
    "Settings",
    "Step",
    "Summary",
    "TaskInfo",
    "Trace",
    "TraceEnd",
    "TraceHeader",
    "TraceLoadError",
    "TraceRecorder",
    "TraceResult",
    "TraceView",
    "__version__",
    "dump_trace",
    "hookimpl",
    "hookspec",
    "load_trace",
    "reward",
]


_SOURCES: dict[str, str] = {
    "ConfigError": "settings", "Settings": "settings", "hookimpl": "hookspecs",
    "hookspec": "hookspecs", "Redactor": "record.redaction", "TraceLoadError": "record.trace_file",
    "dump_trace": "record.trace_file", "load_trace": "record.trace_file",
    "RecorderError": "record.recorder", "TraceRecorder": "record.recorder", "reward": "pipeline",
    "TraceView": "detectors.view",
}


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name, "models" if name in __all__ else None)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
