"""The built-in importers, registered through the public ``tracebench_importers`` hook."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl
from .atif import AtifImporter
from .claude_code import ClaudeCodeSessionImporter, ClaudeCodeStreamImporter
from .mini_swe_agent import MiniSweAgentImporter
from .native import TracebenchImporter


@hookimpl
def tracebench_importers() -> list[Any]:
    return [
        TracebenchImporter(),
        MiniSweAgentImporter(),
        AtifImporter(),
        ClaudeCodeStreamImporter(),
        ClaudeCodeSessionImporter(),
    ]
