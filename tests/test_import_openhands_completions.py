"""The OpenHands completion-log importer against the 50 real CodeAct 0.15 runs of the corpus.

The runs are read in place (``tests._corpus``); anything a test needs to change is written to
``tmp_path``. The expected values come from a tiny reader of the raw JSON here, independent of
the importer, so a mapping mistake cannot hide behind the same code computing both sides.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_tracebench import Trace, TraceLoadError
from pytest_tracebench.importers import import_path, iter_trace_inputs
from pytest_tracebench.importers.openhands_completions import split_bash_output
from pytest_tracebench.parsers import parse_test_output
from tests._corpus import DEV, needs_corpus, runs

from .test_fuzz_importers import _check, _mutate

SOURCE = "openhands-codeact-v0.15-claude35sonnet-swebv"
RUNS = runs(SOURCE)
VERDICT = "output.swebench_eval.logs"
EXIT = re.compile(r"\[Command finished with exit code (-?\d+)\]\s*$")
PYTEST_SUMMARY = re.compile(r"^=+ .*\b\d+ (?:passed|failed)\b.* =+$", re.M)


def _log_file(run: Path) -> Path:
    """The latest completion log, by the epoch at the end of its name."""
    return max((run / "llm_completions").glob("*.json"),
               key=lambda p: float(p.stem.rsplit("-", 1)[1]))


def _raw(run: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_log_file(run).read_text(encoding="utf-8"))
    return doc


def _raw_calls(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], str | None]]:
    """``(tool name, arguments, result text or None)`` for every tool call, in order."""
    messages = [*doc["messages"], doc["response"]["choices"][0]["message"]]
    results = {m["tool_call_id"]: "".join(p["text"] for p in m["content"])
               for m in messages if m["role"] == "tool"}
    return [(c["function"]["name"], json.loads(c["function"]["arguments"]), results.get(c["id"]))
            for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]


@cache
def _trace(path: Path) -> Trace:
    (trace,) = import_path(path)
    return trace


def _actions(trace: Trace) -> list[Any]:
    return [s for s in trace.steps if s.kind not in ("message", "llm")]


@needs_corpus
def test_all_fifty_runs_are_there_and_import() -> None:
    assert len(RUNS) == 50
    for run in RUNS:
        trace = _trace(run)
        assert trace.header.source.format == "openhands-completions"
        assert trace.header.task.id == run.name
        assert trace.header.agent.name == "openhands" and trace.header.agent.version == "0.15.0"
        assert "claude-3-5-sonnet" in (trace.header.agent.model or "")
        assert trace.warnings == []


@needs_corpus
@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_one_step_per_tool_call_in_order(run: Path) -> None:
    calls = _raw_calls(_raw(run))
    steps = _actions(_trace(run))
    assert [s.name for s in steps] == [name for name, _, _ in calls]
    for step, (name, args, result) in zip(steps, calls, strict=True):
        assert step.meta.get("unanswered", False) == (result is None and name != "finish")
        if name == "execute_bash":
            assert step.input["command"] == args["command"]
            if result is not None:  # the exit code the chat shows, read independently here
                code = EXIT.search(result)
                assert code is not None and step.output["exit_code"] == int(code.group(1))
                assert "[Command finished" not in step.output["stdout"]
        elif name == "str_replace_editor":
            assert step.kind == ("read" if args["command"] == "view" else "edit")
            assert step.input["path"] == args["path"]
            if args["command"] == "create":
                assert step.input["content"] == args.get("file_text", "")
            if args["command"] == "str_replace":
                assert step.input["old"] == args.get("old_str", "")
            assert (step.error is not None) == (result or "").startswith(("ERROR:", "-----"))
        else:
            assert name == "finish" and step.kind == "submit" and step.input["answer"]


@needs_corpus
@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_end_task_times_and_usage(run: Path) -> None:
    doc = _raw(run)
    trace = _trace(run)
    finished = _raw_calls(doc)[-1][0] == "finish"
    assert trace.end is not None
    assert trace.end.status == ("completed" if finished else "timeout")
    calls = sum(m["role"] == "assistant" for m in doc["messages"]) + 1
    assert trace.end.outcome["api_calls"] == calls
    assert "cost_usd" not in trace.end.outcome  # only the last call's cost is in the snapshot
    assert "<pr_description>" not in (trace.header.task.description or "x")
    assert trace.header.task.description and trace.header.task.description in \
        doc["messages"][1]["content"][0]["text"]
    starts = [s.started_at for s in trace.steps if s.started_at is not None]
    assert len(starts) == len(trace.steps) and starts == sorted(starts)
    assert trace.header.started_at is not None and trace.header.started_at <= starts[0]
    assert trace.end.ended_at is not None and trace.end.ended_at >= starts[-1]
    # the zone of the log was found: the last call ends a few seconds before its log was written
    assert 0 <= doc["timestamp"] - starts[-1] < 120
    (usage,) = [s.meta["usage"] for s in trace.steps if "usage" in s.meta]
    assert usage["cost_usd"] == doc["cost"]
    assert usage["input_tokens"] == doc["response"]["usage"]["prompt_tokens"]
    submit = [s for s in trace.steps if s.kind == "submit"]
    assert len(submit) == int(finished)
    if finished:
        assert submit[0].input["patch"].startswith("diff --git")


@needs_corpus
def test_measured_counts_on_the_corpus() -> None:
    """The numbers the importer's docs and report rest on."""
    steps = [_trace(run).steps for run in RUNS]
    commands = [s for run in steps for s in run if s.name == "execute_bash"]
    answered = [s for s in commands if not s.meta.get("unanswered")]
    assert len(commands) == 506 and len(answered) == 504
    assert all(isinstance(s.output["exit_code"], int) for s in answered)
    edits = [s for run in steps for s in run if s.kind == "edit"]
    assert len(edits) == 446 and all(s.input["path"] for s in edits)
    tests = [s for run in steps for s in run if s.kind == "test"]
    # 52 since `python -m django test ...` counts as a test run (3 in django__django-11087)
    assert len(tests) == 52
    statuses = [_trace(run).end.status for run in RUNS]  # type: ignore[union-attr]
    assert statuses.count("completed") == 45 and statuses.count("timeout") == 5


