"""mini-swe-agent 2.x (``mini-swe-agent-1.1``, tool calls) and the pre-1.0 message list, read
from the development corpus in place.

Each run is checked against a tiny reader of the raw JSON written here, independent of the
importer: the tool calls it makes, the format errors it was told about, the exit codes of the
``tool`` messages, the submission and the cost. The mini-swe-agent-1 runs of tests/data/real
are covered by tests/test_importers.py.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import Trace
from pytest_tracebench.importers import import_path, iter_trace_inputs
from pytest_tracebench.importers.mini_swe_agent import end_status, script_effect
from tests._corpus import DEV, NATIVE_SHARED, needs_corpus, runs

DEEPSEEK = "minisweagent-2.2.7-deepseekchat-swebench-lite"
LIVE = "live-swe-agent-gpt5mini-swebv-subset"
SOURCES = (DEEPSEEK, LIVE)
PRE_1_0 = NATIVE_SHARED / "mini_swe_agent" / "mini-swe-agent__local.traj.json"


def _trajectory(run: Path) -> Path:
    return run / f"{run.name}.traj.json"


def _raw(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_trajectory(run).read_text(encoding="utf-8"))
    return data


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    """What the raw file says, read without the importer."""
    messages = data["messages"]
    calls = [call for m in messages if m["role"] == "assistant"
             for call in m.get("tool_calls") or []]
    returncodes = {m["tool_call_id"]: m["extra"]["returncode"] for m in messages
                   if m["role"] == "tool"}
    format_errors = [m for m in messages
                     if (m.get("extra") or {}).get("interrupt_type") == "FormatError"]
    return {"calls": calls, "returncodes": returncodes, "format_errors": format_errors}


def _actions(trace: Trace) -> list[Any]:
    return [s for s in trace.steps if s.kind not in ("message", "llm", "error")]


def _index(source: str) -> dict[str, dict[str, str]]:
    with open(DEV / source / "index.csv", newline="", encoding="utf-8") as fh:
        return {row["run_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def imported() -> dict[str, list[tuple[Path, dict[str, Any], Trace]]]:
    out: dict[str, list[tuple[Path, dict[str, Any], Trace]]] = {}
    for source in SOURCES:
        rows = []
        for run in runs(source):
            (trace,) = import_path(_trajectory(run))
            rows.append((run, _raw(run), trace))
        out[source] = rows
    return out


@needs_corpus
@pytest.mark.parametrize("source,count", [(DEEPSEEK, 60), (LIVE, 33)])
def test_every_run_imports_with_one_step_per_tool_call(imported: Any, source: str,
                                                       count: int) -> None:
    rows = imported[source]
    index = _index(source)
    assert len(rows) == count == len(index)
    for run, data, trace in rows:
        facts = _facts(data)
        assert len(data["messages"]) == int(index[run.name]["n_messages"])
        assert data["trajectory_format"] == "mini-swe-agent-1.1"
        assert trace.header.source.format == "mini-swe-agent"
        assert trace.header.meta["trajectory_format"] == "mini-swe-agent-1.1"
        assert trace.header.task.id == run.name
        non_message = [s for s in trace.steps if s.kind not in ("message", "llm")]
        assert len(non_message) == len(facts["calls"]) + len(facts["format_errors"]), run.name
        assert len(_actions(trace)) == len(facts["calls"])
        assert not trace.warnings


@needs_corpus
@pytest.mark.parametrize("source", SOURCES)
def test_exit_codes_come_from_the_tool_messages(imported: Any, source: str) -> None:
    checked = 0
    for _run, data, trace in imported[source]:
        codes = _facts(data)["returncodes"]
        for step in _actions(trace):
            if step.kind == "submit":
                continue  # answered by the exit message, not by a tool message
            call_id = step.meta["tool_call_id"]
            assert step.output["exit_code"] == codes[call_id]
            checked += 1
    assert checked == sum(len(_facts(d)["returncodes"]) for _r, d, _t in imported[source])


@needs_corpus
@pytest.mark.parametrize("source", SOURCES)
def test_submit_carries_the_patch_and_the_end_the_cost(imported: Any, source: str) -> None:
    for run, data, trace in imported[source]:
        info = data["info"]
        submits = [s for s in trace.steps if s.kind == "submit"]
        assert len(submits) == 1 and submits[0] is _actions(trace)[-1], run.name
        assert submits[0].input["patch"] == info["submission"]
        assert "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT" in submits[0].input["command"]
        assert trace.end is not None and trace.end.status == "completed"
        outcome = trace.end.outcome
        assert outcome["exit_status"] == info["exit_status"] == "Submitted"
        assert outcome["cost_usd"] == info["model_stats"]["instance_cost"] > 0
        assert outcome["api_calls"] == info["model_stats"]["api_calls"]
        # Every model call is a reply with tool calls or a rejected one.
        replies = sum(1 for m in data["messages"] if m["role"] == "assistant")
        assert outcome["api_calls"] == replies + outcome["format_errors"]


@needs_corpus
@pytest.mark.parametrize("source", SOURCES)
def test_format_errors_are_error_steps_not_user_messages(imported: Any, source: str) -> None:
    total = 0
    for _run, data, trace in imported[source]:
        errors = [s for s in trace.steps if s.kind == "error"]
        expected = [m["content"].strip() for m in _facts(data)["format_errors"]]
        assert [s.error for s in errors] == expected
        assert all(s.name == "format_error" for s in errors)
        assert trace.end is not None and trace.end.outcome["format_errors"] == len(errors)
        users = [s for s in trace.steps if s.kind == "message"
                 and (s.input or {}).get("role") == "user"]
        assert not users
        total += len(errors)
    # Counted from the raw files: gpt-5-mini often answers without a tool call.
    assert total == {DEEPSEEK: 1, LIVE: 790}[source]


@needs_corpus
def test_usage_is_kept_on_the_step_of_the_reply() -> None:
    (trace,) = import_path(_trajectory(DEV / LIVE / "astropy__astropy-13033"))
    first = trace.steps[0]  # gpt-5-mini's replies have no text: the command carries the usage
    assert first.kind == "read" and first.input["command"] == "ls -la"
    assert first.meta["usage"] == {"input_tokens": 2180, "output_tokens": 25}
    (deepseek,) = import_path(_trajectory(DEV / DEEPSEEK / "astropy__astropy-12907"))
    message = deepseek.steps[0]
    assert message.kind == "message" and message.meta["usage"]["input_tokens"] == 1714


@needs_corpus
def test_live_swe_agent_runs_its_own_patch_script_as_an_edit() -> None:
    (trace,) = import_path(_trajectory(DEV / LIVE / "astropy__astropy-13033"))
    assert len(trace.steps) == 17  # 31 messages: 12 tool calls and 5 format errors
    edit = next(s for s in trace.steps if s.meta.get("created_script") == "/tmp/modify_core.py")
    assert edit.kind == "edit" and edit.input["path"] == "astropy/timeseries/core.py"
    assert {"path": "astropy/timeseries/core.py", "op": "modify"} in edit.meta["edits"]
    # A script that only prints a file it opens is a read of that file.
    (read_only,) = import_path(_trajectory(DEV / DEEPSEEK / "django__django-11133"))
    runs_of = [s for s in read_only.steps if s.input and s.input.get("command") ==
               "python edit_response.py"]
    assert runs_of and all(s.kind == "read" and s.input["path"] == "django/http/response.py"
                           for s in runs_of)


@needs_corpus
def test_a_command_that_timed_out_keeps_its_exception() -> None:
    (trace,) = import_path(_trajectory(DEV / DEEPSEEK / "astropy__astropy-12907"))
    (timed_out,) = [s for s in trace.steps if isinstance(s.output, dict)
                    and s.output.get("timed_out")]
    assert timed_out.input["command"] == "cd /testbed && pip install pyerfa numpy -q"
    assert timed_out.output["exit_code"] == -1
    assert timed_out.meta["exception_type"] == "TimeoutExpired"
    assert timed_out.error is not None and "timed out after 60 seconds" in timed_out.error


@needs_corpus
def test_run_folders_validate_with_companions_named(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_tracebench.cli import main

    run = DEV / LIVE / "astropy__astropy-13033"
    assert main(["validate", str(run)]) == 0
    out, err = capsys.readouterr()
    assert f"{_trajectory(run)}: ok: 17 steps, completed, format mini-swe-agent" in out
    for name in ("report.json", "patch.diff", "eval.sh", "test_output.txt", "run_instance.log"):
        assert f"{run / name}: skipped: " in err
    walked = [p for p, skip in iter_trace_inputs([run]) if skip is None]
    assert walked == [_trajectory(run)]


def test_the_pre_1_0_message_list_imports() -> None:
    if not PRE_1_0.is_file():
        pytest.skip(f"the native samples are not at {PRE_1_0.parent}")
    (trace,) = import_path(PRE_1_0)
    assert trace.header.source.format == "mini-swe-agent"
    assert trace.header.meta["trajectory_format"] == "pre-1.0"
    assert [(s.kind, s.input.get("command") if s.kind != "message" else s.output["text"])
            for s in trace.steps] == [
        ("message", "Here be some dummy command:"),
        ("command", "echo 'hello world'"),
        ("message", "OK, now let me end this run."),
        ("submit", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
    ]
    assert trace.steps[1].output == {"exit_code": 0, "stdout": "hello world\n",
                                     "timed_out": False}
    assert trace.steps[3].input["patch"] == ""  # what the run submitted: an empty output
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.header.task.description and \
        trace.header.task.description.startswith("Please solve this issue: Blah blah blah")


def test_exit_statuses_map_to_end_statuses() -> None:
    assert end_status("Submitted", True) == "completed"
    assert end_status("LimitsExceeded", False) == "timeout"
    assert end_status("TimeoutError", False) == "timeout"
    assert end_status("RuntimeError", False) == "error"
    assert end_status("ContextWindowExceededError", False) == "error"
    assert end_status("UserInterruption", False) == "aborted"
    assert end_status("", True) == "completed"
    assert end_status("", False) is None  # saved after a step, never finished


def test_messages_not_understood_are_counted_in_a_warning(tmp_path: Path) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "<pr_description>fix it</pr_description>"},
        {"role": "assistant", "content": "Look first.", "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}],
         "extra": {"actions": [{"command": "ls", "tool_call_id": "c1"}]}},
        {"role": "tool", "tool_call_id": "c1", "content": "<returncode>0</returncode>\n"
         "<output>\na.py\n</output>", "extra": {"returncode": 0, "raw_output": "a.py\n"}},
        {"type": "reasoning", "summary": []},
        {"type": "reasoning", "summary": []},
        {"role": "exit", "content": "", "extra": {"exit_status": "LimitsExceeded",
                                                   "submission": ""}},
    ]
    path = tmp_path / "run.traj.json"
    path.write_text(json.dumps({"info": {"mini_version": "2.1.0"}, "messages": messages,
                                "trajectory_format": "mini-swe-agent-1.1"}))
    (trace,) = import_path(path)
    assert [s.kind for s in trace.steps] == ["message", "read"]
    assert trace.steps[1].output["exit_code"] == 0
    assert trace.warnings == [f"{path}: skipped 2 messages of type 'reasoning'"]
    assert trace.end is not None and trace.end.status == "timeout"
    assert trace.end.outcome["exit_status"] == "LimitsExceeded"


def test_script_effect_reads_what_a_python_script_writes() -> None:
    body = "from pathlib import Path\np = Path('src/a.py')\ns = p.read_text()\n" \
           "p.write_text(s.replace('x', 'y'))\nopen('/tmp/log.txt', 'w').write(s)\n"
    assert script_effect(body) == (["src/a.py"], [])
    assert script_effect("print(open('src/b.py').read())") == ([], ["src/b.py"])
    tool = "import sys\npath = sys.argv[1]\ntext = open(path).read()\n" \
           "open(path, 'w').write(text.replace(sys.argv[2], sys.argv[3]))\n"
    assert script_effect(tool, " src/c.py old new") == (["src/c.py"], [])
    assert script_effect("import sys\nsys.stdout.write('hi')\n") == ([], [])


@needs_corpus
def test_the_step_kinds_of_each_source(imported: Any) -> None:
    """What each agent did, as step kinds."""
    counts = {}
    for source in SOURCES:
        kinds: Counter[str] = Counter()
        for _run, _data, trace in imported[source]:
            kinds.update(s.kind for s in trace.steps)
        counts[source] = kinds
    assert counts[LIVE]["submit"] == 33 and counts[DEEPSEEK]["submit"] == 60
    assert counts[LIVE]["edit"] > counts[LIVE]["test"] > 0
    assert counts[DEEPSEEK]["read"] > counts[DEEPSEEK]["edit"] > 0
