"""Output of the JVM build tools' test runs: Maven Surefire and Gradle.

Same pattern rules as :mod:`.python_runners` (anchored, line-bound, no overlapping repeats).
"""

from __future__ import annotations

import re

from pytest_tracebench.parsers.results import TestResult, unique

# Surefire prints a line per test class ("Tests run: 3, Failures: 1, Errors: 0, Skipped: 0,
# Time elapsed: 0.05 s <<< FAILURE! - in com.x.AppTest") and, after "Results:", the module's
# total (the same line without "Time elapsed"). Only totals are summed; per-class lines only
# when the totals were cut off.
_SUREFIRE = re.compile(
    r"^(?:\[(?:INFO|ERROR|WARNING|WARN)\] )?Tests run: (\d+), Failures: (\d+), Errors: (\d+), "
    r"Skipped: (\d+)(, Time elapsed)?", re.M)
# Failing tests: "testApp(com.x.AppTest)  Time elapsed: 0.01 s  <<< FAILURE!" (Surefire 2) and
# "com.x.AppTest.testApp -- Time elapsed: 0.01 s <<< FAILURE!" (Surefire 3).
_SUREFIRE2_TEST = re.compile(r"^(?:\[ERROR\] )?(\w+)\(([\w.$]+)\)[ \t]+Time elapsed:", re.M)
_SUREFIRE3_TEST = re.compile(r"^(?:\[ERROR\] )?(\S+) -- Time elapsed:", re.M)
_MAVEN_BUILD = re.compile(r"^(?:\[INFO\] |\[ERROR\] )?BUILD (SUCCESS|FAILURE)[ \t]*$", re.M)

# Gradle: "14 tests completed, 1 failed, 2 skipped" (printed only when a test failed or was
# skipped), "com.x.FooTest > testBar FAILED", and "BUILD SUCCESSFUL in 3s" / "BUILD FAILED".
_GRADLE_COMPLETED = re.compile(
    r"^(\d+) tests? completed(?:, (\d+) failed)?(?:, (\d+) skipped)?", re.M)
_GRADLE_TEST = re.compile(r"^([\w.$]+) > ([^\n]+)$", re.M)
_GRADLE_BUILD = re.compile(r"^(?:BUILD (SUCCESSFUL|FAILED)\b|FAILURE: Build failed)", re.M)


def _line_at(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def parse_surefire(text: str) -> TestResult | None:
    """Maven Surefire's totals (or its per-class lines when no total was printed); failing
    ids ``package.Class.method``."""
    if "Tests run:" not in text:
        return None
    lines = list(_SUREFIRE.finditer(text))
    if not lines:
        return None
    totals = [m for m in lines if not m.group(5)] or lines
    result = TestResult("maven")
    for match in totals:
        run, failures, errors, skipped = (int(g) for g in match.groups()[:4])
        result.failed += failures
        result.errors += errors
        result.skipped += skipped
        result.passed += max(0, run - failures - errors - skipped)
    ids = []
    for match in _SUREFIRE2_TEST.finditer(text):
        if "<<< FAILURE!" in _line_at(text, match.end()) or \
                "<<< ERROR!" in _line_at(text, match.end()):
            ids.append(f"{match.group(2)}.{match.group(1)}")
    for match in _SUREFIRE3_TEST.finditer(text):
        line = _line_at(text, match.end())
        if "<<< FAILURE!" in line or "<<< ERROR!" in line:
            ids.append(match.group(1))
    result.failing = unique(ids)
    return result


def maven_failed(text: str) -> bool | None:
    """Maven's ``BUILD FAILURE`` (True) or ``BUILD SUCCESS`` (False); None without either."""
    if "BUILD " not in text:
        return None
    verdicts = {m.group(1) for m in _MAVEN_BUILD.finditer(text)}
    if not verdicts:
        return None
    return "FAILURE" in verdicts


def parse_gradle(text: str) -> TestResult | None:
    """Gradle's ``N tests completed, M failed`` lines and ``Class > test FAILED`` ids. A run
    where every test passed prints no counts: only its ``BUILD SUCCESSFUL`` verdict is read
    (see :func:`gradle_failed`)."""
    if "tests completed" not in text and "test completed" not in text:
        return None
    lines = list(_GRADLE_COMPLETED.finditer(text))
    if not lines:
        return None
    result = TestResult("gradle")
    for match in lines:
        completed = int(match.group(1))
        failed = int(match.group(2) or 0)
        skipped = int(match.group(3) or 0)
        result.failed += failed
        result.skipped += skipped
        result.passed += max(0, completed - failed - skipped)
    result.failing = unique(
        f"{m.group(1)}.{m.group(2)[:-len(' FAILED')].strip()}"
        for m in _GRADLE_TEST.finditer(text) if m.group(2).endswith(" FAILED"))
    return result


def gradle_failed(text: str) -> bool | None:
    """Gradle's ``BUILD FAILED`` (True) or ``BUILD SUCCESSFUL`` (False); None without either."""
    if "BUILD " not in text and "Build failed" not in text:
        return None
    verdicts = {m.group(1) or "FAILED" for m in _GRADLE_BUILD.finditer(text)}
    if not verdicts:
        return None
    return "FAILED" in verdicts
