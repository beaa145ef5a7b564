"""A small offline repair agent used by the example benchmark until the full agents land.

It does what a cautious agent does, for real: reads the code, runs the visible tests in a
subprocess, tries candidate edits (integer constants near the failure), re-runs the tests after
each, keeps an edit that makes them pass and reverts the others, then submits the diff. Every
action goes through the ``trace`` recorder, so its loops and failed attempts are visible.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

from pytest_tracebench import TraceRecorder

_SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")
_FAILED_ID = re.compile(r"^FAILED (\S+)", re.M)


def run_tests(workspace: Path, trace: TraceRecorder, *paths: str) -> bool:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
               "no:tracebench", "-rf", *paths]
    proc = subprocess.run(command, cwd=workspace, capture_output=True, text=True, timeout=120)
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for number, word in _SUMMARY.findall(proc.stdout):
        counts["errors" if word.startswith("error") else word] += int(number)
    trace.test_run(**counts, failing=_FAILED_ID.findall(proc.stdout),
                   command=" ".join(["pytest", "-q", *paths]), exit_code=proc.returncode,
                   output=proc.stdout[-2000:])
    return proc.returncode == 0


def _candidates(start: int, issue: str, use_issue_hints: bool) -> list[int]:
    """Values to try for a constant: numbers the issue mentions first, then counting up."""
    hinted = [int(n) for n in re.findall(r"\b(\d+)\b", issue)] if use_issue_hints else []
    rest = [v for v in range(start + 1, 99) if v not in hinted]
    return [v for v in hinted if v != start] + rest


def solve(issue: str, workspace: Path, trace: TraceRecorder, max_attempts: int = 6,
          use_issue_hints: bool = True) -> bool:
    trace.set_agent("example-repair-agent", model=None)
    trace.set_task(description=issue.strip())
    trace.message(f"Plan: reproduce with the visible tests, then fix. Issue: {issue.strip()}")
    sources = sorted(p for p in workspace.glob("*.py"))
    for path in sources:
        trace.read(path.relative_to(workspace), content=path.read_text())
    if run_tests(workspace, trace, "tests"):
        trace.message("The visible tests already pass; nothing to fix.")
        trace.submit("")
        return True
    for path in sources:
        original = path.read_text()
        for match in list(re.finditer(r"^([A-Z_]+) = (\d+)$", original, re.M))[:1]:
            values = _candidates(int(match.group(2)), issue, use_issue_hints)
            for attempt, value in enumerate(values):
                if attempt >= max_attempts:
                    break
                changed = original[: match.start(2)] + str(value) + original[match.end(2):]
                path.write_text(changed)
                diff = "".join(difflib.unified_diff(
                    original.splitlines(True), changed.splitlines(True),
                    f"a/{path.name}", f"b/{path.name}"))
                trace.edit(path.relative_to(workspace), diff=diff)
                if run_tests(workspace, trace, "tests"):
                    trace.message(f"Set {match.group(1)} = {value}; the visible tests pass.")
                    trace.submit(diff)
                    return True
            path.write_text(original)
            trace.edit(path.relative_to(workspace), content=original, name="revert")
    trace.message("I could not find a fix within my attempt budget.")
    trace.submit("")
    return False
