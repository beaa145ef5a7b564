"""The benchmark: every task under tasks/, once per agent (--tracebench-agent), recorded.

Each task is a small repository with a bug or a missing feature, an issue text, visible tests
the agent may run and hidden tests it never sees. The agent works in a fresh copy; the hidden
tests decide whether it solved the task, and TraceBench judges how it went about it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TASKS = sorted(p.name for p in (Path(__file__).parent / "tasks").iterdir() if p.is_dir())


@pytest.mark.parametrize("task", TASKS)
def test_task(task, trace, agent, workspace):
    ws = workspace(task)
    trace.set_task(id=task, name=task)
    agent.solve(ws.issue, ws.path, trace)
    hidden = ws.hidden_tests()
    assert hidden.returncode == 0, hidden.stdout[-2000:]
