"""Terminal-Bench 1 trial folders: terminal captures of mini-swe-agent 1.x and Codex CLI.

The synthetic snippets here are written byte by byte the way the consoles print (colour codes,
CR-redrawn spinners, cursor moves); the corpus tests read the 179 real trials in place and
check the steps against counts made from the raw logs with a separate, deliberately naive regex,
and against the source's own ``index.csv``.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench.importers import import_path, iter_trace_inputs
from pytest_tracebench.importers._terminal import cast_output, render, unwrap
from pytest_tracebench.importers.terminal_bench import (
    RAW_WARNING,
    instruction,
    keystrokes,
    trial_task,
)
from tests._corpus import DEV, needs_corpus, runs

MINI = "minisweagent-1.x-claudesonnet4-terminalbench-core"
CODEX = "codex-o4mini-usaco-terminalbench-adapter"
ACTIONS = {"command", "read", "edit", "test", "submit", "tool"}
ESC = "\x1b"


# -- the terminal model -----------------------------------------------------------------------

def test_carriage_returns_and_erases_collapse_a_spinner_to_what_the_screen_shows() -> None:
    spinner = "".join(f"{ESC}[32m{c}{ESC}[0m Waiting...\r{ESC}[2K" for c in "⠋⠙⠹⠸")
    assert render(spinner + "THOUGHT: go\r\n") == "THOUGHT: go\n"
    assert render("50%\r100%\r\n") == "100%\n"  # a progress count redrawn in place
    assert render("abc\b\bX\r\n") == "aXc\n"  # backspace moves, the next byte overwrites
    assert render("keep\r\nspin\r\n" + f"{ESC}[1A{ESC}[2K" + "next\r\n") == "keep\nnext\n"
    assert render(f"{ESC}]0;title{ESC}\\{ESC}[1;31mred{ESC}[0m text") == "red text"
    assert render(f"{ESC}[1G{ESC}[0K⠙{ESC}[1G{ESC}[0Kdone") == "done"  # npm's spinner
    # A clear keeps what scrolled into history; the new page starts below it.
    assert render(f"old\r\n{ESC}[H{ESC}[J{ESC}[3Jnew\r\n") == "old\nnew\n"


def test_unwrap_joins_what_rich_broke_at_the_pane_width_and_nothing_else() -> None:
    # Word wrap keeps the space at the end of the line; a fold of a long word fills the line.
    assert unwrap("ab cd \nef gh", 6) == "ab cd ef gh"
    assert unwrap("abcdef\ngh", 6) == "abcdefgh"
    assert unwrap("ab cd \nef", 20) == "ab cd\nef"  # "ef" would have fitted: a real newline
    assert unwrap("──────\nnext", 6) == "──────\nnext"  # rich's rule spans the width
    assert unwrap("a very long noise line\nx", 6) == "a very long noise line\nx"


def test_cast_output_joins_output_events_split_anywhere() -> None:
    text = "\n".join([json.dumps({"version": 2, "width": 160, "height": 40}),
                      json.dumps([0.1, "o", "hel"]), json.dumps([0.2, "i", "ignored"]),
                      json.dumps([0.3, "o", f"lo{ESC}["]), json.dumps([0.4, "o", "0m!\r\n"])])
    assert cast_output(text) == f"hello{ESC}[0m!\r\n"
    assert render(cast_output(text)) == "hello!\n"


# -- trial folders ----------------------------------------------------------------------------

def test_trial_names_and_keystrokes(tmp_path: Path) -> None:
    assert trial_task("blind-maze-explorer-algorithm.hard.1-of-1.2025-08-07__20-46-16")[0] == \
        "blind-maze-explorer-algorithm.hard"
    task, facts = trial_task("1011.1-of-1.2025-08-24__02-56-58")
    assert (task, facts["run"], facts["attempts"]) == ("1011", "2025-08-24__02-56-58", 1)
    commands = tmp_path / "commands.txt"
    commands.write_text("['clear', 'Enter']\n"
                        "['mini -m anthropic/claude-sonnet-4-0 -t \\'Fix it: it\\'\"\\'\"\\'s "
                        "broken\\' -y', 'Enter']\nnot a list\n")
    sent, bad = keystrokes(commands)
    assert bad == 1 and sent[0] == ["clear", "Enter"]
    words = ["codex", "exec", "--model", "o4-mini", "--", "Solve the problem"]
    assert instruction("codex", words) == ("Solve the problem", "o4-mini")


def _trial(root: Path, name: str, command: str, log: str | None = None,
           cast: str | None = None) -> Path:
    trial = root / name
    (trial / "sessions").mkdir(parents=True)
    (trial / "commands.txt").write_text(repr([command, "Enter"]) + "\n" + repr(["C-d"]) + "\n")
    (trial / "results.json").write_text('{"is_resolved": true}')  # must never be read
    if log is not None:
        (trial / "sessions" / "agent.log").write_bytes(log.encode())
    if cast is not None:
        (trial / "sessions" / "agent.cast").write_text(cast)
    return trial


def _red(text: str) -> str:
    return f"{ESC}[1;31m{text}{ESC}[0m"


def _mini_step(number: int, cost: str, reply: str, observation: str | None) -> str:
    marker = (f"\r\n{_red('mini-swe-agent')}{ESC}[31m (step {ESC}[0m{_red(str(number))}"
              f"{ESC}[31m, {ESC}[0m{_red('$' + cost)}{ESC}[31m):{ESC}[0m\r\n")
    spin = f"{ESC}[32m⠋{ESC}[0m Waiting for the LM to respond...\r{ESC}[2K"
    text = marker + spin + reply.replace("\n", "\r\n") + "\r\n"
    if observation is None:
        return text
    text += spin + f"{ESC}[32m⠙{ESC}[0m Waiting for the LM to respond...\r\n{ESC}[?25h\r"
    text += f"{ESC}[1A{ESC}[2K\r\n{ESC}[1;32mUser{ESC}[0m:\r\n"
    litellm = (f"{ESC}[92m04:07:00 - LiteLLM:ERROR{ESC}[0m: litellm_logging.py:4483 - Error\r\n"
               "Traceback (most recent call last):\r\n  File \"x.py\", line 1, in <module>\r\n"
               "    import backoff\r\nModuleNotFoundError: No module named 'backoff'\r\n")
    return text + litellm + observation.replace("\n", "\r\n") + "\r\n" + \
        f"{ESC}[92m{'─' * 40}{ESC}[0m\r\n"


MINI_HEAD = (f"{ESC}[?2004hroot@7add946a851e:/app# source /installed-agent/install-agent.sh\r\n"
             "Collecting mini-swe-agent\r\n  Downloading x.whl\r\n 10%\r 90%\r100%\r\n"
             f"INSTALL_SUCCESS\r\n{ESC}[?2004l\r👋 This is {ESC}[1;32mmini-swe-agent{ESC}[0m "
             f"version {ESC}[1;32m1.9{ESC}[0m.{ESC}[1;32m0{ESC}[0m.\r\n"
             f"\r\n{ESC}[1;32mSystem{ESC}[0m:\r\nYou are a helpful assistant.\r\n"
             f"{ESC}[1;32mUser{ESC}[0m:\r\nPlease solve this issue: Write hello.txt\r\n\r\n"
             "You can execute bash commands and edit files.\r\n")


def _mini_log(*, finished: bool = True) -> str:
    log = MINI_HEAD
    log += _mini_step(1, "0.01", "THOUGHT: Look around first.\n\n```bash\nls -la\n```",
                      "<returncode>0</returncode>\n<output>\nhello.txt\n</output>")
    log += _mini_step(2, "0.02", "THOUGHT: Two at once.\n\n```bash\nls\n```\n```bash\npwd\n```",
                      "Please always provide EXACTLY ONE action in triple backticks, found 2 "
                      "actions.")
    log += _mini_step(3, "0.03", "THOUGHT: Run the game.\n\n```bash\n./game.sh\n```",
                      "The last command <command>./game.sh</command> timed out and has been "
                      "killed.\nThe output of the command was:\n <output>\nWelcome\n</output>")
    if not finished:
        return log + _mini_step(4, "0.05", "THOUGHT: Train.\n\n```bash\npython train.py\n```",
                                None)
    log += _mini_step(4, "0.05", "THOUGHT: Write it.\n\n```bash\necho hi > hello.txt\n```",
                      "<returncode>0</returncode>\n<output>\n</output>")
    log += _mini_step(5, "0.07", "THOUGHT: Done.\n\n```bash\n"
                      "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n```", "")
    return log + ("Saved trajectory to '/root/.config/mini-swe-agent/last_mini_run.traj.json'\r"
                  f"\n{ESC}[?2004hroot@7add946a851e:/app# {ESC}[?2004l\r\r\nexit\r\n")


MINI_COMMAND = "mini -m anthropic/claude-sonnet-4-0 -t 'Write hello.txt' -y --exit-immediately"


def test_mini_swe_agent_console_steps(tmp_path: Path) -> None:
    trial = _trial(tmp_path, "hello-world.1-of-1.2025-08-07__20-46-16", MINI_COMMAND,
                   log=_mini_log())
    [trace] = import_path(trial)
    header = trace.header
    assert header.source.format == "terminal-bench"
    assert (header.task.id, header.task.description) == ("hello-world", "Write hello.txt")
    assert (header.agent.name, header.agent.version, header.agent.model) == \
        ("mini-swe-agent", "1.9.0", "anthropic/claude-sonnet-4-0")
    kinds = [(s.kind, s.name) for s in trace.steps]
    assert kinds == [("message", "message"), ("read", "ls"), ("message", "message"),
                     ("error", "format_error"), ("message", "message"), ("command", "game.sh"),
                     ("message", "message"), ("edit", "echo"), ("message", "message"),
                     ("submit", "submit")]
    assert trace.steps[0].output == {"text": "Look around first."}
    assert trace.steps[1].output["exit_code"] == 0
    assert trace.steps[1].output["stdout"] == "hello.txt\n"  # LiteLLM's noise left out
    assert trace.steps[3].output == {"found_actions": 2}
    assert (trace.steps[3].error or "").startswith("Please always provide EXACTLY ONE action")
    assert trace.steps[5].output["timed_out"] is True
    assert trace.steps[5].meta == {"step": 3, "cost_so_far_usd": 0.03}
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.end.outcome["cost_usd"] == 0.07 and trace.end.outcome["submitted"] is True
    [warning] = trace.warnings
    assert "lines of setup and install output before the agent started" in warning
    assert "5 LiteLLM log messages" in warning


def test_mini_swe_agent_cut_off_while_a_command_runs_is_aborted(tmp_path: Path) -> None:
    trial = _trial(tmp_path, "cartpole.1-of-1.r", MINI_COMMAND, log=_mini_log(finished=False))
    [trace] = import_path(trial)
    last = trace.steps[-1]
    assert (last.kind, last.input, last.meta["unanswered"]) == \
        ("command", {"command": "python train.py"}, True)
    assert trace.end is not None and trace.end.status == "aborted"
    assert trace.end.outcome["cut_off"] == "command running"
    assert trace.end.outcome["cost_usd"] == 0.05


def _ts(second: int) -> str:
    return f"{ESC}[2m[2025-08-24T07:10:{second:02d}]{ESC}[0m "


CODEX_LOG = (
    f"root@2d01:/app# codex exec --model o4-mini -- 'Solve it'; tmux wait -S done\r\n"
    f"{ESC}[1G{ESC}[0K⠙{ESC}[1G{ESC}[0Kadded 1 package\r\n{ESC}[?2004l\r"
    + _ts(0) + "OpenAI Codex v0.23.0 (research preview)\r\n--------\r\n"
    f"{ESC}[1mworkdir:{ESC}[0m /app\r\n{ESC}[1mmodel:{ESC}[0m o4-mini\r\n--------\r\n"
    + _ts(0) + f"{ESC}[36mUser instructions:{ESC}[0m\r\nSolve it\r\n\r\n"
    + _ts(1) + "thinking\r\n\r\n**Plan**\r\n\r\nI will fix sol.py.\r\n"
    + _ts(2) + "codex\r\n**Plan**\r\n\r\nI will fix sol.py.\r\n"
    + _ts(3) + "exec bash -lc 'python3 sol.py < in.txt' in /app\r\n"
    + _ts(5) + "bash -lc 'python3 sol.py < in.txt' exited 1 in 1.25s:\r\n"
    "NameError: name 'x' is not defined\r\n"
    "2025-08-24T07:10:05.139022Z ERROR codex_core::exec: exec error: boom\r\n"
    + _ts(6) + "apply_patch auto_approved=true:\r\nM /app/sol.py\r\n@@ -1,2 +1,2 @@\r\n"
    " import sys\r\n-print(x)\r\n+print(1)\r\n"
    + _ts(6) + "apply_patch(auto_approved=true) exited 0 in 5ms:\r\n"
    "Success. Updated the following files:\r\nM sol.py\r\n"
    + _ts(7) + "apply_patch auto_approved=true:\r\nA /app/new.py\r\nprint('hi')\r\n"
    + _ts(7) + "apply_patch(auto_approved=true) exited 1 in 3ms:\r\nerror: new.py exists\r\n"
    + _ts(8) + "tokens used: 1200\r\n"
    + _ts(8) + "turn diff:\r\ndiff --git a/sol.py b/sol.py\r\n"
    + _ts(9) + "codex\r\nFixed: sol.py now prints 1.\r\n"
    + _ts(9) + "tokens used: 300\r\n\r\n"
    f"{ESC}[?2004hroot@2d01:/app# {ESC}[?2004l\r\r\nexit\r\n")


def test_codex_console_steps(tmp_path: Path) -> None:
    trial = _trial(tmp_path, "1011.1-of-1.2025-08-24__02-56-58",
                   "codex exec --model o4-mini -- 'Solve it'", log=CODEX_LOG)
    [trace] = import_path(trial)
    assert (trace.header.task.id, trace.header.task.description) == ("1011", "Solve it")
    assert (trace.header.agent.name, trace.header.agent.version, trace.header.agent.model) == \
        ("codex", "0.23.0", "o4-mini")
    assert [(s.kind, (s.input or {}).get("role")) for s in trace.steps] == [
        ("message", "reasoning"), ("command", None), ("edit", None), ("edit", None),
        ("message", "assistant")]  # the reasoning repeated as `codex` is left out
    run = trace.steps[1]
    assert run.input == {"command": "python3 sol.py < in.txt"}  # out of `bash -lc '...'`
    assert run.output["exit_code"] == 1
    assert run.output["stdout"] == "NameError: name 'x' is not defined"
    assert run.ended_at is not None and run.started_at is not None
    assert run.ended_at - run.started_at == pytest.approx(1.25)
    assert run.meta["shell"] == "bash -lc" and run.meta["duration_ms"] == 1250
    modify, create = trace.steps[2], trace.steps[3]
    assert modify.input["path"] == "/app/sol.py" and modify.input["op"] == "modify"
    assert "+print(1)" in modify.input["diff"] and modify.error is None
    assert create.input["op"] == "create" and create.input["content"] == "print('hi')\n"
    assert create.error == "error: new.py exists"
    assert trace.end is not None and trace.end.status == "completed"
    assert trace.end.outcome["total_tokens"] == 1500
    assert trace.header.meta["reasoning_repeated_as_message"] == 1
    [warning] = trace.warnings
    assert "1 Codex log lines" in warning and "lines after the agent exited" in warning


def test_a_log_given_alone_imports_by_its_console_markers(tmp_path: Path) -> None:
    log = tmp_path / "pane.log"
    log.write_bytes(CODEX_LOG.encode())
    [trace] = import_path(log)
    assert trace.header.source.format == "terminal-bench"
    assert sum(s.kind in ACTIONS for s in trace.steps) == 3


def test_a_cast_without_agent_log_is_read(tmp_path: Path) -> None:
    stream = _mini_log()
    chunks = [stream[i:i + 37] for i in range(0, len(stream), 37)]  # splits escapes too
    cast = "\n".join([json.dumps({"version": 2, "width": 160, "height": 40})]
                     + [json.dumps([n / 10, "o", c]) for n, c in enumerate(chunks)])
    trial = _trial(tmp_path, "hello-world.1-of-1.r", MINI_COMMAND, cast=cast)
    [trace] = import_path(trial)
    assert trace.header.meta["capture"] == "agent.cast"
    assert [s.kind for s in trace.steps if s.kind in ACTIONS] == ["read", "command", "edit",
                                                                   "submit"]


def test_claude_code_stream_json_in_a_cast_goes_through_the_stream_importer(
        tmp_path: Path) -> None:
    records = [
        {"type": "system", "subtype": "init", "session_id": "s1", "model": "claude-x",
         "claude_code_version": "1.0.61", "cwd": "/app"},
        {"type": "assistant", "session_id": "s1", "message": {"id": "m1", "role": "assistant",
         "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                      "input": {"command": "pytest -q"}}]}},
        {"type": "user", "session_id": "s1", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "1 passed in 0.01s"}]}},
        {"type": "result", "subtype": "success", "session_id": "s1", "is_error": False,
         "result": "All tests pass.", "total_cost_usd": 0.12},
    ]
    stream = "root@a:/app# claude --output-format stream-json -p 'Make the tests pass'\r\n" + \
        "".join(json.dumps(r) + "\r\n" for r in records)
    cast = json.dumps({"version": 2, "width": 160}) + "\n" + json.dumps([0.5, "o", stream])
    trial = _trial(tmp_path, "fix-tests.1-of-1.r",
                   "claude --output-format stream-json -p 'Make the tests pass'", cast=cast)
    [trace] = import_path(trial)
    assert trace.header.source.format == "terminal-bench"
    assert trace.header.meta["console"] == "claude-code stream-json"
    assert (trace.header.task.id, trace.header.task.description) == \
        ("fix-tests", "Make the tests pass")
    assert [s.kind for s in trace.steps] == ["test", "message"]
    assert trace.end is not None and trace.end.outcome["total_cost_usd"] == 0.12


def test_only_raw_terminal_text_is_one_run_that_says_so(tmp_path: Path) -> None:
    trial = _trial(tmp_path, "hello.1-of-1.r", "my-agent --go",
                   log="root@a:/app# my-agent --go\r\nworking 10%\rworking 100%\r\ndone\r\n"
                       "root@a:/app# ")
    [trace] = import_path(trial)
    [step] = trace.steps
    assert step.kind == "message" and step.name == "terminal_capture"
    assert "working 100%\ndone" in step.output["text"] and "10%" not in step.output["text"]
    assert any(RAW_WARNING in w for w in trace.warnings)


def test_a_trial_folder_is_one_run_in_a_walk(tmp_path: Path) -> None:
    trial = _trial(tmp_path, "hello-world.1-of-1.r", MINI_COMMAND, log=_mini_log())
    assert list(iter_trace_inputs([tmp_path])) == [(trial, None)]


# -- the real trials --------------------------------------------------------------------------

def _index(source: str) -> dict[str, dict[str, str]]:
    with open(DEV / source / "index.csv", newline="", encoding="utf-8") as fh:
        return {row["run_id"]: row for row in csv.DictReader(fh)}


def _raw(trial: Path) -> str:
    """The log with every escape sequence dropped: nothing rendered, for independent counts."""
    text = (trial / "sessions" / "agent.log").read_bytes().decode("utf-8", "replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


@needs_corpus
def test_every_mini_swe_agent_trial_imports_with_one_step_per_marker() -> None:
    trials = runs(MINI)
    index = _index(MINI)
    assert len(trials) == len(index) == 59
    sizes = []
    for trial in trials:
        [trace] = import_path(trial)
        raw = _raw(trial)
        markers = re.findall(r"mini-swe-agent \(step (\d+), \$([\d.]+)\):", raw)
        calls = [s for s in trace.steps if s.kind in ACTIONS or s.name == "format_error"]
        assert len(calls) == len(markers) == int(index[trial.name]["n_steps_in_log"]), trial
        assert trace.header.task.id == index[trial.name]["task_id"]
        assert trace.header.task.description and trace.header.agent.version
        assert index[trial.name]["mini_version"].startswith(trace.header.agent.version)
        assert trace.header.agent.model == index[trial.name]["model_arg"]
        assert trace.end is not None
        assert trace.end.outcome["cost_usd"] == float(markers[-1][1])
        for step in calls:
            if step.kind in ACTIONS and not step.meta.get("unanswered") and \
                    step.kind != "submit" and not step.output["timed_out"]:
                assert isinstance(step.output["exit_code"], int), (trial, step.index)
        submitted = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT" in raw.rsplit("(step ", 1)[-1]
        assert (trace.end.status == "completed") == submitted, trial
        assert not any(RAW_WARNING in w for w in trace.warnings)
        sizes.append(len(trace.steps))
    assert statistics.median(sizes) > 10


@needs_corpus
def test_every_codex_trial_imports_with_one_step_per_exec_and_patched_file() -> None:
    trials = runs(CODEX)
    index = _index(CODEX)
    assert len(trials) == len(index) == 120
    for trial in trials:
        [trace] = import_path(trial)
        raw = _raw(trial)
        execs = [s for s in trace.steps if "cwd" in s.meta]
        patched = [s for s in trace.steps if "patch_files" in s.meta]
        assert len(execs) == len(re.findall(r"\] exec ", raw)) == \
            int(index[trial.name]["n_exec_events"]), trial
        blocks = re.findall(r"\] apply_patch auto_approved[^\n]*\n(.*?)(?=\n\[20\d\d-)", raw,
                            re.S)
        assert len(patched) == sum(len(re.findall(r"^[ADM] /", b, re.M)) for b in blocks), trial
        assert all(isinstance(s.output["exit_code"], int) for s in execs)
        assert all(s.input["path"].startswith("/") and isinstance(s.input["diff"], str)
                   for s in patched)
        tokens = sum(int(n) for n in re.findall(r"\] tokens used: (\d+)", raw))
        assert trace.end is not None and trace.end.status == "completed"
        assert trace.end.outcome["total_tokens"] == tokens
        assert trace.header.task.id == index[trial.name]["task_id"]
        assert trace.header.task.description and trace.header.agent.model == "o4-mini"
        assert trace.header.agent.version == "0.23.0"
        assert not any(RAW_WARNING in w for w in trace.warnings)


@needs_corpus
def test_validate_prints_a_trial_folder_as_one_run() -> None:
    trial = runs(CODEX)[0]
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(trial)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(rf"{re.escape(str(trial))}: ok: \d+ steps, completed, format "
                        r"terminal-bench\n", result.stdout)
