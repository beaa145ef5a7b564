"""OpenTelemetry spans of instrumented agents, in the shapes they are found on disk:

* OTLP/JSON wire format (``{"resourceSpans": [{"scopeSpans": [{"spans": [...]}]}]}``, hex ids,
  ``{"stringValue": ...}`` attributes, ``startTimeUnixNano`` strings);
* Python SDK span dumps (``{"spans": [...]}`` or a list of ``span.to_json()`` objects, as
  any-agent writes them), and the SDK's ``ConsoleSpanExporter`` output: ``span.to_json()``
  objects pretty-printed one after another, not in a list (ISO times, ``0x`` hex ids);
* JavaScript ``ReadableSpan`` JSON (``startTime: [s, ns]``, ``parentSpanId``), as Mastra and the
  Vercel AI SDK tests write them.

Spans are mapped by their semantic conventions: GenAI (``gen_ai.operation.name`` ``chat``/
``call_llm``/... -> ``llm`` with ``gen_ai.usage.*`` tokens; ``execute_tool`` -> a tool step
through the shared tool vocabulary), OpenInference (``openinference.span.kind`` ``LLM``,
``TOOL``, ``RETRIEVER``), and the Vercel AI SDK (``ai.*.doGenerate``/``doStream`` -> ``llm``,
``ai.toolCall`` -> tool). Framework-internal spans (agent bookkeeping, HTTP) are not agent
actions and are left out; their count is kept in the header's meta. One trace per trace id.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of, to_epoch
from pytest_tracebench.models import AgentInfo, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

LLM_OPERATIONS = {"chat", "call_llm", "text_completion", "generate_content", "completion",
                  "embeddings", "generate"}


@dataclass
class SpanRecord:
    """The parts of a span the mapping needs, whatever shape it came in."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    start: float | None
    end: float | None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _otlp_id(value: Any) -> str:
    """OTLP/JSON ids are hex; protobuf's JSON mapping (what the SDK's encoder gives through
    ``MessageToJson``) writes the same bytes as base64. Both come out as hex."""
    text = str(value or "")
    if re.fullmatch(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}", text):
        return text.lower()
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return text
    return raw.hex() if len(raw) in (8, 16) else text


def _otlp_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_otlp_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return {kv.get("key"): _otlp_value(kv.get("value"))
                for kv in (value["kvlistValue"] or {}).get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, list) and len(value) == 2:  # JS HrTime [seconds, nanoseconds]
        return float(value[0]) + float(value[1]) / 1e9
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    elif isinstance(value, str):
        return to_epoch(value)  # the Python SDK's to_json(): ISO-8601 with a Z
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        while number > 1e11:
            number /= 1000.0
        return number
    return None


def _status_error(status: Any) -> str | None:
    if not isinstance(status, dict):
        return None
    code = status.get("status_code", status.get("code"))
    if code in ("error", "ERROR", "STATUS_CODE_ERROR", 2):
        return str(status.get("description") or status.get("message") or "span status error")
    return None


def _from_otlp(data: dict[str, Any]) -> list[SpanRecord]:
    spans = []
    for resource_spans in data.get("resourceSpans") or []:
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                attrs = {a.get("key"): _otlp_value(a.get("value"))
                         for a in span.get("attributes") or []}
                spans.append(SpanRecord(
                    name=str(span.get("name", "")), trace_id=_otlp_id(span.get("traceId")),
                    span_id=_otlp_id(span.get("spanId")),
                    parent_id=_otlp_id(span.get("parentSpanId")) if span.get("parentSpanId")
                    else None,
                    start=_seconds(span.get("startTimeUnixNano")),
                    end=_seconds(span.get("endTimeUnixNano")),
                    attributes=attrs, error=_status_error(span.get("status"))))
    return spans


def _dump_id(value: Any) -> str:
    """An SDK dump's id: ``to_json()`` writes ``0x`` and hex, any-agent a decimal integer."""
    text = str(value)
    return text[2:] if text.startswith("0x") else text


