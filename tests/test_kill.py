"""A recording process killed with SIGKILL leaves a loadable trace with every finished step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_tracebench import load_trace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

AGENT = textwrap.dedent(
    """
    import sys, time
    from pytest_tracebench import TraceRecorder

    rec = TraceRecorder(sys.argv[1], task="killed-task", agent="doomed")
    for i in range(25):
        rec.command(f"step {i}", exit_code=0, stdout="out %d" % i)
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_leaves_a_loadable_trace(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", AGENT, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    trace = load_trace(path)
    assert [s.input["command"] for s in trace.steps] == [f"step {i}" for i in range(25)]
    assert trace.end is None
    assert trace.warnings == [f"{path}: no end record: the run was aborted after 25 step(s)"]


def test_pytest_killed_mid_session_leaves_finished_traces_and_the_running_one(
        tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(textwrap.dedent("""
        import sys, time

        def test_a_first(trace):
            for i in range(10):
                trace.command(f"a {i}", exit_code=0)

        def test_b_hangs(trace):
            for i in range(7):
                trace.command(f"b {i}", exit_code=0)
            print("ready", file=sys.__stdout__, flush=True)
            time.sleep(60)
    """))
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                             "--tracebench", "--tracebench-dir=tb"], cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "ready" in line:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    traces = {p.name.split("-")[0]: load_trace(p) for p in (tmp_path / "tb" / "traces").glob(
        "*.jsonl")}
    first = traces["test_suite.py__test_a_first"]
    assert first.end is not None and len(first.steps) == 10
    hung = traces["test_suite.py__test_b_hangs"]
    assert hung.end is None
    assert [s.input["command"] for s in hung.steps] == [  # type: ignore[index]
        f"b {i}" for i in range(7)]
