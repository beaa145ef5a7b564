"""Exporters: write what other tools read (ATIF trajectories, OpenTelemetry evaluation events)."""

from __future__ import annotations

from .atif import AtifExportError, to_atif
from .otel import evaluation_events, to_otlp_logs

__all__ = ["AtifExportError", "evaluation_events", "to_atif", "to_otlp_logs"]
