"""Live capture: OpenTelemetry spans an agent emits during a test go into that test's trace.

The agent's code is not changed. When recording is on and ``opentelemetry-sdk`` is installed,
a span processor is attached to the global SDK ``TracerProvider`` (one is installed if the
process has none yet); every span that ends while a ``trace`` fixture is active is mapped with
the same GenAI / OpenInference rules as the OTel importer and recorded as a step.
"""

from __future__ import annotations

import threading
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder
from pytest_tracebench.importers.otel import SpanRecord, add_span
from pytest_tracebench.record.recorder import TraceRecorder

_lock = threading.Lock()
_active: TraceRecorder | None = None
_installed = False


def set_active(recorder: TraceRecorder | None) -> None:
    """The recorder that receives spans from now on (``None``: spans are ignored)."""
    global _active
    with _lock:
        _active = recorder


def _record(span: Any) -> SpanRecord:
    context = span.context
    parent = span.parent
    status = getattr(span, "status", None)
    error = None
    if status is not None and getattr(status.status_code, "name", "") == "ERROR":
        error = status.description or "span status error"
    return SpanRecord(
        name=span.name,
        trace_id=f"{context.trace_id:032x}" if context else "trace",
        span_id=f"{context.span_id:016x}" if context else "",
        parent_id=f"{parent.span_id:016x}" if parent else None,
        start=span.start_time / 1e9 if span.start_time else None,
        end=span.end_time / 1e9 if span.end_time else None,
        attributes=dict(span.attributes or {}),
        error=error,
    )


def forward(span: Any) -> None:
    """Record a finished span into the active trace, when it is an agent action."""
    recorder = _active
    if recorder is None or recorder.finished:
        return
    builder = TraceBuilder(format="otel-live", path="<live>", trace_id="live")
    if not add_span(builder, _record(span)):
        return
    for step in builder.steps:
        recorder.step(step.kind, step.name, input=step.input, output=step.output,
                      error=step.error, meta=step.meta, started_at=step.started_at,
                      ended_at=step.ended_at)


def install() -> bool:
    """Attach the processor to the global SDK tracer provider. False if the SDK is missing."""
    global _installed
    try:
        from opentelemetry import trace as otel_trace
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    except ImportError:
        return False

    class TracebenchSpanProcessor(SpanProcessor):
        """Forwards finished spans to the active trace (the SDK's base class supplies the
        rest of the processor interface, whatever the SDK version)."""

        def on_end(self, span: Any) -> None:
            forward(span)

    with _lock:
        if _installed:
            return True
        provider = otel_trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            otel_trace.set_tracer_provider(provider)
            provider = otel_trace.get_tracer_provider()
        if isinstance(provider, TracerProvider):
            provider.add_span_processor(TracebenchSpanProcessor())
            _installed = True
    return _installed
