"""The built-in importers, registered through the public ``tracebench_importers`` hook."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl
from .aider import AiderImporter
from .atif import AtifImporter
from .autocoderover import AutoCodeRoverImporter
from .claude_code import ClaudeCodeSessionImporter, ClaudeCodeStreamImporter
from .codex import CodexImporter
from .codex_exec import CodexExecImporter
from .gemini_cli import GeminiCliImporter
from .inspect_ai import InspectImporter
from .mini_swe_agent import MiniSweAgentImporter
from .native import TracebenchImporter
from .openhands import OpenHandsImporter
from .openhands_completions import OpenHandsCompletionsImporter
from .otel import OtelImporter
from .span_export import LaminarExportImporter
from .swe_agent import SweAgentImporter
from .terminal_bench import TerminalBenchImporter


@hookimpl
def tracebench_importers() -> list[Any]:
    return [
        TracebenchImporter(),
        MiniSweAgentImporter(),
        AtifImporter(),
        ClaudeCodeStreamImporter(),
        ClaudeCodeSessionImporter(),
        SweAgentImporter(),
        OpenHandsImporter(),
        OpenHandsCompletionsImporter(),
        InspectImporter(),
        OtelImporter(),
        CodexImporter(),
        CodexExecImporter(),
        GeminiCliImporter(),
        AiderImporter(),
        AutoCodeRoverImporter(),
        TerminalBenchImporter(),
        LaminarExportImporter(),
    ]
