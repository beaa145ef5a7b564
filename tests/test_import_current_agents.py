"""What current agents write, read faithfully (issue 16): Codex CLI 0.40 rollouts and
``codex exec --json`` streams, OpenHands V1 evaluation rows, the SDK's ``events.jsonl`` and the
resolver's rows, and the OpenTelemetry Python SDK's console exporter output.

Each real sample (``../shared/data/native``, read in place) is checked against a small reader of
the raw file written here, independent of the importer: how many actions it records, the
command each ran, the exit code it reports. Before these fixes the Codex rollouts kept the
``bash -lc`` wrapper and no exit code and were reported aborted; the exec stream and the SDK
stream were an unknown format; the V1 rows crashed (``unhashable type: 'dict'``); the console
exporter output failed with ``JSONDecodeError: Extra data``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import Trace
from pytest_tracebench.importers import import_path
from pytest_tracebench.parsers import classify_command
from tests._corpus import NATIVE_SHARED

CODEX = NATIVE_SHARED / "codex_cli"
ROLLOUT_BASH = CODEX / ("agentcmd__rollout-2025-09-25T09-49-46-"
                        "01998190-fba6-7f40-9309-dc4e48c5844a.jsonl")
ROLLOUT_ZSH = CODEX / ("agentcmd__rollout-2025-09-25T08-02-05-"
                       "0199812e-64f0-7f73-91fc-095dda01c36e.jsonl")
EXEC_STREAM = CODEX / "agentcmd__exec-json__stream-output-4.jsonl"
OPENHANDS = NATIVE_SHARED / "openhands"
V1_OUTPUT = OPENHANDS / "benchmarks__openagentsafety_v1_output.jsonl"
SDK_EVENTS = OPENHANDS / "software-agent-sdk__goal_fixture_events.jsonl"
CONSOLE_SPANS = Path(__file__).parent / "data" / "otel_console" / "console_spans.txt"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"the native samples are not at {path.parent}")


def _actions(trace: Trace) -> list[Any]:
    return [s for s in trace.steps if s.kind not in ("message", "llm", "error")]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)


# -- Codex CLI 0.40 rollouts -------------------------------------------------------------------

def _rollout_calls(path: Path) -> list[dict[str, Any]]:
    """Each function call of the raw rollout with what its output says, read without the
    importer: the argv, and the exit code in the output's metadata (None when the output is
    the plain text of a command Codex could not run)."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    payloads = [r["payload"] for r in records if r["type"] == "response_item"]
    outputs = {p["call_id"]: p["output"] for p in payloads
               if p["type"] == "function_call_output"}
    calls = []
    for p in payloads:
        if p["type"] != "function_call":
            continue
        args = json.loads(p["arguments"])
        raw = outputs[p["call_id"]]
        try:
            code = json.loads(raw)["metadata"]["exit_code"]
        except ValueError:
            code = None
        calls.append({"name": p["name"], "argv": args.get("command"), "code": code,
                      "raw": raw})
    return calls


@pytest.mark.parametrize("path", [ROLLOUT_BASH, ROLLOUT_ZSH], ids=["bash", "zsh"])
def test_codex_040_rollout_steps_are_the_inner_commands(path: Path) -> None:
    _need(path)
    calls = _rollout_calls(path)
    (trace,) = import_path(path)
    actions = _actions(trace)
    assert len(actions) == len(calls)  # one step per function call
    shells = [(c, s) for c, s in zip(calls, actions, strict=True) if c["name"] == "shell"]
    assert shells and all(c["argv"][0] in ("bash", "zsh") and c["argv"][1] == "-lc"
                          for c, _ in shells)
    for call, step in shells:
        assert step.input["command"] == call["argv"][2]  # the inner command, quoting kept
        assert step.meta["shell"] == f"{call['argv'][0]} -lc"
        assert step.kind == classify_command(call["argv"][2]).kind
        if call["code"] is not None:
            assert step.output["exit_code"] == call["code"]
            assert step.error is None
        else:  # Codex could not run it: the sandbox refused, the program was missing
            assert step.error and step.error.startswith(call["raw"][:40])
    # sed -n, rg, cat, ls, nl, find, which: every shell call here reads
    assert Counter(s.kind for _, s in shells) == {"read": len(shells)}
    assert not [s for s in actions if s.kind == "command"]


