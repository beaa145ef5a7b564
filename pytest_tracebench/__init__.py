"""pytest-tracebench: evaluate AI coding agents by how they behave.

The public API is re-exported here; everything else is internal.
"""

from __future__ import annotations

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
