"""Parsers shared by importers and detectors: shell commands and test-runner output."""

from __future__ import annotations

from pytest_tracebench.parsers.commands import (
    CommandInfo,
    FileEdit,
    classify_command,
    split_segments,
)
from pytest_tracebench.parsers.test_output import TestResult, parse_test_output

__all__ = [
    "CommandInfo",
    "FileEdit",
    "TestResult",
    "classify_command",
    "parse_test_output",
    "split_segments",
]
