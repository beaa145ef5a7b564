from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from pytest_tracebench import RecorderError, TraceRecorder, load_trace


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_step_records_are_written_and_flushed_as_they_happen(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rec = TraceRecorder(path, task="fix-timeout", agent="demo")
    rec.step("read", "retrieve_context", input={"query": "timeout"}, output="client.py")
    # Before end(): the header and the step are already on disk.
    lines = _lines(path)
    assert [r["type"] for r in lines] == ["trace", "step"]
    assert lines[0]["task"]["id"] == "fix-timeout"
    assert lines[0]["agent"]["name"] == "demo"
    assert lines[1]["name"] == "retrieve_context"
    rec.end("completed", {"passed": True})
    lines = _lines(path)
    assert lines[-1]["type"] == "end"
    assert lines[-1]["step_count"] == 1
    assert lines[-1]["outcome"] == {"passed": True}


def test_typed_helpers_write_the_well_known_keys(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.command("pytest -q", exit_code=1, stdout="1 failed", stderr="")
    rec.read("src/app.py", content="def f(): ...")
    rec.edit("src/app.py", diff="--- a\n+++ b\n")
    rec.test_run(passed=3, failed=1, failing=["tests/test_app.py::test_f"])
    rec.message("All tests pass now.")
    rec.llm([{"role": "user", "content": "fix it"}], response="ok", model="m",
            input_tokens=12, output_tokens=3)
    rec.submit("diff --git a/x b/x")
    rec.error(ValueError("boom"))
    rec.end()
    trace = load_trace(tmp_path / "t.jsonl")
    kinds = [s.kind for s in trace.steps]
    assert kinds == ["command", "read", "edit", "test", "message", "llm", "submit", "error"]
    cmd, _, edit, test, msg, llm, submit, err = trace.steps
    assert cmd.input == {"command": "pytest -q"}
    assert cmd.output["exit_code"] == 1
    assert edit.input["path"] == "src/app.py"
    assert test.output["failing"] == ["tests/test_app.py::test_f"]
    assert test.output["ok"] is False
    assert msg.output == {"text": "All tests pass now."}
    assert llm.output["usage"] == {"input_tokens": 12, "output_tokens": 3}
    assert submit.input["patch"].startswith("diff")
    assert err.error == "ValueError: boom"


def test_a_test_run_keeps_the_time_it_took(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.test_run(passed=1, command="pytest", started_at=100.0, ended_at=102.5)
    rec.test_run(passed=1)  # no times given: when it was recorded
    rec.end()
    timed, untimed = load_trace(tmp_path / "t.jsonl").steps
    assert (timed.started_at, timed.ended_at) == (100.0, 102.5)
    assert untimed.started_at is not None and untimed.started_at == untimed.ended_at


def test_spans_nest_and_children_point_to_their_parent(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    with rec.span("solve", kind="tool") as outer:
        rec.message("plan")
        with rec.span("apply", kind="edit"):
            rec.command("sed -i s/a/b/ f.py", exit_code=0)
        outer.set_output("done")
    rec.end()
    trace = load_trace(tmp_path / "t.jsonl")
    by_name = {s.name: s for s in trace.steps}
    assert [s.index for s in trace.steps] == [0, 1, 2, 3]
    assert by_name["solve"].parent is None
    assert by_name["solve"].output == "done"
    assert by_name["message"].parent == by_name["solve"].index
    assert by_name["apply"].parent == by_name["solve"].index
    assert by_name["sed"].parent == by_name["apply"].index


def test_tool_decorator_records_arguments_results_and_exceptions(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")

    @rec.tool
    def read_file(path: str, limit: int = 10) -> str:
        return f"contents of {path}"

    @rec.tool(kind="command", name="shell")
    def run(cmd: str) -> int:
        raise TimeoutError(f"{cmd} timed out")

    assert read_file("a.py") == "contents of a.py"
    with pytest.raises(TimeoutError):
        run("make test")
    rec.end()
    first, second = load_trace(tmp_path / "t.jsonl").steps
    assert (first.kind, first.name) == ("tool", "read_file")
    assert first.input == {"path": "a.py", "limit": 10}
    assert first.output == "contents of a.py"
    assert first.started_at is not None and first.ended_at is not None
    assert first.ended_at >= first.started_at
    assert (second.kind, second.name) == ("command", "shell")
    assert second.error == "TimeoutError: make test timed out"


def test_tool_decorator_on_async_functions(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")

    @rec.tool
    async def fetch(url: str) -> dict:
        return {"status": 200}

    assert asyncio.run(fetch("http://x")) == {"status": 200}
    rec.end()
    (step,) = load_trace(tmp_path / "t.jsonl").steps
    assert step.input == {"url": "http://x"} and step.output == {"status": 200}


def test_long_outputs_are_truncated_with_length_and_hash(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl", max_output_chars=1000)
    big = "x" * 5000 + "END"
    rec.command("cat big.log", exit_code=0, stdout=big)
    rec.end()
    (step,) = load_trace(tmp_path / "t.jsonl").steps
    stdout = step.output["stdout"]
    assert len(stdout) < 1200
    assert stdout.endswith("END")
    assert "chars truncated" in stdout
    note = step.meta["truncated"]["output.stdout"]
    assert note == {"length": 5003, "sha256": hashlib.sha256(big.encode()).hexdigest()}


def test_memory_only_recorder_writes_nothing(tmp_path: Path) -> None:
    rec = TraceRecorder(None)
    rec.message("hello")
    rec.end()
    assert rec.steps[0].output == {"text": "hello"}
    assert rec.to_trace().end is not None
    assert list(tmp_path.iterdir()) == []


def test_misuse_is_reported_clearly(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    with pytest.raises(RecorderError, match="unknown step kind 'bogus'"):
        rec.step("bogus", "x")
    rec.end()
    with pytest.raises(RecorderError, match="after the end record"):
        rec.message("too late")
    rec.end()  # a second end is a no-op
    assert _lines(tmp_path / "t.jsonl")[-1]["type"] == "end"


def test_agent_named_after_the_first_step_reaches_the_loaded_trace(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.message("starting")
    rec.set_agent("repair-agent", model="none")
    rec.end()
    trace = load_trace(tmp_path / "t.jsonl")
    assert trace.header.agent.name == "repair-agent"


def test_non_json_values_are_recorded_readably(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")

    class Thing:
        def __repr__(self) -> str:
            return "<Thing>"

    rec.step("tool", "odd", input={"p": Path("/a/b"), "b": b"bytes", "s": {2, 1}, "o": Thing()})
    rec.end()
    (step,) = load_trace(tmp_path / "t.jsonl").steps
    assert step.input == {"p": "/a/b", "b": "bytes", "s": [1, 2], "o": "<Thing>"}


def test_context_manager_records_an_unhandled_exception(tmp_path: Path) -> None:
    with pytest.raises(KeyError), TraceRecorder(tmp_path / "t.jsonl") as rec:
        rec.message("about to fail")
        raise KeyError("missing")
    trace = load_trace(tmp_path / "t.jsonl")
    assert trace.end is not None and trace.end.status == "error"
    assert trace.steps[-1].kind == "error"