def test_codex_040_rollout_counts_match_the_raw_file() -> None:
    _need(ROLLOUT_BASH)
    calls = _rollout_calls(ROLLOUT_BASH)
    programs = Counter(c["argv"][2].split()[0] for c in calls if c["name"] == "shell")
    assert programs == {"sed": 49, "rg": 14, "ls": 9, "nl": 5, "cat": 4}  # README: 81 calls
    (trace,) = import_path(ROLLOUT_BASH)
    shells = [s for s in trace.steps if s.name == "shell"]
    assert Counter(s.input["command"].split()[0] for s in shells) == programs
    assert Counter(s.output["exit_code"] for s in shells) == {0: 77, 1: 3, None: 1}
    sed = next(s for s in shells if s.input["command"].startswith("sed -n"))
    assert sed.kind == "read" and sed.input["path"]
    assert [s.name for s in trace.steps if s.kind == "tool"] == ["update_plan"] * 3


def test_codex_sandbox_refusal_keeps_the_exit_code_it_names() -> None:
    _need(ROLLOUT_ZSH)
    refused = [c for c in _rollout_calls(ROLLOUT_ZSH) if c["code"] is None]
    assert len(refused) == 12 and all(c["raw"].startswith("failed in sandbox") for c in refused)
    (trace,) = import_path(ROLLOUT_ZSH)
    failed = [s for s in _actions(trace) if s.error]
    assert len(failed) == 12
    assert Counter(s.output["exit_code"] for s in failed) == {1: 11, 2: 1}
    # a Next.js route folder is a path: sed -n '1,200p' 'src/app/(protected)/.../page.tsx'
    routed = [s for s in trace.steps if s.kind == "read" and "(protected)" in
              s.input["command"] and s.input["command"].startswith("sed")]
    assert routed and all("(protected)" in s.input["path"] for s in routed)


@pytest.mark.parametrize("path", [ROLLOUT_BASH, ROLLOUT_ZSH], ids=["bash", "zsh"])
def test_a_040_rollout_that_ends_on_its_answer_is_not_aborted(path: Path) -> None:
    _need(path)
    text = path.read_text(encoding="utf-8")
    assert '"task_complete"' not in text  # 0.40 writes none
    (trace,) = import_path(path)
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.steps[-1].kind == "message" and trace.steps[-1].input["role"] == "assistant"
    # the IDE extension's open tabs are context, not the task
    assert trace.header.task.description and "Open tabs" not in trace.header.task.description
    assert "Open tabs" in trace.header.meta["ide_context"]


def test_a_rollout_cut_off_mid_turn_has_no_end(tmp_path: Path) -> None:
    _need(ROLLOUT_BASH)
    lines = ROLLOUT_BASH.read_text(encoding="utf-8").splitlines()
    last_call = max(i for i, line in enumerate(lines) if '"type":"function_call"' in
                    line.replace(" ", ""))
    cut = tmp_path / "rollout-cut.jsonl"
    cut.write_text("\n".join(lines[:last_call + 1]) + "\n", encoding="utf-8")
    (trace,) = import_path(cut)
    assert trace.end is None  # the call was never answered: aborted_run
    assert trace.steps[-1].meta.get("unanswered") is True
    interrupted = tmp_path / "rollout-interrupted.jsonl"
    interrupted.write_text("\n".join([*lines, json.dumps(
        {"timestamp": "2025-09-25T16:00:00Z", "type": "event_msg",
         "payload": {"type": "turn_aborted", "reason": "interrupted"}})]) + "\n",
        encoding="utf-8")
    (trace,) = import_path(interrupted)
    assert trace.end is None


def test_codex_rollout_validates_completed_on_the_command_line() -> None:
    _need(ROLLOUT_BASH)
    run = _validate(ROLLOUT_BASH)
    assert run.returncode == 0, run.stderr
    assert "ok: 171 steps, completed, format codex" in run.stdout


# -- codex exec --json ---------------------------------------------------------------------------

def test_codex_exec_json_stream_is_read() -> None:
    _need(EXEC_STREAM)
    events = [json.loads(line) for line in EXEC_STREAM.read_text(encoding="utf-8").splitlines()]
    completed = [e["item"] for e in events if e["type"] == "item.completed"]
    commands = [i for i in completed if i["type"] == "command_execution"]
    (trace,) = import_path(EXEC_STREAM)
    assert trace.header.source.format == "codex-exec"
    assert trace.header.task.id == events[0]["thread_id"]
    actions = _actions(trace)
    assert len(actions) == len(commands) == 1
    (step,) = actions
    assert step.kind == "read" and step.input == {"command": "cat test.js", "path": "test.js"}
    assert step.meta["shell"] == "bash -lc"
    assert step.output["exit_code"] == commands[0]["exit_code"] == 0
    assert step.output["stdout"] == commands[0]["aggregated_output"]
    assert [s.input["role"] for s in trace.steps if s.kind == "message"] == \
        ["reasoning", "reasoning", "assistant"]
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.header.meta["usage"]["output_tokens"] == 204
    run = _validate(EXEC_STREAM)
    assert run.returncode == 0 and "format codex-exec" in run.stdout, run.stdout + run.stderr