@needs_corpus
def test_test_steps_have_counts_where_the_output_has_a_summary() -> None:
    tests = [s for run in RUNS for s in _trace(run).steps if s.kind == "test"]
    for step in tests:
        if PYTEST_SUMMARY.search(step.output["stdout"]):
            assert step.output["passed"] is not None and step.output["failed"] is not None
    # No run of this corpus ran pytest to a summary; the one real test summary is a unittest
    # run inside a reproduction script, and it parses only once the footer is off its last line.
    (step,) = [s for s in _trace(DEV / SOURCE / "django__django-11149").steps
               if s.kind == "command" and "Ran 1 test" in s.output["stdout"]]
    result = parse_test_output(step.output["stdout"])
    assert result is not None and (result.passed, result.errors) == (0, 1)


def _chat_log(outputs: list[tuple[str, str]]) -> dict[str, Any]:
    """A completion log of the 0.15 shape with one execute_bash call per ``(command, output)``."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": [{"type": "text", "text": "You are OpenHands agent"}]},
        {"role": "user", "content": [{"type": "text", "text":
                                      "<pr_description>\nFix it\n</pr_description>"}]}]
    for n, (command, output) in enumerate(outputs):
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "Run"}],
                         "tool_calls": [{"index": 1, "id": f"toolu_{n}", "type": "function",
                                         "function": {"name": "execute_bash", "arguments":
                                                      json.dumps({"command": command})}}]})
        messages.append({"role": "tool", "tool_call_id": f"toolu_{n}", "name": "execute_bash",
                         "content": [{"type": "text", "text": output}]})
    finish = {"role": "assistant", "content": "Done.", "tool_calls": [
        {"index": 1, "id": "toolu_f", "type": "function",
         "function": {"name": "finish", "arguments": "{}"}}]}
    return {"messages": messages,
            "response": {"id": "chatcmpl-1", "created": 1733339462, "model": "m",
                         "object": "chat.completion",
                         "choices": [{"finish_reason": "tool_calls", "index": 0,
                                      "message": finish}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 2}},
            "args": [], "kwargs": {}, "timestamp": 1733339462.43, "cost": 0.5}


FOOTER = ("[Python Interpreter: /opt/miniconda3/envs/testbed/bin/python]\n"
          "root@openhands-workspace:/workspace/repo # \n[Command finished with exit code {}]")


def test_test_counts_through_the_bash_footer(tmp_path: Path) -> None:
    pytest_cmd = "cd /workspace/repo && python -m pytest tests/test_x.py -q"
    runtests = "python tests/runtests.py queries"
    doc = _chat_log([
        (pytest_cmd, pytest_cmd + "\r\n..F.\r\n=========== 1 failed, 3 passed in 0.12s ==========="
         + FOOTER.format(1)),
        (runtests, runtests + "\r\n....\r\n------------------------------------------------------"
         "----------------\r\nRan 4 tests in 0.010s\r\n\r\nOK" + FOOTER.format(0))])
    path = tmp_path / "m-1733339462.43.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    trace = _trace(path)
    first, second = [s for s in trace.steps if s.kind == "test"]
    assert (first.output["passed"], first.output["failed"], first.output["exit_code"]) == (3, 1, 1)
    assert first.output["stdout"].startswith("..F.\n") and first.meta["cwd"] == "/workspace/repo"
    assert (second.output["passed"], second.output["failed"]) == (4, 0)
    assert trace.header.task.description == "Fix it"
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.end.outcome == {"api_calls": 3}  # two of three calls have no cost: no total


@pytest.mark.parametrize(("text", "expected"), [
    ("ls\r\na\r\nb" + FOOTER.format(2), ("a\nb", 2, False, "/workspace/repo")),
    ("ls\r\n" + FOOTER.format(0), ("", 0, False, "/workspace/repo")),
    ("sleep 200\r\nCommand timed out. Sending SIGINT to the process", (
        "Command timed out. Sending SIGINT to the process", None, True, None)),
    ("out\n[The command completed with exit code 3.]\n[Current working directory: /w]\n"
     "[Python interpreter: /p]\n[Command finished with exit code 3]", ("out", 3, False, "/w")),
    ("partial\n[Command finished with exit code -1]", ("partial", None, False, None)),
])
def test_bash_footers(text: str, expected: tuple[Any, ...]) -> None:
    command = text.split("\r\n", 1)[0] if "\r\n" in text else "other"
    assert split_bash_output(text, command) == expected


@needs_corpus
def test_single_file_is_the_same_run_without_the_inference_log() -> None:
    run = DEV / SOURCE / "astropy__astropy-12907"
    alone = _trace(_log_file(run))
    folder = _trace(run)
    key = [(s.kind, s.name, json.dumps(s.input, sort_keys=True)) for s in _actions(alone)]
    assert key == [(s.kind, s.name, json.dumps({k: v for k, v in s.input.items()
                                                if k != "patch"}, sort_keys=True))
                   for s in _actions(folder)]
    assert alone.header.task.id == run.name and alone.header.agent.version is None
    assert all(s.started_at is None for s in alone.steps)
    assert alone.end is not None and alone.end.status == "completed"
    assert alone.end.ended_at == _raw(run)["timestamp"]


@needs_corpus
def test_the_verdict_is_neither_read_nor_walked(tmp_path: Path) -> None:
    run = DEV / SOURCE / "django__django-11179"
    copy = tmp_path / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(VERDICT))
    assert not (copy / VERDICT).exists()
    assert _trace(copy).steps == _trace(run).steps
    assert _trace(copy).end == _trace(run).end
    walked = [p for p, _ in iter_trace_inputs([DEV / SOURCE])]
    assert not any(VERDICT in p.parts for p in walked)
    assert sum(p.parent == DEV / SOURCE and p.is_dir() for p in walked) == 50


@needs_corpus
def test_evaluation_output_layout_gives_the_same_run(tmp_path: Path) -> None:
    """Upstream keeps ``llm_completions/<instance>/`` and ``infer_logs/`` side by side."""
    run = DEV / SOURCE / "astropy__astropy-13236"
    output = tmp_path / "output"
    shutil.copytree(run / "llm_completions", output / "llm_completions" / run.name)
    shutil.copytree(run / "infer_logs", output / "infer_logs")
    (inner,) = [p for p, skip in iter_trace_inputs([output]) if p.is_dir()]
    assert inner == output / "llm_completions" / run.name
    assert _trace(inner).steps == _trace(run).steps


def _snapshots(doc: dict[str, Any], folder: Path) -> int:
    """Write the per-call logs that came before ``doc`` (as OpenHands does without a
    condenser): call k's prompt is the history up to its answer. Returns the call count."""
    history = doc["messages"]
    turns = [n for n, m in enumerate(history) if m["role"] == "assistant"]
    for k, at in enumerate(turns):
        snapshot = {"messages": history[:at], "response": {
            "model": "m", "choices": [{"index": 0, "message": history[at]}],
            "usage": {"prompt_tokens": 100 + k, "completion_tokens": k}},
            "args": [], "kwargs": {}, "timestamp": 1733339000.0 + k, "cost": 0.25}
        (folder / f"m-{1733339000 + k}.0.json").write_text(json.dumps(snapshot))
    return len(turns) + 1


