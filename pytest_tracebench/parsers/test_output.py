"""Parse the output of test runners into counts and failing test ids.

Used by importers (to turn a shell command's output into a ``test`` step) and by detectors (to
read test results wherever they appear). Each runner family has its own module
(:mod:`.python_runners`, :mod:`.js_runners`, :mod:`.jvm_runners`, :mod:`.go_rust_c_runners`,
:mod:`.ruby_php_runners`) that recognises the runner by its own summary lines; the first runner
whose summary is found gives the counts (summed when it ran several times, tox running pytest
on two environments), then the verdicts of the wrappers around it (tox, nox, npm/pnpm/yarn,
Maven, Gradle) are applied: a wrapper that reports failure makes the run not ``ok``, and a
wrapper's verdict alone (Gradle prints no counts when all tests pass) is a result without
counts. Returns ``None`` when the text holds neither.

Before parsing, colour codes are removed, carriage returns become line ends, and an output
that a log holds twice (Harbor's ATIF writes a tool's output, then ``[stdout]`` and the same
output again) is read once: a summary printed twice must not count twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pytest_tracebench.parsers.go_rust_c_runners import parse_cargo, parse_ctest, parse_go
from pytest_tracebench.parsers.js_runners import npm_failed, parse_jest, parse_mocha, parse_vitest
from pytest_tracebench.parsers.jvm_runners import (
    gradle_failed,
    maven_failed,
    parse_gradle,
    parse_surefire,
)
from pytest_tracebench.parsers.python_runners import (
    nox_failed,
    parse_pytest,
    parse_sympy,
    parse_unittest,
    tox_failed,
)
from pytest_tracebench.parsers.results import TestResult
from pytest_tracebench.parsers.ruby_php_runners import parse_phpunit, parse_rspec

__all__ = ["TestResult", "parse_test_output"]

# CSI sequences (colours, cursor moves), OSC sequences (titles, links) and two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# Harbor's ATIF observation: "<output>\n\n[stdout]\n<output>\n[metadata] {...}".
_STREAM_MARKER = re.compile(r"^\[(?:stdout|stderr)\][ \t]*$", re.M)
_LOG_TRAILER = re.compile(r"^\[(?:metadata|error)\] [^\n]*$", re.M)
_MAX_SECTIONS = 8

#: Runners that print counts, most specific summary first.
PARSERS: tuple[Callable[[str], TestResult | None], ...] = (
    parse_pytest, parse_unittest, parse_sympy, parse_cargo, parse_go, parse_jest,
    parse_vitest, parse_mocha, parse_surefire, parse_gradle, parse_ctest, parse_rspec,
    parse_phpunit,
)
#: Wrappers with a verdict of their own: (runner name, True when it reports failure).
VERDICTS: tuple[tuple[str, Callable[[str], bool | None]], ...] = (
    ("tox", tox_failed), ("nox", nox_failed), ("maven", maven_failed),
    ("gradle", gradle_failed), ("npm", npm_failed),
)


def normalise_output(text: str) -> str:
    """The output as a terminal showed it, once: no colour codes, ``\\n`` line ends, and a
    copy of the output repeated after a ``[stdout]``/``[stderr]`` marker left out."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "[stdout]" in text or "[stderr]" in text:
        text = _read_once(text)
    return text


def _read_once(text: str) -> str:
    """The sections around the markers, each once: a section that another one contains (the
    same output, or a truncated copy of it) is dropped."""
    parts = _STREAM_MARKER.split(text, maxsplit=_MAX_SECTIONS)
    if len(parts) > _MAX_SECTIONS:
        return text  # not a log's copies of one output: comparing them all would be quadratic
    kept: list[str] = []
    for part in parts:
        body = _LOG_TRAILER.sub("", part).strip()
        if not body or any(body in other for other in kept):
            continue
        kept = [other for other in kept if other not in body]
        kept.append(body)
    return "\n".join(kept)


def parse_test_output(text: str) -> TestResult | None:
    """Counts and failing ids from a test runner's output, or ``None`` if none is recognised
    (see the module docstring)."""
    if not text:
        return None
    text = normalise_output(text)
    result = None
    for parser in PARSERS:
        result = parser(text)
        if result is not None:
            break
    for name, failed in VERDICTS:
        verdict = failed(text)
        if verdict is None:
            continue
        if result is None:
            result = TestResult(name, run_failed=verdict, counted=False)
        elif verdict:
            result.run_failed = True
    return result