def _from_dump(span: dict[str, Any]) -> SpanRecord:
    context = span.get("context") or span.get("spanContext") or {}
    parent = span.get("parent")
    parent_id = span.get("parentSpanId") or span.get("parent_id") or (
        parent.get("span_id") if isinstance(parent, dict) else parent)
    return SpanRecord(
        name=str(span.get("name", "")),
        trace_id=_dump_id(context.get("trace_id") or context.get("traceId") or "trace"),
        span_id=_dump_id(context.get("span_id") or context.get("spanId") or id(span)),
        parent_id=_dump_id(parent_id) if parent_id else None,
        start=_seconds(span.get("start_time", span.get("startTime"))),
        end=_seconds(span.get("end_time", span.get("endTime"))),
        attributes=dict(span.get("attributes") or {}),
        error=_status_error(span.get("status")),
    )


def read_spans(data: Any) -> list[SpanRecord]:
    """Spans from any of the supported JSON shapes."""
    if isinstance(data, dict) and "resourceSpans" in data:
        return _from_otlp(data)
    if isinstance(data, dict) and isinstance(data.get("spans"), list):
        data = data["spans"]
    if isinstance(data, list):
        return [_from_dump(s) for s in data if isinstance(s, dict)]
    raise ValueError("expected OTLP JSON (resourceSpans) or a list of spans")


