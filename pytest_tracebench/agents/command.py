"""Benchmark an external agent (mini-swe-agent, Claude Code, ...): run its command in the
workspace, then import the trajectory it wrote into the test's trace.

Configured by ``TRACEBENCH_AGENT_COMMAND`` (the command; ``{issue_file}``, ``{workspace}`` and
``{trajectory}`` are filled in, and the issue text is also in ``$TRACEBENCH_ISSUE``) and
``TRACEBENCH_AGENT_TRAJECTORY`` (where the agent writes its trajectory, relative to the
workspace; default ``trajectory.json``). The trajectory goes through the importers, so every
format TraceBench reads works; its steps are replayed into the trace with ``meta.imported``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from pytest_tracebench.importers import import_path
from pytest_tracebench.record.recorder import TraceRecorder
from pytest_tracebench.record.trace_file import TraceLoadError


class CommandAgent:
    name = "command"

    def __init__(self, command: str | None = None, trajectory: str | None = None,
                 timeout: float = 3600.0) -> None:
        self.command = command or os.environ.get("TRACEBENCH_AGENT_COMMAND", "")
        self.trajectory = trajectory or os.environ.get("TRACEBENCH_AGENT_TRAJECTORY",
                                                       "trajectory.json")
        self.timeout = timeout

    def solve(self, issue: str, workspace: Path, trace: TraceRecorder) -> bool:
        if not self.command:
            trace.error("no agent command: set TRACEBENCH_AGENT_COMMAND", name="agent_config")
            return False
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as fh:
            fh.write(issue)
            issue_file = fh.name
        trajectory = workspace / self.trajectory
        command = self.command.format(issue_file=shlex.quote(issue_file),
                                      workspace=shlex.quote(str(workspace)),
                                      trajectory=shlex.quote(str(trajectory)))
        env = dict(os.environ, TRACEBENCH_ISSUE=issue)
        try:
            proc = subprocess.run(command, shell=True, cwd=workspace, capture_output=True,
                                  text=True, timeout=self.timeout, env=env, errors="replace")
            code, timed_out = proc.returncode, False
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
        finally:
            os.unlink(issue_file)
        try:
            imported = import_path(trajectory)[0]
        except TraceLoadError as exc:
            trace.error(f"the agent wrote no readable trajectory: {exc}", name="agent_output")
            return False
        agent = imported.header.agent
        trace.set_agent(agent.name, model=agent.model, version=agent.version,
                        via="command")
        for step in imported.steps:
            trace.step(step.kind, step.name, input=step.input, output=step.output,
                       error=step.error, started_at=step.started_at, ended_at=step.ended_at,
                       meta={**step.meta, "imported": imported.header.source.format})
        if timed_out:
            trace.error(f"the agent command timed out after {self.timeout:g} s",
                        name="agent_timeout")
        return code == 0 and not timed_out
