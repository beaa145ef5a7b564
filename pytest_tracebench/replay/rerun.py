"""Re-execution replay: run a recorded run's commands and edits again in a fresh workspace and
report which observations differ, as a reproducibility check.

The workspace is copied to a temporary directory first, so the original is never touched. Edits
are applied from what the trace holds (whole content, an old/new replacement, or a unified
diff); commands and test runs are executed through the shell in the copy (with the running
Python's ``bin`` directory first on ``PATH``); reads are compared with the file's content.
Outputs are compared after masking what varies between runs (durations, ids, temp paths);
test runs are compared by their counts and failing ids.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_tracebench.models import Step, Trace
from pytest_tracebench.parsers import parse_test_output
from pytest_tracebench.text import normalise

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Difference:
    step: int
    kind: str
    name: str
    what: str
    expected: Any
    actual: Any


@dataclass
class RerunReport:
    workspace: Path
    replayed: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def apply_unified_diff(text: str, diff: str) -> str:
    """Apply a single-file unified diff to ``text``; raises ValueError if it does not apply."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    diff_lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(diff_lines):
        match = _HUNK.match(diff_lines[i])
        if not match:
            i += 1
            continue
        start = int(match.group(1)) - 1 if int(match.group(2) or 1) else int(match.group(1))
        out.extend(lines[position:start])
        position = start
        i += 1
        while i < len(diff_lines) and not diff_lines[i].startswith("@@"):
            line = diff_lines[i]
            tag, body = line[:1], line[1:]
            if tag == " ":
                if position >= len(lines) or lines[position].rstrip("\n") != body.rstrip("\n"):
                    raise ValueError(f"context does not match at line {position + 1}")
                out.append(lines[position])
                position += 1
            elif tag == "-":
                if position >= len(lines) or lines[position].rstrip("\n") != body.rstrip("\n"):
                    raise ValueError(f"removed line does not match at line {position + 1}")
                position += 1
            elif tag == "+":
                out.append(body)
            elif line.startswith("\\"):
                pass  # "\ No newline at end of file"
            i += 1
    out.extend(lines[position:])
    return "".join(out)


def _resolve(workspace: Path, path: str) -> Path | None:
    """The file in the copy; absolute recorded paths are tried by their tail."""
    candidate = Path(path)
    if not candidate.is_absolute():
        resolved = (workspace / candidate).resolve()
        return resolved if resolved.is_relative_to(workspace.resolve()) else None
    parts = candidate.parts[1:]
    for start in range(len(parts)):
        guess = workspace.joinpath(*parts[start:])
        if guess.exists():
            return guess
    return None


def _apply_edit(workspace: Path, step: Step) -> str | None:
    """Apply a recorded edit; returns why it could not be applied, or ``None``."""
    inp = step.input if isinstance(step.input, dict) else {}
    path = inp.get("path")
    if not isinstance(path, str):
        return "no path"
    target = _resolve(workspace, path)
    if target is None:
        return f"{path} is outside the workspace"
    try:
        if isinstance(inp.get("content"), str):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(inp["content"])
        elif isinstance(inp.get("old"), str) and isinstance(inp.get("new"), str):
            text = target.read_text()
            if inp["old"] not in text:
                return f"{path}: the text to replace is not there"
            target.write_text(text.replace(inp["old"], inp["new"], 1))
        elif isinstance(inp.get("diff"), str):
            target.write_text(apply_unified_diff(target.read_text(), inp["diff"]))
        elif isinstance(inp.get("command"), str):
            return "shell"  # an edit done by a command: run it as one
        else:
            return "nothing to apply"
    except (OSError, ValueError) as exc:
        return f"{path}: {exc}"
    return None


def _run(command: str, workspace: Path, timeout: float) -> tuple[int | None, str]:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    try:
        proc = subprocess.run(command, shell=True, cwd=workspace, capture_output=True,
                              text=True, timeout=timeout, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout + proc.stderr


def _compare_test(step: Step, code: int | None, output: str) -> list[tuple[str, Any, Any]]:
    recorded = step.output if isinstance(step.output, dict) else {}
    now = parse_test_output(output)
    got = {"ok": (code == 0) if now is None else now.ok,
           "failed": None if now is None else now.failed,
           "failing": [] if now is None else sorted(now.failing)}
    want = {"ok": recorded.get("ok"), "failed": recorded.get("failed"),
            "failing": sorted(recorded.get("failing") or [])}
    diffs = []
    for key in ("ok", "failed", "failing"):
        if want[key] is None or (key == "failed" and got[key] is None):
            continue
        if want[key] != got[key]:
            diffs.append((f"test {key}", want[key], got[key]))
    return diffs


def rerun(trace: Trace, workspace: Path, *, timeout: float = 300.0,
          keep: bool = False) -> RerunReport:
    """Re-execute ``trace`` in a copy of ``workspace``."""
    base = Path(tempfile.mkdtemp(prefix="tracebench-rerun-"))
    copy = base / "workspace"
    shutil.copytree(workspace, copy, symlinks=True)
    report = RerunReport(workspace=copy)
    try:
        for step in trace.steps:
            inp = step.input if isinstance(step.input, dict) else {}
            if step.kind == "edit":
                why = _apply_edit(copy, step)
                if why == "shell":
                    code, _ = _run(inp["command"], copy, timeout)
                    report.replayed += 1
                    continue
                if why is not None:
                    report.differences.append(Difference(step.index, step.kind, step.name,
                                                         "edit could not be applied", None,
                                                         why))
                else:
                    report.replayed += 1
            elif step.kind in ("command", "test") and isinstance(inp.get("command"), str):
                code, output = _run(inp["command"], copy, timeout)
                report.replayed += 1
                if step.kind == "test":
                    for what, want, got in _compare_test(step, code, output):
                        report.differences.append(Difference(step.index, step.kind,
                                                             step.name, what, want, got))
                    continue
                recorded = step.output if isinstance(step.output, dict) else {}
                if recorded.get("exit_code") is not None and recorded.get("exit_code") != code:
                    report.differences.append(Difference(step.index, step.kind, step.name,
                                                         "exit code", recorded.get("exit_code"),
                                                         code))
                want = normalise(str(recorded.get("stdout", "")) + str(recorded.get("stderr",
                                                                                   "")))
                if want and want != normalise(output):
                    report.differences.append(Difference(step.index, step.kind, step.name,
                                                         "output", want[:300],
                                                         normalise(output)[:300]))
            elif step.kind == "read" and isinstance(inp.get("path"), str) and \
                    isinstance(step.output, str):
                target = _resolve(copy, inp["path"])
                if target is None or not target.is_file():
                    report.skipped.append((step.index, f"{inp['path']} not found"))
                    continue
                report.replayed += 1
                if normalise(target.read_text(errors="replace")) != normalise(step.output):
                    report.differences.append(Difference(step.index, step.kind, step.name,
                                                         "file content", step.output[:300],
                                                         target.read_text()[:300]))
            elif step.kind in ("tool", "llm", "submit"):
                report.skipped.append((step.index, f"{step.kind} steps are not re-executed"))
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return report
