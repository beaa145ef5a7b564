"""OpenTelemetry: live capture under --tracebench, OTLP JSON written by the SDK's own encoder,
and evaluation events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_tracebench import Finding, Score, TraceResult
from pytest_tracebench.exporters import evaluation_events, to_otlp_logs
from pytest_tracebench.importers import import_path

AGENT_WITH_OTEL = """
from opentelemetry import trace as otel

tracer = otel.get_tracer("my-agent")

def agent():
    # The agent knows nothing of tracebench: it only emits GenAI spans.
    with tracer.start_as_current_span("invoke_agent fixer") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        with tracer.start_as_current_span("chat gpt-x") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", "gpt-x")
            span.set_attribute("gen_ai.usage.input_tokens", 120)
            span.set_attribute("gen_ai.usage.output_tokens", 30)
        with tracer.start_as_current_span("execute_tool bash") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", "bash")
            span.set_attribute("gen_ai.tool.call.arguments", '{"command": "python -m pytest -q"}')
            span.set_attribute("gen_ai.tool.call.result", "1 failed, 3 passed in 0.10s")
        with tracer.start_as_current_span("execute_tool read_file") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", "read_file")
            span.set_attribute("gen_ai.tool.call.arguments", '{"path": "app.py"}')

def test_agent(trace):
    agent()
"""


def test_agent_instrumented_only_with_otel_gets_a_full_trace(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=AGENT_WITH_OTEL)
    result = pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    (path,) = (pytester.path / ".tracebench" / "traces").glob("*.jsonl")
    steps = [json.loads(line) for line in path.read_text().splitlines()[1:-1]]
    assert [(s["kind"], s["name"]) for s in steps] == [
        ("llm", "chat gpt-x"), ("test", "bash"), ("read", "read_file")]
    assert steps[0]["output"]["usage"] == {"input_tokens": 120, "output_tokens": 30}
    assert steps[1]["output"]["failed"] == 1 and steps[1]["output"]["passed"] == 3


def test_otel_capture_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=AGENT_WITH_OTEL)
    pytester.runpytest_subprocess("--tracebench", "--tracebench-otel=false").assert_outcomes(
        passed=1)
    (path,) = (pytester.path / ".tracebench" / "traces").glob("*.jsonl")
    assert len(path.read_text().splitlines()) == 2  # header and end only


def test_otlp_json_from_the_sdk_encoder_imports(tmp_path: Path) -> None:
    from google.protobuf.json_format import MessageToJson
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("agent"):
        with tracer.start_as_current_span("chat m") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.usage.input_tokens", 7)
            span.set_attribute("gen_ai.usage.output_tokens", 2)
        with tracer.start_as_current_span("execute_tool edit") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", "str_replace_editor")
            span.set_attribute("gen_ai.tool.call.arguments",
                               json.dumps({"command": "str_replace", "path": "a.py",
                                           "old_str": "x = 1", "new_str": "x = 2"}))
    path = tmp_path / "otlp.json"
    path.write_text(MessageToJson(encode_spans(exporter.get_finished_spans())))
    assert "resourceSpans" in path.read_text()
    (trace,) = import_path(path)
    assert trace.header.source.format == "otel"
    assert [s.kind for s in trace.steps] == ["llm", "edit"]
    assert trace.steps[0].output["usage"] == {"input_tokens": 7, "output_tokens": 2}
    assert trace.steps[1].input["old"] == "x = 1"


def test_evaluation_events_follow_the_genai_convention() -> None:
    result = TraceResult(
        trace_id="t1", task_id="task", agent="a", status="completed", step_count=3,
        findings=[Finding(detector="retry_loop", severity="high", message="stuck", steps=[4, 6])],
        score=Score(value=62.5, reward=0.625),
    )
    score_event, finding_event = evaluation_events(result)
    assert score_event["name"] == "gen_ai.evaluation.result"
    assert score_event["attributes"]["gen_ai.evaluation.name"] == "tracebench.score"
    assert score_event["attributes"]["gen_ai.evaluation.score.value"] == 62.5
    assert score_event["attributes"]["gen_ai.evaluation.score.label"] == "pass"
    assert finding_event["attributes"]["gen_ai.evaluation.name"] == "tracebench.retry_loop"
    assert finding_event["attributes"]["gen_ai.evaluation.explanation"] == "stuck"
    logs = to_otlp_logs([result])
    records = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert [r["eventName"] for r in records] == ["gen_ai.evaluation.result"] * 2
    keys = {a["key"] for a in records[0]["attributes"]}
    assert {"gen_ai.evaluation.name", "gen_ai.evaluation.score.value"} <= keys
