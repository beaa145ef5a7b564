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
    from .config import ConfigError, Settings
    from .hookspecs import hookimpl, hookspec
    from .models import (
        REPORT_SCHEMA_VERSION,
        TRACE_SCHEMA_VERSION,
        AgentInfo,
        Cluster,
        EvaluationReport,
        Finding,
        Score,
        Step,
        Summary,
        TaskInfo,
        Trace,
        TraceEnd,
        TraceHeader,
        TraceResult,
    )
    from .redaction import Redactor
    from .storage import TraceLoadError, dump_trace, load_trace
    from .tracer import RecorderError, TraceRecorder

__version__ = "0.1.0"

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "TRACE_SCHEMA_VERSION",
    "AgentInfo",
    "Cluster",
    "ConfigError",
    "EvaluationReport",
    "Finding",
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
    "__version__",
    "dump_trace",
    "hookimpl",
    "hookspec",
    "load_trace",
]


_SOURCES: dict[str, str] = {
    "ConfigError": "config", "Settings": "config", "hookimpl": "hookspecs",
    "hookspec": "hookspecs", "Redactor": "redaction", "TraceLoadError": "storage",
    "dump_trace": "storage", "load_trace": "storage", "RecorderError": "tracer",
    "TraceRecorder": "tracer",
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
