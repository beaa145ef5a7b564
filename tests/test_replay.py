"""Replay: printing, cassette replay under pytest, re-execution, follow, interactive."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.replay.rerun import apply_unified_diff
from pytest_tracebench.replay.viewer import Replayer

from .conftest import REPO


def tb(*args: str, cwd: Path | None = None, timeout: float = 300
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_replay_prints_the_seed_section(seed_trace_path: Path) -> None:
    result = tb("replay", str(seed_trace_path))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "=== Replaying Trace ==="
    assert "ACTION: retrieve_context  [read #1]" in lines
    assert "STATE : {'query': 'Fix API timeout issue'}" in lines
    assert "STATE : {'code_patch': 'Increase retry timeout to 5s'}" in lines
    assert "STATE : {'tests_passed': False}" in lines
    assert any(line.startswith("  !! failing_tests") for line in lines)


def test_replay_filters(seed_trace_path: Path) -> None:
    tests_only = tb("replay", str(seed_trace_path), "--kind", "test", "--no-findings")
    assert tests_only.stdout.count("ACTION:") == 2
    window = tb("replay", str(seed_trace_path), "--from", "2", "--to", "3")
    assert [line for line in window.stdout.splitlines() if line.startswith("ACTION")] == [
        "ACTION: generate_fix  [edit #2]", "ACTION: run_tests  [test #3]"]
    grep = tb("replay", str(seed_trace_path), "--grep", "maybe")
    assert grep.stdout.count("ACTION:") == 1 and "Maybe increase" in grep.stdout
    one = tb("replay", str(seed_trace_path), "--step", "8")
    assert one.stdout.startswith("ACTION: final_answer")
    missing = tb("replay", str(seed_trace_path), "--step", "99")
    assert missing.returncode == 1 and "no step 99" in missing.stderr


def test_replayer_accumulates_state(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.read("a.py", content="x")
    rec.edit("a.py", old="x", new="y")
    rec.test_run(passed=1, failed=1, failing=["t::a"])
    rec.end()
    states = [(step.kind, list(state.files_read), list(state.files_edited),
               state.last_test and state.last_test["failed"])
              for step, state in Replayer(tmp_path / "t.jsonl")]
    assert states == [("read", ["a.py"], [], None), ("edit", ["a.py"], ["a.py"], None),
                      ("test", ["a.py"], ["a.py"], 1)]


AGENT = """
import os
import pytest

CALLS = []

def make_tools(trace):
    @trace.tool
    def search(query: str, limit: int = 3) -> list:
        if os.environ.get("TOOLS_RAISE"):
            raise RuntimeError("the real tool was called")
        CALLS.append(query)
        return [f"{query}-{i}" for i in range(limit)]

    @trace.tool(kind="edit")
    def write_file(path: str, text: str) -> str:
        if os.environ.get("TOOLS_RAISE"):
            raise RuntimeError("the real tool was called")
        return f"wrote {len(text)} bytes to {path}"

    return search, write_file

def test_agent(trace):
    search, write_file = make_tools(trace)
    hits = search(os.environ.get("QUERY", "timeout"))
    assert hits[0].endswith("-0")
    assert write_file("client.py", "retries = 3").startswith("wrote")
    out = trace.run("echo recorded-$((6*7))")
    assert out.stdout.strip() == "recorded-42"
