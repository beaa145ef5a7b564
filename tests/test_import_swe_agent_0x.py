"""SWE-agent 0.x ``.traj`` imports, checked against 230 real runs of the development corpus.

Two sources: SWE-bench Lite with gpt-4-0125 (80 Python runs) and SWE-bench-java with five models
(150 runs; deepseek and doubao send prose as commands, many runs end on the cost limit). Every
expectation is counted from the raw JSON here, independently of the importer, so a change in the
importer cannot move both sides at once. The verdict files beside the runs are never read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench.detectors.view import same_path, view_of
from pytest_tracebench.importers import import_path
from pytest_tracebench.models import Step, Trace
from tests._corpus import needs_corpus, runs

LITE = "sweagent-0.x-gpt4-0125-swebench-lite"
JAVA = "sweagent-0.x-swebench-java-5models"
READS = {"open", "goto", "scroll_up", "scroll_down", "search_file", "search_dir", "find_file"}
DIFF_PATH = re.compile(r"^diff --git a/(\S+) b/", re.M)
# Files in a submitted patch that no action of the run wrote by name, and why.
PATCHED_BY_NO_ACTION = {
    "django__django-11910": "made by `python manage.py startapp app1`",
    "sphinx-doc__sphinx-10325": "tox.ini pinned by the benchmark's environment setup",
    "sphinx-doc__sphinx-10451": "tox.ini pinned by the benchmark's environment setup",
    "sphinx-doc__sphinx-7686": "setup.py and tox.ini pinned by the environment setup",
    "sphinx-doc__sphinx-8435": "setup.py and tox.ini pinned by the environment setup",
    "sphinx-doc__sphinx-8801": "setup.py and tox.ini pinned by the environment setup",
    "deepseek-chat-v2__fasterxml__jackson-databind-4189": "a jar downloaded by `wget`",
    "deepseek-coder-v2__fasterxml__jackson-core-1133": "rewritten by the agent's own script "
                                                        "(`python update_references.py`)",
}


def _trajectory_files(source: str) -> list[Path]:
    return [next(run.glob("*.traj")) for run in runs(source)]


@cache
def _load(path: Path) -> tuple[dict[str, Any], Trace]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    (trace,) = import_path(path)
    return raw, trace


def _all(source: str) -> list[tuple[Path, dict[str, Any], Trace]]:
    return [(path, *_load(path)) for path in _trajectory_files(source)]


def _actions(trace: Trace) -> list[Step]:
    return [s for s in trace.steps if s.kind != "message"]


def _stdout(step: Step) -> Any:
    return step.output.get("stdout") if isinstance(step.output, dict) else step.output


@needs_corpus
@pytest.mark.parametrize(("source", "count"), [(LITE, 80), (JAVA, 150)])
def test_every_run_imports_one_step_per_action_in_order(source: str, count: int) -> None:
    loaded = _all(source)
    assert len(loaded) == count
    for path, raw, trace in loaded:
        steps = _actions(trace)
        assert len(steps) == len(raw["trajectory"]), path
        for step, entry in zip(steps, raw["trajectory"], strict=True):
            assert step.input["command"] == entry["action"].strip(), (path, step.index)
            observation = entry["observation"]
            assert _stdout(step) in (observation, observation or None), (path, step.index)
        assert trace.header.task.id == path.stem
        assert trace.header.meta["exit_codes_recorded"] is False
        assert all(not isinstance(s.output, dict) or s.output.get("exit_code") is None
                   for s in steps)


@needs_corpus
@pytest.mark.parametrize("source", [LITE, JAVA])
def test_special_commands_become_reads_edits_and_submits(source: str) -> None:
    kinds: Counter[tuple[str, str]] = Counter()
    for path, raw, trace in _all(source):
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            words = entry["action"].split()
            first = words[0] if words else ""
            if first == "cd" and "\n" in entry["action"].strip():
                first = entry["action"].strip().split("\n")[1].split()[0]
            if first in READS:
                assert step.kind == "read", (path, step.index)
                assert step.input["path"] or step.error == \
                    "No file open. Use the open command first.", (path, step.index)
            elif first == "edit":
                assert step.kind == "edit" and step.input["path"], (path, step.index)
            elif first == "create":
                existed = "already exists" in entry["observation"].split("\n")[0]
                assert step.kind == ("read" if existed else "edit"), (path, step.index)
                assert existed or step.input["op"] == "create"
            elif first == "submit":
                assert step.kind == "submit", (path, step.index)
                assert step.input["patch"] == (raw["info"].get("submission")
                                               or entry["observation"])
            elif first == "exit_cost":
                assert step.kind == "error" and step.name == "exit_cost"
            kinds[(first if first in READS | {"edit", "create", "submit"} else "shell",
                   step.kind)] += 1
    assert kinds[("submit", "submit")] == {LITE: 76, JAVA: 73}[source]


@needs_corpus
def test_the_open_file_comes_from_the_state_recorded_before_the_action() -> None:
    """0.x takes ``state`` before the action: ``open`` still shows the previous file."""
    raw, trace = _load(_trajectory_files(LITE)[1])  # django__django-11001
    assert json.loads(raw["trajectory"][2]["state"])["open_file"] == "n/a"
    opened = _actions(trace)[2]
    assert (opened.name, opened.input["path"]) == (
        "open", "/django__django/django/db/models/sql/compiler.py")


@needs_corpus
@pytest.mark.parametrize("source", [LITE, JAVA])
def test_edits_name_the_file_open_at_that_moment_and_their_lines(source: str) -> None:
    checked = 0
    for path, raw, trace in _all(source):
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            head = re.match(r"edit (\d+):(\d+)\n", entry["action"])
            if not head:
                continue
            state = json.loads(entry["state"])
            assert step.input["path"] == state["open_file"], (path, step.index)
            assert (step.input["start_line"], step.input["end_line"]) == (
                int(head.group(1)), int(head.group(2)))
            if "end_of_edit" in entry["action"]:
                body = entry["action"].split("\n", 1)[1].rsplit("end_of_edit", 1)[0]
                assert step.input["new"] == body.rstrip("\n")
            checked += 1
    assert checked == {LITE: 224, JAVA: 670}[source]


@needs_corpus
@pytest.mark.parametrize("source", [LITE, JAVA])
def test_every_patched_file_is_named_by_an_edit_step(source: str) -> None:
    uncovered: dict[str, list[str]] = {}
    patched = 0
    for path, raw, trace in _all(source):
        named = [str(s.input.get("path", "")) for s in trace.steps if s.kind == "edit"]
        named += [str(e["path"]) for s in trace.steps for e in s.meta.get("edits", [])]
        for file in DIFF_PATH.findall(raw["info"].get("submission") or ""):
            patched += 1
            if not any(same_path(file, n) for n in named if n):
                uncovered.setdefault(path.parent.name, []).append(file)
    assert patched == {LITE: 127, JAVA: 296}[source]
    assert set(uncovered) == {run for run in PATCHED_BY_NO_ACTION
                              if run in {p.parent.name for p in _trajectory_files(source)}}


@needs_corpus
@pytest.mark.parametrize("source", [LITE, JAVA])
def test_rejected_edits_are_marked_and_read_as_errors(source: str) -> None:
    rejected = 0
    for path, raw, trace in _all(source):
        view = view_of(trace)
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            refused = "Your proposed edit has introduced new syntax error" in entry["observation"]
            if not entry["action"].startswith("edit"):
                continue
            assert bool(step.meta.get("rejected")) == (refused or not re.search(
                r"^\[File: ", entry["observation"], re.M)), (path, step.index)
            if refused:
                rejected += 1
                assert step.error and step.error.startswith(
                    "Your proposed edit has introduced new syntax error(s): ")
                assert re.search(r"\b[EFW]\d{3}\b", step.error)
                assert step.index in view.error_sig  # what the failed-edit detector reads
            else:
                assert not step.error or step.meta.get("rejected")
    assert rejected == {LITE: 82, JAVA: 182}[source]


@needs_corpus
@pytest.mark.parametrize(("source", "statuses"), [
    (LITE, {"submitted": 76, "submitted (exit_cost)": 2, "early_exit": 1, None: 1}),
    (JAVA, {"submitted": 73, "submitted (exit_cost)": 63, "exit_cost": 14}),
])
def test_exit_status_cost_and_tokens_are_the_outcome(source: str,
                                                      statuses: dict[str | None, int]) -> None:
    seen: Counter[str | None] = Counter()
    expected_end = {"submitted": "completed", "submitted (exit_cost)": "completed",
                    "exit_cost": "timeout", "early_exit": "error", None: "aborted"}
    for path, raw, trace in _all(source):
        info = raw["info"]
        stats = info["model_stats"]
        status = info.get("exit_status")
        seen[status] += 1
        assert trace.end is not None
        outcome = trace.end.outcome
        assert outcome["exit_status"] == status
        assert trace.end.status == expected_end[status], path
        assert outcome["cost_usd"] == stats["instance_cost"]
        assert outcome["api_calls"] == stats["api_calls"]
        assert (outcome["input_tokens"], outcome["output_tokens"]) == (
            stats["tokens_sent"], stats["tokens_received"])
        assert outcome["submitted"] == bool(info.get("submission"))
        assert outcome.get("autosubmitted", False) == (status == "submitted (exit_cost)")
        hidden = stats["api_calls"] - len(raw["trajectory"])
        assert trace.header.meta.get("unrecorded_model_calls", 0) == max(0, hidden)
        assert any("model repl" in w for w in trace.warnings) == (hidden > 0)
    assert dict(seen) == statuses


@needs_corpus
def test_the_harness_exit_is_an_error_step_with_the_autosubmitted_patch() -> None:
    exits = 0
    for path, raw, trace in _all(JAVA) + _all(LITE):
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            if entry["action"] != "exit_cost":
                continue
            exits += 1
            assert step.kind == "error" and step.error == "Exit due to cost limit"
            autosubmitted = entry["observation"] == "Exited (autosubmitted)"
            assert step.meta["autosubmitted"] is autosubmitted
            if autosubmitted:
                assert step.input["patch"] == raw["info"]["submission"]
        texts = [s.output["text"] for s in trace.steps if s.kind == "message"]
        assert "Exit due to cost limit" not in texts, path
    assert exits == 79


@needs_corpus
def test_java_build_tool_test_runs_are_test_steps() -> None:
    """mvn/gradle test runs are ``test`` steps. No JDK or Maven was installed in these
    containers, so none printed a Surefire or Gradle summary: every one failed to start, and
    says so in its ``error`` rather than passing for a run with unknown results."""
    runs_found = 0
    for path, raw, trace in _all(JAVA):
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            if not re.search(r"(?:^|\s)(?:mvn|\./mvnw|gradle|\./gradlew)\s(?:.*\s)?test\b",
                             entry["action"]) or entry["action"].startswith(("edit", "create")):
                continue
            runs_found += 1
            assert step.kind == "test", (path, step.index)
            observation = entry["observation"]
            assert not re.search(r"Tests run: \d+, Failures: \d+", observation)
            assert step.output["passed"] is None and step.output["ok"] is None
            assert step.error and re.search(r"not found|No such file|JAVA_HOME", step.error)
    assert runs_found == 57


@needs_corpus
def test_failure_text_marks_steps_that_could_not_run() -> None:
    for path, raw, trace in _all(JAVA) + _all(LITE):
        for step, entry in zip(_actions(trace), raw["trajectory"], strict=True):
            observation = entry["observation"]
            first = entry["action"].split()[0] if entry["action"].split() else ""
            if first in READS | {"edit", "create", "submit", "exit_cost"}:
                continue
            if re.search(r"^/bin/bash: line \d+: \S+: command not found$", observation, re.M):
                assert step.error, (path, step.index)
            if observation.strip() == "EXECUTION TIMED OUT":
                assert step.output["timed_out"] is True and step.error


@needs_corpus
def test_prose_and_code_sent_as_commands_are_malformed_commands() -> None:
    """doubao's ``DISCUSSION`` blocks and pasted code reached bash; they did not edit what
    their text seems to name (``-> Union[object, ...]`` is no redirection)."""
    malformed: Counter[str] = Counter()
    for _path, _raw, trace in _all(JAVA) + _all(LITE):
        for step in _actions(trace):
            if step.meta.get("malformed"):
                malformed[step.name] += 1
                assert step.kind == "command" and step.error and "edits" not in step.meta
    assert malformed["DISCUSSION"] > 100
    _raw, sphinx = _load(next(p for p in _trajectory_files(LITE)
                              if p.stem == "sphinx-doc__sphinx-10325"))
    (pasted,) = [s for s in _actions(sphinx) if s.input["command"].startswith("def ")]
    assert pasted.kind == "command" and pasted.meta["malformed"]


@needs_corpus
def test_thoughts_are_messages_and_the_issue_is_the_task() -> None:
    for path, raw, trace in _all(LITE)[:20] + _all(JAVA)[:30]:
        first_user = next(h["content"] for h in raw["history"]
                          if h["role"] == "user" and not h.get("is_demo"))
        issue = first_user.split("ISSUE:\n", 1)[1].split("\nINSTRUCTIONS:", 1)[0].strip()
        assert trace.header.task.description == issue, path
        thoughts = [re.sub(r"^\s*DISCUSSION\s*\n", "", e["thought"]).strip()
                    for e in raw["trajectory"] if e["action"] != "exit_cost"]
        messages = [s.output["text"] for s in trace.steps if s.kind == "message"]
        assert messages == [t for t in thoughts if t], path


@needs_corpus
def test_the_model_is_named_by_the_run_folder() -> None:
    for path, _raw, trace in _all(JAVA):
        assert trace.header.agent.model == path.parent.name.removesuffix("__" + path.stem)
    assert {t.header.agent.model for _p, _r, t in _all(LITE)} == {None}  # recorded nowhere


@needs_corpus
def test_cd_then_a_special_command_is_that_command() -> None:
    _raw, trace = _load(next(p for p in _trajectory_files(JAVA)
                             if p.parent.name == "deepseek-chat-v2__fasterxml__jackson-core-891"))
    created = next(s for s in trace.steps if s.input and str(s.input.get("command", ""))
                   .startswith("cd src/test/java"))
    assert (created.kind, created.input["op"]) == ("edit", "create")
    assert created.input["path"].endswith("/filter/FilteringGeneratorDelegateTest.java")


@needs_corpus
def test_validate_names_the_trajectory_and_skips_the_verdicts() -> None:
    folder = next(r for r in runs(JAVA) if (r / "run_instance.log").is_file())
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\.traj: ok: \d+ steps, (?:completed|timeout), format swe-agent",
                     result.stdout)
    assert "run_instance.log: skipped: SWE-bench harness log" in result.stderr
    lite = runs(LITE)[0]
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(lite)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "DERIVED_verdict.json: skipped: verdict" in result.stderr


def test_args_yaml_beside_the_trajectory_names_model_and_cost_limit(tmp_path: Path) -> None:
    """SWE-agent's own layout: ``<model>__<dataset>__...__c-2.00__install-1/`` with args.yaml."""
    folder = tmp_path / "gpt4__SWE-bench_Lite__default__t-0.00__p-0.95__c-2.00__install-1"
    folder.mkdir()
    entry = {"action": "submit\n", "observation": "", "thought": "done", "response": "done",
             "state": json.dumps({"open_file": "n/a", "working_dir": "/repo"})}
    traj = {"environment": "swe_main", "trajectory": [entry], "history": [],
            "info": {"exit_status": "submitted", "submission": None,
                     "model_stats": {"instance_cost": 0.1, "api_calls": 1, "tokens_sent": 5,
                                     "tokens_received": 2}}}
    (folder / "x__y-1.traj").write_text(json.dumps(traj))
    (trace,) = import_path(folder / "x__y-1.traj")
    assert (trace.header.task.id, trace.header.agent.model) == ("x__y-1", "gpt4")
    (folder / "args.yaml").write_text("agent:\n  model:\n    model_name: gpt4-0125\n"
                                      "    per_instance_cost_limit: 2.0\n")
    (trace,) = import_path(folder / "x__y-1.traj")
    assert trace.header.agent.model == "gpt4-0125"
    assert trace.header.task.budget == {"cost_usd": 2.0}


@needs_corpus
def test_runs_of_one_instance_by_several_models_keep_their_own_ids() -> None:
    """Five models ran the same Java instances, some without a patch: ids must still differ."""
    ids = [trace.trace_id for _p, _r, trace in _all(LITE) + _all(JAVA)]
    assert len(set(ids)) == len(ids) == 230