def _stream(tmp_path: Path, lines: list[Any]) -> Trace:
    path = tmp_path / "codex.txt"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line)
                              for line in lines) + "\n", encoding="utf-8")
    (trace,) = import_path(path)
    return trace


def test_codex_exec_items_and_endings(tmp_path: Path) -> None:
    start = [{"type": "thread.started", "thread_id": "t-1"}, {"type": "turn.started"}]
    edit = {"type": "item.completed", "item": {
        "id": "item_0", "type": "file_change", "status": "completed",
        "changes": [{"path": "src/app.py", "kind": "update"}, {"path": "new.py", "kind": "add"}]}}
    test = {"type": "item.completed", "item": {
        "id": "item_1", "type": "command_execution", "command": "bash -lc 'pytest -q'",
        "aggregated_output": "1 failed, 2 passed in 0.1s\n", "exit_code": 1,
        "status": "failed"}}
    running = {"type": "item.started", "item": {
        "id": "item_2", "type": "command_execution", "command": "bash -lc 'sleep 100'",
        "aggregated_output": "", "exit_code": None, "status": "in_progress"}}
    trace = _stream(tmp_path, [*start, "Reading prompt from stdin...", edit, test,
                               {"type": "item.completed", "item": {"id": "x", "type": "novel"}},
                               {"type": "turn.completed", "usage": {"output_tokens": 3}}])
    assert [(s.kind, s.input.get("path"), s.input.get("op")) for s in _actions(trace)] == [
        ("edit", "src/app.py", "modify"), ("edit", "new.py", "create"), ("test", None, None)]
    assert trace.steps[-1].output["failed"] == 1 and trace.steps[-1].output["passed"] == 2
    assert trace.steps[-1].input["command"] == "pytest -q"
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.warnings == [f"{tmp_path / 'codex.txt'}: skipped 1 item novel, 1 non-JSON line"]
    cut = _stream(tmp_path, [*start, test, running])
    assert cut.end is None and cut.steps[-1].meta.get("unanswered") is True
    failed = _stream(tmp_path, [*start, test, {"type": "turn.failed",
                                               "error": {"message": "stream error"}}])
    assert failed.end is not None and failed.end.status == "error"
    assert [s.error for s in failed.steps if s.kind == "error"] == ["stream error"]


# -- OpenHands V1 evaluation output, SDK events.jsonl, resolver ------------------------------------

def _v1_facts(history: list[dict[str, Any]]) -> dict[str, Any]:
    actions = [e for e in history if e.get("kind") == "ActionEvent"]
    observations = {e["tool_call_id"]: e["observation"] for e in history
                    if e.get("kind") == "ObservationEvent"}
    codes = []
    for action in actions:
        observation = observations.get(action["tool_call_id"], {})
        code = observation.get("exit_code")
        if code is None:
            code = (observation.get("metadata") or {}).get("exit_code")
        codes.append(None if code in (None, -1) else code)
    return {"actions": actions, "codes": codes,
            "orphans": [k for k in observations
                        if k not in {a["tool_call_id"] for a in actions}]}