@needs_corpus
def test_earlier_call_logs_give_every_call_its_usage_and_the_total_cost(tmp_path: Path) -> None:
    run = DEV / SOURCE / "astropy__astropy-12907"
    copy = tmp_path / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(VERDICT))
    doc = _raw(run)
    calls = _snapshots(doc, copy / "llm_completions")
    # a retried attempt's log: same prompt, another answer; it must not count
    retry = json.loads(next((copy / "llm_completions").glob("m-1733339000.0.json")).read_text())
    retry["response"]["choices"][0]["message"] = {"role": "assistant", "content": "other"}
    (copy / "llm_completions" / "m-1.0.json").write_text(json.dumps(retry))
    trace = _trace(copy)
    usages = [s.meta["usage"] for s in trace.steps if "usage" in s.meta]
    assert len(usages) == calls
    assert [u["input_tokens"] for u in usages[:-1]] == [100 + k for k in range(calls - 1)]
    assert trace.end is not None
    assert trace.end.outcome["cost_usd"] == round(0.25 * (calls - 1) + doc["cost"], 6)
    assert trace.header.meta["calls_with_usage"] == calls


@needs_corpus
def test_records_it_does_not_map_are_counted_in_warnings(tmp_path: Path) -> None:
    doc = _raw(DEV / SOURCE / "astropy__astropy-12907")
    doc["messages"][3]["content"].append({"type": "image_url", "image_url": {"url": "data:"}})
    doc["messages"].insert(4, {"role": "tool", "tool_call_id": "nobody", "content": "x"})
    doc["messages"].insert(4, {"role": "function", "content": "x"})
    doc["messages"].insert(4, {"role": "function", "content": "y"})
    path = tmp_path / "llm_completions" / _log_file(DEV / SOURCE / "astropy__astropy-12907").name
    path.parent.mkdir()
    path.write_text(json.dumps(doc))
    trace = _trace(path)
    assert sorted(w.split(": ", 1)[1] for w in trace.warnings) == [
        "skipped 1 message content parts of type image_url",
        "skipped 1 tool results without a call", "skipped 2 messages of role function"]
    assert len(_actions(trace)) == len(_raw_calls(_raw(DEV / SOURCE / "astropy__astropy-12907")))


