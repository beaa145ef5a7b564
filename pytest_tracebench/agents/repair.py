"""A search-based program-repair agent: real repairs, no model.

It reproduces the failure with the visible tests, localises the fault from the failing tests'
tracebacks, generates candidate patches with mutation operators near the blamed lines (integer
constants, numbers named in the issue, comparison and boolean operators, ``not``, encoding
names, the order of a dict merge), runs the visible tests after each candidate, keeps a
candidate that reduces the failures and reverts one that does not, and stops when the tests
pass or its attempt budget is spent. Every command goes through the sandbox and every action
through the trace, so its loops, partial fixes and regressions are there to be found.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pytest_tracebench.agents.sandbox import environment_for_python, get_sandbox
from pytest_tracebench.parsers import parse_test_output
from pytest_tracebench.record.recorder import TraceRecorder

_FRAME = re.compile(r'File "([^"]+)", line (\d+)|^([\w/.-]+\.py):(\d+): ', re.M)
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_SWAPS = ((" < ", " <= "), (" <= ", " < "), (" > ", " >= "), (" >= ", " > "),
          (" == ", " != "), (" != ", " == "), (" and ", " or "), (" or ", " and "),
          ("not ", ""), ("'ascii'", "'utf-8'"), ('"ascii"', '"utf-8"'),
          ("'latin-1'", "'utf-8'"), ("errors='ignore'", "errors='strict'"))
_MERGE = re.compile(r"\{\*\*(\w+), \*\*(\w+)\}")


@dataclass
class Candidate:
    path: Path
    line: int
    text: str
    description: str


class RepairAgent:
    name = "repair"

    def __init__(self, max_attempts: int = 12, sandbox: str = "auto",
                 test_command: str = "python -m pytest -q -p no:cacheprovider tests") -> None:
        self.max_attempts = max_attempts
        self.sandbox = sandbox
        self.test_command = test_command

    def solve(self, issue: str, workspace: Path, trace: TraceRecorder) -> bool:
        trace.set_agent("repair-agent", model=None)
        trace.set_task(description=issue.strip())
        box = get_sandbox(workspace, self.sandbox, env=environment_for_python())
        trace.message("Plan: reproduce with the visible tests, localise from the tracebacks, "
                      "try small patches near the blamed lines, keep what helps.")
        result = box.run(self.test_command, trace=trace)
        failures = self._failures(result.stdout + result.stderr, result.exit_code)
        if failures == 0:
            trace.message("The visible tests already pass; nothing to change.")
            trace.submit("")
            return True
        suspects = self._localise(workspace, result.stdout + result.stderr)
        if not suspects:
            suspects = self._imported_by_tests(workspace, result.stdout)
        if not suspects:
            trace.message("No traceback points into the code; I cannot localise the fault.")
            trace.submit("")
            return False
        originals = {path: path.read_text() for path, _ in suspects}
        for path in originals:
            trace.read(path.relative_to(workspace), content=originals[path])
        attempts = 0
        for candidate in self._candidates(suspects, issue):
            if attempts >= self.max_attempts:
                break
            attempts += 1
            before = candidate.path.read_text()
            lines = before.splitlines(keepends=True)
            if candidate.line >= len(lines):
                continue
            lines[candidate.line] = candidate.text
            after = "".join(lines)
            if after == before:
                continue
            candidate.path.write_text(after)
            rel = candidate.path.relative_to(workspace)
            trace.edit(rel, diff="".join(difflib.unified_diff(
                before.splitlines(True), after.splitlines(True), f"a/{rel}", f"b/{rel}")))
            result = box.run(self.test_command, trace=trace)
            now = self._failures(result.stdout + result.stderr, result.exit_code)
            if now == 0:
                trace.message(f"{candidate.description}: the visible tests pass.")
                trace.submit(self._patch(workspace, originals))
                return True
            if now < failures:
                trace.message(f"{candidate.description}: {failures - now} fewer failure(s); "
                              f"keeping it.")
                failures = now
                continue
            candidate.path.write_text(before)
            trace.edit(rel, content=before, name="revert", op="revert")
        trace.message(f"I could not make the visible tests pass within {self.max_attempts} "
                      f"attempts; {failures} failure(s) remain.")
        trace.submit(self._patch(workspace, originals))
        return False

    @staticmethod
    def _failures(output: str, exit_code: int | None) -> int:
        parsed = parse_test_output(output)
        if parsed is not None:
            # A failed run with no failing test counted (tox or Maven failed, a verdict
            # without counts) is still one failure to fix.
            return parsed.failed + parsed.errors or (0 if parsed.ok else 1)
        return 0 if exit_code == 0 else 1

    @staticmethod
    def _localise(workspace: Path, output: str) -> list[tuple[Path, int]]:
        """(file, 0-based line) blamed by tracebacks, most blamed first, tests left out."""
        counts: Counter[tuple[Path, int]] = Counter()
        for match in _FRAME.finditer(output):
            name = match.group(1) or match.group(3)
            line = int(match.group(2) or match.group(4)) - 1
            path = (workspace / name).resolve() if not Path(name).is_absolute() else Path(name)
            try:
                rel = path.relative_to(workspace.resolve())
            except ValueError:
                continue
            if (rel.parts and (rel.parts[0] in ("tests", "_hidden") or rel.name.startswith(
                    "test_"))) or not path.is_file():
                continue
            counts[(path, line)] += 1
        return [key for key, _ in counts.most_common()]

    @staticmethod
    def _imported_by_tests(workspace: Path, output: str) -> list[tuple[Path, int]]:
        """When no frame points into the code (the assertion failed in the test itself), the
        modules the failing tests import, each searched from its top."""
        parsed = parse_test_output(output)
        suspects: list[tuple[Path, int]] = []
        for test_id in parsed.failing if parsed else []:
            test_file = workspace / test_id.split("::", 1)[0]
            if not test_file.is_file():
                continue
            for module in re.findall(r"^(?:from|import)\s+([\w.]+)", test_file.read_text(),
                                     re.M):
                path = workspace / (module.replace(".", "/") + ".py")
                if path.is_file() and (path, 0) not in suspects:
                    suspects.append((path, 0))
        return suspects

    @staticmethod
    def _candidates(suspects: list[tuple[Path, int]], issue: str) -> list[Candidate]:
        hinted = [n for n in _NUMBER.findall(issue)]
        out: list[Candidate] = []
        seen: set[tuple[Path, int, str]] = set()
        for path, blamed in suspects:
            lines = path.read_text().splitlines(keepends=True)
            # Lines near the blamed one, nearest first, and module-level constants.
            order = sorted(range(len(lines)), key=lambda i: (abs(i - blamed), i))
            constants = [i for i, line in enumerate(lines) if re.match(r"^[A-Z_]+ = ", line)]
            for index in constants + order[:12]:
                line = lines[index]
                if line.lstrip().startswith(("#", "def ", "class ", "import ", "from ")):
                    continue
                for variant, what in RepairAgent._mutations(line, hinted):
                    key = (path, index, variant)
                    if key not in seen and variant != line:
                        seen.add(key)
                        out.append(Candidate(path, index, variant,
                                             f"{what} at {path.name}:{index + 1}"))
        return out

    @staticmethod
    def _mutations(line: str, hinted: list[str]) -> list[tuple[str, str]]:
        variants: list[tuple[str, str]] = []
        for match in _NUMBER.finditer(line):
            value = int(match.group(1))
            for new in [*hinted, str(value + 1), str(value - 1)]:
                if new != match.group(1) and int(new) >= 0:
                    variants.append((line[:match.start()] + new + line[match.end():],
                                     f"constant {value} -> {new}"))
        for old, new in _SWAPS:
            if old in line:
                variants.append((line.replace(old, new, 1), f"`{old.strip()}` -> "
                                                            f"`{new.strip() or '(removed)'}`"))
        merge = _MERGE.search(line)
        if merge:
            variants.append((line[:merge.start()] + f"{{**{merge.group(2)}, **{merge.group(1)}}}"
                             + line[merge.end():], "merge order swapped"))
        return variants

    @staticmethod
    def _patch(workspace: Path, originals: dict[Path, str]) -> str:
        chunks: list[str] = []
        for path, before in originals.items():
            after = path.read_text()
            rel = path.relative_to(workspace)
            chunks.extend(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                               f"a/{rel}", f"b/{rel}"))
        return "".join(chunks)
