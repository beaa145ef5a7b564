"""Parsers shared by importers and detectors: shell commands and test-runner output."""

from __future__ import annotations

from .commands import CommandInfo, FileEdit, classify_command, split_segments
from .test_output import TestResult, parse_test_output

__all__ = [
    "CommandInfo",
    "FileEdit",
    "TestResult",
    "classify_command",
    "parse_test_output",
    "split_segments",
]