def json_values(text: str) -> Any:
    """The JSON value of ``text``, or the list of the values written one after another (the
    Python SDK's ``ConsoleSpanExporter`` prints each span's indented ``to_json()`` in turn;
    JSON Lines of spans read the same way). A bad value raises ``ValueError`` naming its
    line."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    length = len(text)
    while True:
        while position < length and text[position] in " \t\r\n":
            position += 1
        if position >= length:
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            line = text.count("\n", 0, position) + 1
            raise ValueError(f"line {line}: invalid JSON: {exc}") from None
        values.append(value)
    if len(values) == 1:
        return values[0]
    return values


def _json_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _usage(attrs: dict[str, Any]) -> dict[str, Any]:
    pairs = (("input_tokens", ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                               "llm.token_count.prompt", "ai.usage.promptTokens",
                               "ai.usage.inputTokens")),
             ("output_tokens", ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                                "llm.token_count.completion", "ai.usage.completionTokens",
                                "ai.usage.outputTokens")))
    usage: dict[str, Any] = {}
    for name, keys in pairs:
        for key in keys:
            if isinstance(attrs.get(key), (int, float)):
                usage[name] = int(attrs[key])
                break
    return usage


def span_kind(span: SpanRecord) -> str | None:
    """``llm``, ``tool``, ``read`` or ``None`` (not an agent action) for a span."""
    attrs = span.attributes
    operation = str(attrs.get("gen_ai.operation.name") or "")
    oi_kind = str(attrs.get("openinference.span.kind") or "").upper()
    ai_operation = str(attrs.get("ai.operationId") or "")
    if operation == "execute_tool" or oi_kind == "TOOL" or ai_operation == "ai.toolCall":
        return "tool"
    if operation in LLM_OPERATIONS or oi_kind in ("LLM", "EMBEDDING") or \
            ai_operation.endswith((".doGenerate", ".doStream", ".doEmbed")):
        return "llm"
    if oi_kind == "RETRIEVER":
        return "read"
    return None


def add_span(builder: TraceBuilder, span: SpanRecord) -> bool:
    """Append the step for ``span``; False when the span is not an agent action."""
    kind = span_kind(span)
    attrs = span.attributes
    meta = {"span_id": span.span_id, "span_name": span.name}
    if kind == "tool":
        name = str(attrs.get("gen_ai.tool.name") or attrs.get("tool.name")
                   or attrs.get("ai.toolCall.name") or span.name.removeprefix("execute_tool "))
        args = _json_value(attrs.get("gen_ai.tool.call.arguments") or attrs.get("gen_ai.tool.args")
                           or attrs.get("ai.toolCall.args") or attrs.get("tool.parameters")
                           or attrs.get("input.value"))
        result = _json_value(attrs.get("gen_ai.tool.call.result") or attrs.get("gen_ai.output")
                             or attrs.get("ai.toolCall.result") or attrs.get("output.value"))
        step = builder.tool_call(name, args, result if isinstance(result, str)
                                 else (json.dumps(result) if result is not None else None),
                                 is_error=span.error is not None, at=span.start,
                                 ended_at=span.end, meta=meta)
        if span.error and not step.error:
            step.error = span.error
        return True
    if kind == "llm":
        model = attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model") or \
            attrs.get("llm.model_name") or attrs.get("ai.model.id")
        messages = _json_value(attrs.get("gen_ai.input.messages") or attrs.get("gen_ai.prompt")
                               or attrs.get("ai.prompt.messages") or attrs.get("input.value"))
        response = _json_value(attrs.get("gen_ai.output.messages") or attrs.get("gen_ai.output")
                               or attrs.get("gen_ai.completion") or attrs.get("ai.response.text")
                               or attrs.get("output.value"))
        output: dict[str, Any] = {"content": response}
        usage = _usage(attrs)
        if usage:
            output["usage"] = usage
        builder.add("llm", span.name, input={"messages": messages, "model": model},
                    output=output, error=span.error, at=span.start, ended_at=span.end,
                    meta=meta)
        return True
    if kind == "read":
        builder.add("read", span.name, input={"path": text_of(attrs.get("input.value"))},
                    output=_json_value(attrs.get("output.value")), at=span.start,
                    ended_at=span.end, meta=meta)
        return True
    return False


def _agent_name(spans: list[SpanRecord]) -> str:
    for span in spans:
        attrs = span.attributes
        name = attrs.get("gen_ai.agent.name") or attrs.get("componentName")
        if name:
            return str(name)
        if attrs.get("gen_ai.operation.name") == "invoke_agent":
            return span.name.removeprefix("invoke_agent").strip(" []") or "agent"
    return "otel-agent"


class OtelImporter:
    name = "otel"
    description = "OpenTelemetry spans (OTLP JSON, SDK span dumps; GenAI, OpenInference, AI SDK)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if b'"resourceSpans"' in head:
            return True
        return (b'"attributes"' in head and (b'"span_id"' in head or b'"spanId"' in head
                                             or b'"parentSpanId"' in head
                                             or b'"spanContext"' in head)
                and (b'"start_time"' in head or b'"startTime"' in head))

    def load(self, path: Path) -> list[Trace]:
        spans = read_spans(json_values(path.read_text(encoding="utf-8")))
        by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
        for span in spans:
            by_trace[span.trace_id].append(span)
        traces = []
        empty = 0
        for trace_id, members in by_trace.items():
            members.sort(key=lambda s: (s.start or 0.0, s.end or 0.0))
            first_input = next((text_of(_json_value(s.attributes.get("input.value")))
                                for s in members if s.attributes.get("input.value")), "")
            builder = TraceBuilder(
                format=self.name, path=path, trace_id=stable_id(self.name, str(path), trace_id),
                task=TaskInfo(id=f"{path.stem}:{trace_id[:16]}",
                              description=clip(first_input, 4000) or None),
                agent=AgentInfo(name=_agent_name(members)),
                started_at=members[0].start if members else None,
            )
            skipped = sum(0 if add_span(builder, span) else 1 for span in members)
            if not builder.steps:
                empty += 1  # only framework spans (wrappers, HTTP): no agent action to judge
                continue
            builder.header.meta["spans"] = len(members)
            builder.header.meta["spans_not_actions"] = skipped
            failed = any(s.error for s in members if s.parent_id is None)
            ends = [s.end for s in members if s.end is not None]
            traces.append(builder.build("error" if failed else "completed",
                                        ended_at=max(ends) if ends else None))
        if empty and traces:
            traces[0].warnings.append(
                f"{path}: {empty} trace id(s) held no agent action (LLM or tool) span and were "
                f"left out")
        return traces
