"""The example benchmark: an agent solves a task while `trace` records what it does."""

from __future__ import annotations

import pytest
from example_agent import solve


@pytest.mark.tracebench(task="api_timeout")
def test_fix_api_timeout(trace, workspace):
    ws = workspace("api_timeout")
    solve(ws.issue, ws.path, trace=trace)
    hidden = ws.hidden_tests()
    assert hidden.returncode == 0, hidden.stdout[-2000:]


@pytest.mark.tracebench(task="api_timeout_no_hints")
def test_fix_api_timeout_without_reading_the_issue(trace, workspace):
    """Without the issue's hint the agent stops at the first value that passes the visible
    tests: an incomplete fix that only the hidden tests reveal."""
    ws = workspace("api_timeout")
    solve(ws.issue, ws.path, trace=trace, use_issue_hints=False)
    hidden = ws.hidden_tests()
    assert hidden.returncode == 0, hidden.stdout[-2000:]
