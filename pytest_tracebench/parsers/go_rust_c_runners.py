"""Output of ``go test``, ``cargo test`` (libtest and cargo-nextest) and CMake's ``ctest``.

Same pattern rules as :mod:`.python_runners` (anchored, line-bound, no overlapping repeats).
"""

from __future__ import annotations

import re

from pytest_tracebench.parsers.results import TestResult, unique

# go test: "--- FAIL: TestRetry (0.00s)" (subtests indented, "TestX/case"), "=== RUN" with -v,
# and a line per package: "ok  \texample.com/x\t0.01s", "FAIL\texample.com/x\t0.01s",
# "FAIL\texample.com/x [build failed]".
_GO_RESULT = re.compile(r"^[ \t]*--- (PASS|FAIL|SKIP): (\S+)", re.M)
_GO_PACKAGE = re.compile(r"^(ok|FAIL)[ \t]+\S+[ \t]+(?:\d+(?:\.\d+)?s|\(cached\)|\[)", re.M)
_GO_BUILD_FAILED = re.compile(r"^FAIL[ \t]+\S+ \[(?:build|setup) failed\]", re.M)
_GO_VERBOSE = re.compile(r"^[ \t]*=== RUN", re.M)

# libtest: "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
# once per test binary, and "test net::retry ... FAILED" per failing test.
_CARGO_RESULT = re.compile(
    r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored", re.M)
_CARGO_TEST = re.compile(r"^test ([^\n]+)$", re.M)
# cargo-nextest: "     Summary [   0.010s] 3 tests run: 2 passed, 1 failed, 0 skipped" and
# "        FAIL [   0.004s] my-crate tests::it_fails".
_NEXTEST_SUMMARY = re.compile(r"^[ \t]*Summary \[[^\]\n]*\] \d+ tests? run: ([^\n]+)$", re.M)
_NEXTEST_FAILED = re.compile(r"^[ \t]*FAIL \[[^\]\n]*\] ([^\n]+)$", re.M)

# ctest: "92% tests passed, 1 tests failed out of 12", then under "The following tests FAILED:"
# lines like "\t  7 - httpclient (Failed)"; skipped tests are listed the same way.
_CTEST_RESULT = re.compile(r"^[ \t]*\d+% tests passed, (\d+) tests? failed out of (\d+)", re.M)
_CTEST_LISTED = re.compile(r"^[ \t]+\d+ - (\S+) \(([^)\n]+)\)", re.M)
_CTEST_NOT_FAILED = ("Skipped", "Disabled")


def parse_go(text: str) -> TestResult | None:
    """``--- PASS/FAIL/SKIP`` lines (subtests included) and the package lines. Without ``-v``
    go prints no line for a passing test: the counts are then unknown and only the verdict
    and the failing ids are read."""
    if "--- " not in text and "ok" not in text and "FAIL" not in text:
        return None
    results = list(_GO_RESULT.finditer(text))
    packages = [m.group(1) for m in _GO_PACKAGE.finditer(text)]
    if not results and not packages:
        return None
    result = TestResult("go")
    for match in results:
        verdict = match.group(1)
        if verdict == "PASS":
            result.passed += 1
        elif verdict == "FAIL":
            result.failed += 1
            result.failing.append(match.group(2))
        else:
            result.skipped += 1
    result.errors += len(_GO_BUILD_FAILED.findall(text))
    if "FAIL" in packages and not result.failed and not result.errors:
        result.run_failed = True  # a package failed without a test failing (a panic, a timeout)
    result.counted = any(m.group(1) == "PASS" for m in results) or \
        _GO_VERBOSE.search(text) is not None
    result.failing = unique(result.failing)
    return result


def parse_cargo(text: str) -> TestResult | None:
    """libtest's ``test result:`` line of each test binary, or cargo-nextest's summary."""
    if "test result:" not in text and "Summary [" not in text:
        return None
    results = list(_CARGO_RESULT.finditer(text))
    if results:
        result = TestResult("cargo")
        for match in results:
            result.passed += int(match.group(1))
            result.failed += int(match.group(2))
            result.skipped += int(match.group(3))
        result.failing = unique(m.group(1)[:-len(" ... FAILED")]
                                for m in _CARGO_TEST.finditer(text)
                                if m.group(1).endswith(" ... FAILED"))
        return result
    summary = _NEXTEST_SUMMARY.search(text)
    if not summary:
        return None
    result = TestResult("cargo-nextest")
    for item in summary.group(1).split(", "):
        number, _, word = item.strip().partition(" ")
        if not number.isdigit():
            continue
        if word.startswith("passed"):
            result.passed += int(number)
        elif word.startswith("failed") or word.startswith("timed out"):
            result.failed += int(number)
        elif word.startswith("skipped"):
            result.skipped += int(number)
    result.failing = unique(m.group(1).strip() for m in _NEXTEST_FAILED.finditer(text))
    return result


def parse_ctest(text: str) -> TestResult | None:
    """ctest's ``N% tests passed, M tests failed out of T`` and its list of failed tests."""
    if "tests passed" not in text:
        return None
    results = list(_CTEST_RESULT.finditer(text))
    if not results:
        return None
    result = TestResult("ctest")
    for match in results:
        failed, total = int(match.group(1)), int(match.group(2))
        result.failed += failed
        result.passed += max(0, total - failed)
    result.failing = unique(m.group(1) for m in _CTEST_LISTED.finditer(text)
                            if m.group(2) not in _CTEST_NOT_FAILED)
    return result
