"""Agents behind one small protocol: ``solve(issue, workspace, trace) -> bool``.

Built-in: ``repair``, a search-based program-repair agent that needs no model. Choose agents
with ``--tracebench-agent=NAME`` or ``module:factory`` (repeatable: the suite runs once per
agent); a test receives the agent through the ``agent`` fixture.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from pytest_tracebench.record.recorder import TraceRecorder


class Agent(Protocol):
    name: str

    def solve(self, issue: str, workspace: Path, trace: TraceRecorder) -> bool:
        """Work on ``issue`` in ``workspace``, recording through ``trace``; True when the agent
        believes it solved it (the hidden tests decide)."""
        ...


BUILTIN = {"repair": "pytest_tracebench.agents.repair:RepairAgent",
           "llm": "pytest_tracebench.agents.llm:LLMAgent",
           "command": "pytest_tracebench.agents.command:CommandAgent"}


class AgentLoadError(Exception):
    """An agent name that cannot be loaded."""


def load_agent(spec: str) -> Any:
    """An agent from a built-in name or ``module:factory``."""
    target = BUILTIN.get(spec, spec)
    module_name, sep, factory = target.partition(":")
    if not sep:
        raise AgentLoadError(f"unknown agent {spec!r}; built-in: {', '.join(sorted(BUILTIN))}, "
                             f"or module:factory")
    try:
        module = importlib.import_module(module_name)
        agent = getattr(module, factory)()
    except (ImportError, AttributeError, TypeError) as exc:
        raise AgentLoadError(f"cannot load agent {spec!r}: {exc}") from None
    if not callable(getattr(agent, "solve", None)):
        raise AgentLoadError(f"agent {spec!r} has no solve(issue, workspace, trace) method")
    return agent
