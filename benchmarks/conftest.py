"""Shared fixtures of the benchmark suite: fresh task workspaces and their hidden tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TASKS = Path(__file__).parent / "tasks"

# Task repositories hold their own tests (visible and hidden): they run inside workspaces,
# never as part of this suite.
collect_ignore = ["tasks"]


@dataclass
class Workspace:
    name: str
    path: Path
    issue: str
    hidden: Path

    def hidden_tests(self) -> subprocess.CompletedProcess[str]:
        """Run the hidden tests (which the agent never saw) against the workspace."""
        target = self.path / "_hidden"
        shutil.copytree(self.hidden, target, dirs_exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
             "no:tracebench", "_hidden"],
            cwd=self.path, capture_output=True, text=True, timeout=120,
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[[str], Workspace]:
    def make(name: str) -> Workspace:
        task = TASKS / name
        dest = tmp_path / name
        shutil.copytree(task / "repo", dest)
        return Workspace(name, dest, (task / "issue.md").read_text(), task / "hidden")

    return make
