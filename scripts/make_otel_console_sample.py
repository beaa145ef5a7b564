"""Write tests/data/otel_console/console_spans.txt with the OpenTelemetry Python SDK's own
``ConsoleSpanExporter``: pretty-printed span objects one after another, the way an
instrumented agent's console (or a file it redirects the exporter to) holds them.

The spans follow the GenAI semantic conventions an agent framework writes: an ``invoke_agent``
root, two ``chat`` calls with token usage, three ``execute_tool`` calls (a read, a test run, a
failing command with an ERROR status) and one framework span (HTTP) that is not an action.
Run once with the SDK installed (``pip install opentelemetry-sdk``); the output is ours, so it
is committed. Ids and times differ on each run; the shape is what the tests check.

    .venv/bin/python scripts/make_otel_console_sample.py
"""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "otel_console" / \
    "console_spans.txt"


def _tool(tracer, name: str, args: dict[str, str], result: str, error: str | None = None) -> None:
    with tracer.start_as_current_span(f"execute_tool {name}") as span:
        span.set_attribute("gen_ai.operation.name", "execute_tool")
        span.set_attribute("gen_ai.tool.name", name)
        span.set_attribute("gen_ai.tool.call.arguments", json.dumps(args))
        span.set_attribute("gen_ai.tool.call.result", result)
        if error:
            span.set_status(Status(StatusCode.ERROR, error))


def _chat(tracer, prompt: str, answer: str, tokens: tuple[int, int]) -> None:
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attribute("gen_ai.input.messages",
                           json.dumps([{"role": "user", "content": prompt}]))
        span.set_attribute("gen_ai.output.messages",
                           json.dumps([{"role": "assistant", "content": answer}]))
        span.set_attribute("gen_ai.usage.input_tokens", tokens[0])
        span.set_attribute("gen_ai.usage.output_tokens", tokens[1])


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        provider = TracerProvider(resource=Resource.create({"service.name": "sample-agent"}))
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
        tracer = provider.get_tracer("sample-agent")
        with tracer.start_as_current_span("invoke_agent fixer") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", "fixer")
            root.set_attribute("input.value", "Fix the failing test in tests/test_app.py")
            _chat(tracer, "Fix the failing test in tests/test_app.py", "Let me read it.",
                  (120, 14))
            _tool(tracer, "read_file", {"path": "tests/test_app.py"},
                  "def test_add():\n    assert add(1, 2) == 3\n")
            with tracer.start_as_current_span("POST /v1/chat/completions") as http:
                http.set_attribute("http.request.method", "POST")
            _tool(tracer, "bash", {"command": "python -m pytest -q tests/test_app.py"},
                  "F\n1 failed in 0.02s\n")
            _tool(tracer, "bash", {"command": "cat missing.txt"},
                  "cat: missing.txt: No such file or directory", error="exit code 1")
            _chat(tracer, "The test fails.", "The test fails; I stop here.", (260, 9))
        provider.shutdown()


if __name__ == "__main__":
    main()