@needs_corpus
def test_agent_commands_in_the_inference_log_fill_a_missing_exit_code(tmp_path: Path) -> None:
    run = DEV / SOURCE / "astropy__astropy-12907"
    copy = tmp_path / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(VERDICT))
    log_path = _log_file(copy)
    doc = json.loads(log_path.read_text())
    tool = doc["messages"][3]
    tool["content"][0]["text"] = EXIT.sub("", tool["content"][0]["text"])
    log_path.write_text(json.dumps(doc))
    (infer,) = (copy / "infer_logs").glob("*.log")
    lines = infer.read_text().splitlines(keepends=True)
    step = next(n for n, line in enumerate(lines) if "LOCAL STEP 0 " in line)
    stamp = lines[step][:23]
    lines[step + 1:step + 1] = [
        f"{stamp} - INFO - **CmdRunAction (source=EventSource.AGENT)**\nCOMMAND:\n"
        f"ls -R /workspace/astropy__astropy__4.3\n",
        f"{stamp} - INFO - **CmdOutputObservation (source=EventSource.AGENT, exit code=7)**\n"]
    infer.write_text("".join(lines))
    first = _actions(_trace(copy))[0]
    assert first.input["command"] == "ls -R /workspace/astropy__astropy__4.3"
    assert first.output["exit_code"] == 7


