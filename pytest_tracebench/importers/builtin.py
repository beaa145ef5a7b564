"""The built-in importers, registered through the public ``tracebench_importers`` hook."""

from __future__ import annotations

from typing import Any

from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.importers.aider import AiderImporter
from pytest_tracebench.importers.atif import AtifImporter
from pytest_tracebench.importers.autocoderover import AutoCodeRoverImporter
from pytest_tracebench.importers.claude_code import (
    ClaudeCodeSessionImporter,
    ClaudeCodeStreamImporter,
)
from pytest_tracebench.importers.codex import CodexImporter
from pytest_tracebench.importers.codex_exec import CodexExecImporter
from pytest_tracebench.importers.gemini_cli import GeminiCliImporter
from pytest_tracebench.importers.inspect_ai import InspectImporter
from pytest_tracebench.importers.mini_swe_agent import MiniSweAgentImporter
from pytest_tracebench.importers.openhands import OpenHandsImporter
from pytest_tracebench.importers.openhands_completions import OpenHandsCompletionsImporter
from pytest_tracebench.importers.otel import OtelImporter
from pytest_tracebench.importers.span_export import LaminarExportImporter
from pytest_tracebench.importers.swe_agent import SweAgentImporter
from pytest_tracebench.importers.terminal_bench import TerminalBenchImporter
from pytest_tracebench.importers.tracebench import TracebenchImporter


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
