"""Parse the output of test runners into counts and failing test ids.

Used by importers (to turn a shell command's output into a ``test`` step) and by detectors (to
read test results wherever they appear). Each runner's format is recognised by its own summary
lines; when several appear (tox running pytest), the counts are summed over the summaries found.
Returns ``None`` when the text holds no recognisable test summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# pytest: "==== 2 failed, 10 passed, 1 skipped, 1 error in 0.52s ====" or the -q form.
_PYTEST_SUMMARY = re.compile(
    r"^(?:=+ )?((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?|"
    r"rerun)(?:, )?)+) in [\d.]+s(?: \([^)]*\))?(?: =+)?\s*$",
    re.M,
)
_PYTEST_NO_TESTS = re.compile(r"^(?:=+ )?no tests ran in [\d.]+s", re.M)
_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")
_PYTEST_FAILED_ID = re.compile(r"^(FAILED|ERROR) (\S+?)(?: - .*)?$", re.M)

# unittest / Django runtests: "Ran 12 tests in 0.004s" then "OK" or "FAILED (failures=1, ...)"
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in [\d.]+s", re.M)
_UNITTEST_RESULT = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)
_UNITTEST_FAILED_ID = re.compile(r"^(FAIL|ERROR): (\w+) \(([\w.]+)\)", re.M)

# go test
_GO_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+)", re.M)
_GO_PKG = re.compile(r"^(ok|FAIL)\s+\S+", re.M)

# cargo test: "test result: FAILED. 3 passed; 1 failed; 0 ignored; ..."
_CARGO_RESULT = re.compile(
    r"^test result: (ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored", re.M)
_CARGO_FAILED_ID = re.compile(r"^test (\S+) \.\.\. FAILED", re.M)

# jest / vitest: "Tests:       1 failed, 5 passed, 6 total"
_JEST_RESULT = re.compile(r"^Tests:\s+(.*\d+ total)", re.M)
_JEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|todo)")
_JEST_FAILED_ID = re.compile(r"^\s*● (.+?)\s*$", re.M)

# sympy's bin/test: "tests finished: 10 passed, 1 failed, 2 skipped, in 3.1 seconds"
_SYMPY_RESULT = re.compile(r"tests finished: ([^\n]*?), in [\d.]+ seconds")
_SYMPY_FAILED_ID = re.compile(r"^_+ ([\w/.]+:[\w]+) _+$", re.M)


@dataclass
class TestResult:
    """Counts and failing ids of one test run. ``ok`` is the run's verdict."""

    __test__ = False  # not a pytest test class

    runner: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def as_output(self) -> dict[str, Any]:
        """The well-known keys of a ``test`` step's output."""
        return {
            "ok": self.ok, "passed": self.passed, "failed": self.failed, "errors": self.errors,
            "skipped": self.skipped, "failing": self.failing, "runner": self.runner,
        }


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _parse_pytest(text: str) -> TestResult | None:
    summaries = _PYTEST_SUMMARY.findall(text)
    if not summaries:
        if _PYTEST_NO_TESTS.search(text):
            return TestResult("pytest")
        return None
    result = TestResult("pytest")
    for summary in summaries:
        for number, word in _PYTEST_COUNT.findall(summary):
            n = int(number)
            if word == "passed" or word == "xpassed":
                result.passed += n
            elif word == "failed":
                result.failed += n
            elif word.startswith("error"):
                result.errors += n
            elif word in ("skipped", "xfailed"):
                result.skipped += n
    result.failing = _unique([m[1] for m in _PYTEST_FAILED_ID.findall(text)])
    return result


def _parse_unittest(text: str) -> TestResult | None:
    ran = _UNITTEST_RAN.findall(text)
    if not ran:
        return None
    result = TestResult("unittest")
    total = sum(int(n) for n in ran)
    for _verdict, details in _UNITTEST_RESULT.findall(text):
        for part in (details or "").split(","):
            key, _, value = part.strip().partition("=")
            if not value.isdigit():
                continue
            if key == "failures":
                result.failed += int(value)
            elif key == "errors":
                result.errors += int(value)
            elif key in ("skipped", "expected failures"):
                result.skipped += int(value)
    result.passed = max(0, total - result.failed - result.errors - result.skipped)
    result.failing = _unique(
        [f"{module}.{name}" for _, name, module in _UNITTEST_FAILED_ID.findall(text)]
    )
    return result


def _parse_go(text: str) -> TestResult | None:
    results = _GO_RESULT.findall(text)
    if not results and not _GO_PKG.search(text):
        return None
    if not results and not re.search(r"^(ok|FAIL)\s+\S+\s+[\d.]+s", text, re.M):
        return None
    result = TestResult("go")
    for verdict, name in results:
        if verdict == "PASS":
            result.passed += 1
        elif verdict == "FAIL":
            result.failed += 1
            result.failing.append(name)
        else:
            result.skipped += 1
    if not results and re.search(r"^FAIL\s", text, re.M):
        result.failed = 1
    result.failing = _unique(result.failing)
    return result


def _parse_cargo(text: str) -> TestResult | None:
    results = _CARGO_RESULT.findall(text)
    if not results:
        return None
    result = TestResult("cargo")
    for _, passed, failed, ignored in results:
        result.passed += int(passed)
        result.failed += int(failed)
        result.skipped += int(ignored)
    result.failing = _unique(_CARGO_FAILED_ID.findall(text))
    return result


def _parse_jest(text: str) -> TestResult | None:
    match = _JEST_RESULT.search(text)
    if not match:
        return None
    result = TestResult("jest")
    for number, word in _JEST_COUNT.findall(match.group(1)):
        if word == "passed":
            result.passed += int(number)
        elif word == "failed":
            result.failed += int(number)
        else:
            result.skipped += int(number)
    result.failing = _unique(_JEST_FAILED_ID.findall(text))
    return result


def _parse_sympy(text: str) -> TestResult | None:
    match = _SYMPY_RESULT.search(text)
    if not match:
        return None
    result = TestResult("sympy")
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|exceptions?|expected to fail)",
                                   match.group(1)):
        if word == "passed":
            result.passed += int(number)
        elif word == "failed":
            result.failed += int(number)
        elif word.startswith("exception"):
            result.errors += int(number)
        else:
            result.skipped += int(number)
    result.failing = _unique(_SYMPY_FAILED_ID.findall(text))
    return result


_PARSERS = (_parse_pytest, _parse_unittest, _parse_cargo, _parse_jest, _parse_sympy, _parse_go)


def parse_test_output(text: str) -> TestResult | None:
    """Counts and failing ids from a test runner's output, or ``None`` if none is recognised."""
    if not text:
        return None
    for parser in _PARSERS:
        result = parser(text)
        if result is not None:
            return result
    return None
