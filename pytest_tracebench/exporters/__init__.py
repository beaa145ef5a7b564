"""Exporters: write what other tools read (ATIF trajectories, OpenTelemetry evaluation events)."""

from __future__ import annotations

from pytest_tracebench.exporters.atif import AtifExportError, to_atif
from pytest_tracebench.exporters.otel import evaluation_events, to_otlp_logs

__all__ = ["AtifExportError", "evaluation_events", "to_atif", "to_otlp_logs"]