def test_openhands_v1_output_jsonl_is_read_faithfully() -> None:
    _need(V1_OUTPUT)
    rows = [json.loads(line) for line in V1_OUTPUT.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    traces = import_path(V1_OUTPUT)  # the V0 path crashed: unhashable type: 'dict'
    assert [t.header.task.id for t in traces] == [r["instance_id"] for r in rows]
    for row, trace in zip(rows, traces, strict=True):
        facts = _v1_facts(row["history"])
        actions = _actions(trace)
        assert len(actions) == len(facts["actions"])
        for event, code, step in zip(facts["actions"], facts["codes"], actions, strict=True):
            if event["action"]["kind"] == "FinishAction":
                assert step.kind == "submit"
                continue
            assert step.input["command"] == event["action"]["command"]
            assert step.output["exit_code"] == code
            assert step.output["stdout"]  # ExecuteBashObservation's `output`
        assert trace.header.agent.model == "litellm_proxy/neulab/gpt-4o-2024-08-06"
        assert trace.end is not None and trace.end.status == "completed"
        assert "final_score" not in json.dumps(trace.end.outcome)  # the verdict is not read
    first, second = traces
    assert Counter(s.kind for s in _actions(first)) == {"command": 8, "submit": 1}
    assert [s.output["exit_code"] for s in _actions(first)[:5]] == [0, 0, 0, 0, 127]
    assert Counter(s.output["exit_code"] for s in _actions(second)) == {0: 1, 1: 8}


def test_openhands_sdk_events_jsonl_is_read() -> None:
    _need(SDK_EVENTS)
    events = [json.loads(line) for line in SDK_EVENTS.read_text(encoding="utf-8").splitlines()
              if line.strip()]
    facts = _v1_facts(events)
    (trace,) = import_path(SDK_EVENTS)
    actions = _actions(trace)
    assert len(actions) == len(facts["actions"]) == 2
    assert [s.input["command"] for s in actions] == \
        [e["action"]["command"] for e in facts["actions"]]
    assert [s.output["exit_code"] for s in actions] == facts["codes"] == [None, 1]
    assert actions[0].error and actions[0].error.startswith("Cannot execute multiple commands")
    assert len(facts["orphans"]) == 1  # its action is not in the fixture
    assert trace.warnings == [f"{SDK_EVENTS}: 1 observation(s) without their action in the "
                              "file; not made steps"]
    assert trace.header.agent.model == "litellm_proxy/minimax-m2.7"
    assert trace.end is None  # execution_status stays `running`: the stream stops mid-run
    run = _validate(SDK_EVENTS)
    assert run.returncode == 0 and "ok: 4 steps, aborted, format openhands" in run.stdout
    assert "1 observation(s) without their action" in run.stderr


def test_openhands_resolver_output_row(tmp_path: Path) -> None:
    history = [
        {"id": 1, "source": "user", "action": "message", "args": {"content": "Fix #7"}},
        {"id": 2, "source": "agent", "action": "run", "args": {"command": "pytest -q"}},
        {"id": 3, "source": "agent", "observation": "run", "cause": 2,
         "content": "2 passed in 0.1s", "extras": {"metadata": {"exit_code": 0}}},
        {"id": 4, "source": "agent", "action": "finish", "args": {"final_thought": "done"}},
    ]
    row = {"issue": {"owner": "acme", "repo": "app", "number": 7, "title": "t", "body": "b"},
           "issue_type": "issue", "instruction": "Please fix issue 7", "base_commit": "abc",
           "git_patch": "diff --git a/x b/x\n", "history": history, "metrics": None,
           "success": True, "comment_success": None, "result_explanation": "fixed",
           "error": None}
    path = tmp_path / "output.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (trace,) = import_path(path)
    assert trace.header.source.format == "openhands"
    assert trace.header.task.id == "acme/app#7"
    assert trace.header.task.description == "Please fix issue 7"
    assert [(s.kind, s.name) for s in _actions(trace)] == [("test", "pytest"),
                                                          ("submit", "finish")]
    assert trace.steps[1].output["passed"] == 2
    assert trace.end is not None and trace.end.outcome == {"submitted": True}
    assert "success" not in json.dumps(trace.end.outcome)  # the resolver's verdict


# -- OpenTelemetry Python SDK console exporter ------------------------------------------------

def test_console_span_exporter_output_loads() -> None:
    text = CONSOLE_SPANS.read_text(encoding="utf-8")
    spans = []
    decoder = json.JSONDecoder()
    position = 0
    while position < len(text):  # independent reader: one raw_decode per printed span
        span, position = decoder.raw_decode(text, position)
        spans.append(span)
        while position < len(text) and text[position].isspace():
            position += 1
    with pytest.raises(ValueError, match="Extra data"):
        json.loads(text)  # not one JSON value: what the importer failed on
    operations = Counter(s["attributes"].get("gen_ai.operation.name") for s in spans)
    assert operations == {"chat": 2, "execute_tool": 3, "invoke_agent": 1, None: 1}
    (trace,) = import_path(CONSOLE_SPANS)
    assert trace.header.source.format == "otel"
    assert [s.kind for s in trace.steps] == ["llm", "read", "test", "read", "llm"]
    assert len([s for s in trace.steps if s.kind != "llm"]) == operations["execute_tool"]
    assert trace.header.meta == {"spans": 7, "spans_not_actions": 2}
    assert trace.header.agent.name == "fixer"
    assert trace.steps[2].output["failed"] == 1
    assert trace.steps[3].error == "cat: missing.txt: No such file or directory"  # ERROR status
    assert trace.steps[0].output["usage"] == {"input_tokens": 120, "output_tokens": 14}
    assert all(s.started_at and s.ended_at and s.ended_at >= s.started_at for s in trace.steps)
    trace_id = spans[0]["context"]["trace_id"]
    assert trace.header.task.id.endswith(trace_id[2:18])  # hex, without the 0x