"""


def test_cassette_replay_answers_from_the_recording_and_reports_divergence(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_agent=AGENT)
    record = pytester.runpytest_subprocess("--tracebench")
    record.assert_outcomes(passed=1)
    # The tools now raise if they are called, and the shell would print something else:
    # the run passes only if every call is answered from the recording.
    monkeypatch.setenv("TOOLS_RAISE", "1")
    replayed = pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=none")
    replayed.assert_outcomes(passed=1)
    (replay_file,) = (pytester.path / ".tracebench" / "traces").glob("*.replay.jsonl")
    steps = [json.loads(line) for line in replay_file.read_text().splitlines()[1:-1]]
    assert [s["name"] for s in steps] == ["search", "write_file", "echo"]
    assert all(s["meta"].get("replayed") for s in steps)
    # One argument changed: the call diverges from the recording, named at its step.
    monkeypatch.setenv("QUERY", "retry")
    diverged = pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=none")
    diverged.assert_outcomes(failed=1)
    diverged.stdout.fnmatch_lines([
        "*ReplayDivergence: replay mode 'none': no recorded answer for search*",
        "*replay_divergence -> Replay diverged at step 1: the agent called `search` with "
        "arguments that differ from step 1 of the recording (`search`).*",
    ])
    (replay_file,) = (pytester.path / ".tracebench" / "traces").glob("*.replay.jsonl")
    divergence = json.loads(replay_file.read_text().splitlines()[1])
    assert divergence["name"] == "replay_divergence"
    assert '-  "query": "timeout"' in divergence["meta"]["replay"]["diff"]
    assert '+  "query": "retry"' in divergence["meta"]["replay"]["diff"]


def test_replay_modes_once_and_new_episodes(pytester: pytest.Pytester,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_agent=AGENT)
    # once, with no recording yet: records.
    pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=once").assert_outcomes(
        passed=1)
    monkeypatch.setenv("TOOLS_RAISE", "1")
    # once, with a recording: replays (the raising tools are never called).
    pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=once").assert_outcomes(
        passed=1)
    # new_episodes: a new query is executed (and raises here), recorded calls replay.
    monkeypatch.setenv("QUERY", "retry")
    result = pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=new_episodes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: the real tool was called*"])
    bad = pytester.runpytest_subprocess("--tracebench", "--tracebench-replay=sometimes")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_apply_unified_diff() -> None:
    old = "a\nb\nc\nd\n"
    diff = "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n"
    assert apply_unified_diff(old, diff) == "a\nb\nC\nd\n"
    with pytest.raises(ValueError, match="does not match"):
        apply_unified_diff("a\nx\nc\n", diff)


def test_rerun_reproduces_a_recorded_benchmark_run_and_spots_a_change(tmp_path: Path) -> None:
    task = REPO / "benchmarks" / "tasks" / "api_timeout"
    workspace = tmp_path / "ws"
    shutil.copytree(task / "repo", workspace)
    from pytest_tracebench.agents.repair import RepairAgent

    trace_path = tmp_path / "run.jsonl"
    rec = TraceRecorder(trace_path, task="api_timeout")
    assert RepairAgent(sandbox="local").solve((task / "issue.md").read_text(), workspace, rec)
    rec.end()
    same = tb("rerun", str(trace_path), "--workspace", str(task / "repo"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "reproduced" in same.stdout
    changed = tmp_path / "changed"
    shutil.copytree(task / "repo", changed)
    tests = changed / "tests" / "test_client.py"
    tests.write_text(tests.read_text().replace("flaky_server(2)", "flaky_server(9)"))
    different = tb("rerun", str(trace_path), "--workspace", str(changed))
    assert different.returncode == 1
    assert "test failed differs: recorded 0, now 1" in different.stdout
    assert "difference(s)" in different.stdout


WRITER = """
import sys, time
from pytest_tracebench import TraceRecorder
rec = TraceRecorder(sys.argv[1], task="live")
for i in range(5):
    rec.command(f"step-{i}", exit_code=0, stdout=str(i))
    time.sleep(0.3)
