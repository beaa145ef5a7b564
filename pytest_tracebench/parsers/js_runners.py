"""Output of the JavaScript test runners: Jest, Vitest and Mocha, and the failure lines npm,
pnpm and yarn print when a test script fails.

Same pattern rules as :mod:`.python_runners` (anchored, line-bound, no overlapping repeats).
"""

from __future__ import annotations

import re

from pytest_tracebench.parsers.results import TestResult, unique

# Jest: "Tests:       1 failed, 5 passed, 6 total" (and "Test Suites: 1 failed, 1 total").
_JEST_TESTS = re.compile(r"^Tests:[ \t]+((?:\d+ [a-z]+(?:, |[ \t]*$))+)", re.M)
_JEST_SUITES = re.compile(r"^Test Suites:[ \t]+((?:\d+ [a-z]+(?:, |[ \t]*$))+)", re.M)
_JEST_FAILED = re.compile(r"^[ \t]*\u25cf ([^\n]+)$", re.M)  # "  ● describe \u203a test"
_JEST_NOT_TESTS = ("Console", "Test suite failed to run")

# Vitest: "      Tests  1 failed | 6 passed (7)", "      Errors  1 error", and a
# " FAIL  [project]  src/x.test.ts > describe > test" line per failure.
_VITEST_TESTS = re.compile(r"^[ \t]*Tests[ \t]+((?:\d+ [a-z]+(?: \| |[ \t]+))+)\(\d+\)", re.M)
_VITEST_ERRORS = re.compile(r"^[ \t]*Errors[ \t]+(\d+) errors?", re.M)
_VITEST_FAILED = re.compile(r"^[ \t]*FAIL[ \t]+(\S[^\n]*)$", re.M)

# Mocha's epilogue: "  3 passing (12ms)", "  1 pending", "  2 failing", then each failure as
# "  1) suite\n       nested\n         test title:" (the title may span several lines).
_MOCHA_PASSING = re.compile(r"^[ \t]*(\d+) passing \(\d", re.M)
_MOCHA_FAILING = re.compile(r"^[ \t]*(\d+) failing[ \t]*$", re.M)
_MOCHA_PENDING = re.compile(r"^[ \t]*(\d+) pending[ \t]*$", re.M)
_MOCHA_TITLE = re.compile(r"^[ \t]+\d+\) ([^\n]+)$", re.M)

# "npm ERR! Test failed.", "npm error code 1", pnpm's " ELIFECYCLE  Test failed." (with thin
# spaces), yarn's "error Command failed with exit code 1."
_NPM_FAILED = re.compile(
    r"^(?:npm ERR! (?:Test failed|code ELIFECYCLE)|npm error code \d|[^\S\n]*ELIFECYCLE"
    r"[^\S\n]+Test failed|error Command failed with exit code \d)", re.M)


def _counts(summary: str, separator: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in summary.split(separator):
        number, _, word = item.strip().partition(" ")
        if number.isdigit():
            counts[word] = counts.get(word, 0) + int(number)
    return counts


def parse_jest(text: str) -> TestResult | None:
    """Jest's ``Tests:`` line of each run; a suite that failed to run (``Test Suites: 1
    failed`` with no failed test) is an error."""
    if "Tests:" not in text:
        return None
    runs = list(_JEST_TESTS.finditer(text))
    if not runs:
        return None
    result = TestResult("jest")
    for run in runs:
        counts = _counts(run.group(1), ",")
        result.passed += counts.get("passed", 0)
        result.failed += counts.get("failed", 0)
        result.skipped += counts.get("skipped", 0) + counts.get("todo", 0)
    suites_failed = sum(_counts(m.group(1), ",").get("failed", 0)
                        for m in _JEST_SUITES.finditer(text))
    if suites_failed and not result.failed:
        result.errors += suites_failed
    result.failing = unique(m.group(1).strip() for m in _JEST_FAILED.finditer(text)
                            if not m.group(1).startswith(_JEST_NOT_TESTS))
    return result


def parse_vitest(text: str) -> TestResult | None:
    """Vitest's ``Tests`` line of each run; ids ``file > describe > test`` from the ``FAIL``
    lines (a workspace project's label before the file is left out)."""
    if "Tests" not in text:
        return None
    runs = list(_VITEST_TESTS.finditer(text))
    if not runs:
        return None
    result = TestResult("vitest")
    for run in runs:
        counts = _counts(run.group(1), "|")
        result.passed += counts.get("passed", 0)
        result.failed += counts.get("failed", 0)
        result.skipped += counts.get("skipped", 0) + counts.get("todo", 0)
    result.errors += sum(int(m.group(1)) for m in _VITEST_ERRORS.finditer(text))
    ids = []
    for match in _VITEST_FAILED.finditer(text):
        where, sep, test = match.group(1).strip().partition(" > ")
        if sep:
            ids.append(f"{where.split()[-1]} > {test}")
    result.failing = unique(ids)
    return result


def parse_mocha(text: str) -> TestResult | None:
    """Mocha's ``N passing`` / ``N failing`` / ``N pending``; each failure's full title from
    the numbered list after ``N failing``."""
    if "passing (" not in text:
        return None
    passing = _MOCHA_PASSING.search(text)
    if not passing:
        return None
    result = TestResult("mocha", passed=int(passing.group(1)))
    pending = _MOCHA_PENDING.search(text, passing.end())
    if pending:
        result.skipped = int(pending.group(1))
    failing = _MOCHA_FAILING.search(text, passing.end())
    if failing:
        result.failed = int(failing.group(1))
        result.failing = unique(_mocha_titles(text, failing.end()))
    return result


def _mocha_titles(text: str, start: int) -> list[str]:
    """``1) suite`` / ``nested`` / ``test title:`` joined as ``suite nested test title``."""
    titles = []
    for match in _MOCHA_TITLE.finditer(text, start):
        parts = [match.group(1).strip()]
        position = match.end() + 1
        for _ in range(8):  # a title spans at most a few lines, each ending the last with ":"
            if parts[-1].endswith(":") or position >= len(text):
                break
            end = text.find("\n", position)
            end = len(text) if end < 0 else end
            parts.append(text[position:end].strip())
            position = end + 1
        if parts[-1].endswith(":"):
            titles.append(" ".join(p for p in parts if p)[:-1])
    return titles


def npm_failed(text: str) -> bool | None:
    """True when npm, pnpm or yarn reported the test script failed; None otherwise (their
    success prints nothing of its own)."""
    if "npm" not in text and "ELIFECYCLE" not in text and "Command failed" not in text:
        return None
    return True if _NPM_FAILED.search(text) else None
