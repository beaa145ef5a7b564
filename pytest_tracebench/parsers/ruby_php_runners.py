"""Output of RSpec and PHPUnit.

Same pattern rules as :mod:`.python_runners` (anchored, line-bound, no overlapping repeats).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from pytest_tracebench.parsers.results import TestResult, unique

# RSpec: "16 examples, 1 failure, 2 pending" (", 1 error occurred outside of examples"), then
# under "Failed examples:" lines like "rspec ./spec/x_spec.rb:12 # Thing does it".
_RSPEC_RESULT = re.compile(
    r"^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?"
    r"(?:, (\d+) errors? occurred outside of examples)?", re.M)
_RSPEC_FAILED = re.compile(r"^rspec (\S+) #", re.M)

# PHPUnit: "OK (5 tests, 9 assertions)", or after "FAILURES!"/"ERRORS!"/"OK, but ...":
# "Tests: 14, Assertions: 45, Failures: 4, Errors: 1." Failures are listed under
# "There was 1 failure:" as "1) Tests\FooTest::testBar" (" with data set #0" for providers).
_PHPUNIT_OK = re.compile(r"^OK \((\d+) tests?, \d+ assertions?\)", re.M)
_PHPUNIT_TOTALS = re.compile(
    r"^Tests: (\d+), Assertions: \d+((?:, [A-Za-z ]+: \d+)*)\.?[ \t]*$", re.M)
_PHPUNIT_SECTION = re.compile(r"^There (?:was|were) \d+ ([a-z ]+):[ \t]*$", re.M)
_PHPUNIT_ENTRY = re.compile(r"^\d+\) (\S+)(?: with data set (#\d+|\"[^\"\n]*\"))?", re.M)


def parse_rspec(text: str) -> TestResult | None:
    """RSpec's ``N examples, M failures`` line(s) and the ``rspec ./spec/...:line`` ids."""
    if "example" not in text:
        return None
    results = list(_RSPEC_RESULT.finditer(text))
    if not results:
        return None
    result = TestResult("rspec")
    for match in results:
        examples, failures = int(match.group(1)), int(match.group(2))
        pending = int(match.group(3) or 0)
        result.failed += failures
        result.skipped += pending
        result.errors += int(match.group(4) or 0)
        result.passed += max(0, examples - failures - pending)
    result.failing = unique(m.group(1).strip("'\"") for m in _RSPEC_FAILED.finditer(text))
    return result


def parse_phpunit(text: str) -> TestResult | None:
    """PHPUnit's ``OK (N tests, ...)`` or ``Tests: N, Assertions: A, Failures: F, ...``;
    ids ``Class::method`` from its failure and error lists."""
    if "Tests: " not in text and "OK (" not in text:
        return None
    passed = _PHPUNIT_OK.search(text)
    totals = _PHPUNIT_TOTALS.search(text)
    if not passed and not totals:
        return None
    result = TestResult("phpunit")
    if totals:
        counts = {}
        for item in totals.group(2).split(", "):
            word, _, number = item.partition(": ")
            if number.isdigit():
                counts[word.strip().lower()] = int(number)
        result.failed = counts.get("failures", 0)
        result.errors = counts.get("errors", 0)
        result.skipped = counts.get("skipped", 0) + counts.get("incomplete", 0)
        result.passed = max(0, int(totals.group(1)) - result.failed - result.errors
                            - result.skipped)
    elif passed:
        result.passed = int(passed.group(1))
    sections = [(m.start(), m.group(1)) for m in _PHPUNIT_SECTION.finditer(text)]
    starts = [start for start, _ in sections]
    ids = []
    for entry in _PHPUNIT_ENTRY.finditer(text):
        index = bisect_left(starts, entry.start()) - 1
        kind = sections[index][1] if index >= 0 else ""
        if kind.startswith(("failure", "error")) and "::" in entry.group(1):
            data = f" with data set {entry.group(2)}" if entry.group(2) else ""
            ids.append(entry.group(1) + data)
    result.failing = unique(ids)
    return result