rec.end()
"""


def test_follow_shows_steps_appended_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        follower = subprocess.Popen(
            [sys.executable, "-m", "pytest_tracebench", "replay", str(path), "--follow",
             "--timeout", "30"], stdout=subprocess.PIPE, text=True)
        first = ""
        while "ACTION: step-0" not in first:
            line = follower.stdout.readline()  # type: ignore[union-attr]
            assert line, "follower ended early"
            first += line
        assert writer.poll() is None  # seen while the writer is still writing
        # Not communicate(timeout=...): it reads the pipe underneath the text buffer, and
        # loses what readline() had already buffered (the steps printed with step 0).
        rest = follower.stdout.read()  # type: ignore[union-attr]
        follower.wait(timeout=60)
    finally:
        writer.wait(timeout=60)
    text = first + rest
    assert [f"ACTION: step-{i}  [command #{i + 1}]" in text for i in range(5)] == [True] * 5
    assert "=== run ended: completed ===" in text


def _read_until(fd: int, needle: str, timeout: float = 30) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"timed out waiting for {needle!r}; screen: {seen[-500:]!r}")
        seen += os.read(fd, 4096).decode(errors="replace")
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_interactive_mode_under_a_pseudo_terminal(seed_trace_path: Path) -> None:
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pytest_tracebench", "replay", "-i",
                             str(seed_trace_path)], stdin=secondary, stdout=secondary,
                            stderr=secondary, close_fds=True)
    os.close(secondary)
    try:
        _read_until(main, "[1/8] > ")
        os.write(main, b"n\n")
        assert "ACTION: generate_fix" in _read_until(main, "[2/8] > ")
        os.write(main, b"j 7\n")
        assert "ACTION: retry_fix" in _read_until(main, "[7/8] > ")
        os.write(main, b"p\n")
        assert "ACTION: run_tests" in _read_until(main, "[6/8] > ")
        os.write(main, b"/final\n")
        assert "ACTION: final_answer" in _read_until(main, "[8/8] > ")
        os.write(main, b"q\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    # Not a terminal: the same command prints plainly.
    plain = tb("replay", "-i", str(seed_trace_path))
    assert plain.stdout.startswith("=== Replaying Trace ===")


def test_replay_memory_does_not_grow_with_the_trace(tmp_path: Path) -> None:
    import tracemalloc

    from pytest_tracebench.replay.viewer import Filters, replay_print

    class Sink:
        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            pass

    peaks = {}
    for steps in (1_000, 10_000):
        path = tmp_path / f"{steps}.jsonl"
        rec = TraceRecorder(path, redact=False)
        for i in range(steps):
            rec.command(f"echo {i}", exit_code=0, stdout="x" * 200)
        rec.end()
        tracemalloc.start()
        replay_print(Replayer(path), Sink(), keep=Filters())  # type: ignore[arg-type]
        peaks[steps] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[10_000] < 2 * peaks[1_000]  # streamed: 10x the steps, not 10x the memory


def _follow_in_thread(path: Path, timeout: float = 15) -> tuple[Any, io.StringIO]:
    from pytest_tracebench.replay.viewer import follow

    out = io.StringIO()
    thread = threading.Thread(target=follow, args=(path, out),
                              kwargs={"keep": lambda step: True, "poll": 0.05,
                                      "timeout": timeout}, daemon=True)
    thread.start()
    return thread, out


def _wait_for(out: io.StringIO, needle: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while needle not in out.getvalue():
        assert time.monotonic() < deadline, f"{needle!r} never shown: {out.getvalue()[-500:]}"
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["truncated", "replaced"])
def test_follow_notices_a_trace_rewritten_by_a_rerun(tmp_path: Path, how: str) -> None:
    # A re-run of the same test writes the same path again (truncated, or a new file put in
    # its place): follow it from its start, not from where the old one ended.
    path = tmp_path / "live.jsonl"
    old = TraceRecorder(path, task="first run")
    for i in range(4):
        old.command(f"old-{i}", exit_code=0, stdout=str(i))
    thread, out = _follow_in_thread(path)
    _wait_for(out, "ACTION: old-3")
    target = path if how == "truncated" else tmp_path / "next.jsonl"
    new = TraceRecorder(target, task="second run")
    for i in range(6):  # more than the old run: the file is longer than where we were
        new.command(f"new-{i}", exit_code=0, stdout=str(i))
    new.end()
    if how == "replaced":
        os.replace(target, path)
    thread.join(timeout=30)
    text = out.getvalue()
    assert "=== the trace was rewritten; following the new run ===" in text
    assert [f"ACTION: new-{i}  [command #{i + 1}]" in text for i in range(6)] == [True] * 6
    assert text.rstrip().endswith("=== run ended: completed ===")
    assert "no new step" not in text


def test_follow_refuses_a_line_that_never_ends(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_tracebench import TraceLoadError
    from pytest_tracebench.replay.viewer import follow

    monkeypatch.setenv("TRACEBENCH_MAX_LINE_MB", "1")
    path = tmp_path / "live.jsonl"
    rec = TraceRecorder(path, task="t")
    rec.command("ls", exit_code=0, stdout="x")
    with path.open("a") as fh:
        fh.write('{"type": "step", "index": 1, "kind": "tool", "name": "' + "y" * 1_100_000)
    with pytest.raises(TraceLoadError) as err:
        follow(path, io.StringIO(), keep=lambda step: True, poll=0.01, timeout=5)
    assert str(err.value) == (f"{path}:3: line longer than 1 MiB; a trace line holds one "
                              "step; raise TRACEBENCH_MAX_LINE_MB to read it")


def test_replay_of_an_inspect_eval_zip_prints_its_steps() -> None:
    # A zip is binary to the JSON Lines reader; it said "binary file" instead of importing it.
    path = REPO / "tests" / "data" / "native" / "inspect_ai" / "inspect_ai__log_formats.eval"
    for extra in ([], ["--no-findings"]):
        result = tb("replay", *extra, str(path))
        assert result.returncode == 0, result.stderr
        assert "ACTION: " in result.stdout