def _one_line_error(path: Path) -> str:
    with pytest.raises(TraceLoadError) as info:
        import_path(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


@needs_corpus
def test_malformed_logs_give_one_line_errors(tmp_path: Path) -> None:
    run = DEV / SOURCE / "astropy__astropy-12907"
    text = _log_file(run).read_text()
    cut = tmp_path / "run" / "llm_completions" / _log_file(run).name
    cut.parent.mkdir(parents=True)
    cut.write_text(text[: len(text) // 2])
    assert "openhands-completions: not a valid" in _one_line_error(cut)
    assert "openhands-completions: not a valid" in _one_line_error(tmp_path / "run")
    shaped = tmp_path / "m-1733339462.5.json"
    shaped.write_text(json.dumps({"messages": [], "response": {"choices": []},
                                  "timestamp": 1.0, "cost": 0.0}))
    assert "'response' has no choices" in _one_line_error(shaped)
    empty = tmp_path / "empty"
    (empty / "llm_completions").mkdir(parents=True)
    assert "no completion log" in _one_line_error(empty)
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(cut)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_plain_chat_file_is_not_taken_for_a_completion_log(tmp_path: Path) -> None:
    chat = tmp_path / "notes.json"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    assert "unknown format" in _one_line_error(chat)


@needs_corpus
def test_validate_prints_each_run_folder_as_one_trace() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate",
                             str(DEV / SOURCE)], capture_output=True, text=True, timeout=600)
    ok = [line for line in result.stdout.splitlines() if ": ok: " in line]
    assert len(ok) == 50
    assert all(line.endswith("format openhands-completions") for line in ok)
    assert f"{DEV / SOURCE / 'astropy__astropy-12907'}: ok: 19 steps, completed, " \
           f"format openhands-completions" in ok
    assert VERDICT not in result.stderr and "Traceback" not in result.stderr


SMALLEST = min((_log_file(run) for run in RUNS), key=lambda p: p.stat().st_size) \
    if RUNS else None


@needs_corpus
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_logs_import_or_fail_in_one_line(data: st.DataObject, tmp_path: Path) -> None:
    assert SMALLEST is not None
    out = tmp_path / "llm_completions" / SMALLEST.name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(_mutate(json.loads(SMALLEST.read_text()), data)))
    _check(out)
