"""Test-output parsing stays linear in the output's size, shown without timing anything.

Outputs reach megabytes and the parsers run on every test step, so two things are checked:

- the structure of every pattern the output parsers match against whole outputs: it is
  anchored (at a line start, behind a lookbehind, or at a character none of its repeats can
  take), none of its unbounded repeats can cross a line, and each repeat can decide on one
  character whether to go on or stop (what it takes and what follows it are disjoint). Such a
  pattern does a bounded amount of work per attempt and per line: no backtracking blow-up.
  The checker is shown to reject the classic bad shapes first.
- the amount of text the patterns are given: on a 5 MB output, the characters scanned by all
  pattern calls together stay within a constant multiple of the output's length (a parser that
  re-scanned the text from each match, or per line, would exceed it by orders of magnitude).
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from pytest_tracebench.parsers import (
    go_rust_c_runners,
    js_runners,
    jvm_runners,
    python_runners,
    ruby_php_runners,
    test_output,
)
from pytest_tracebench.parsers.test_output import parse_test_output

try:
    import re._parser as sre  # type: ignore[import-not-found]  # Python >= 3.11
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as sre  # type: ignore[no-redef]

MODULES = [python_runners, js_runners, jvm_runners, go_rust_c_runners, ruby_php_runners,
           test_output]
ALPHABET = frozenset(string.printable) | {"\u25cf", "\u2009", "\u203a", "\x1b", "\x07"}
REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT} | (
    {sre.POSSESSIVE_REPEAT} if hasattr(sre, "POSSESSIVE_REPEAT") else set())
GROUPS = {sre.SUBPATTERN} | ({sre.ATOMIC_GROUP} if hasattr(sre, "ATOMIC_GROUP") else set())
CATEGORIES = {
    sre.CATEGORY_DIGIT: str.isdigit, sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    sre.CATEGORY_LINEBREAK: lambda c: c == "\n",
    sre.CATEGORY_NOT_LINEBREAK: lambda c: c != "\n",
}


def _chars(op: Any, av: Any, flags: int) -> frozenset[str] | None:
    """The characters a one-character item matches, or None for other items."""
    if op is sre.LITERAL:
        return frozenset({chr(av)})
    if op is sre.NOT_LITERAL:
        return ALPHABET - {chr(av)}
    if op is sre.ANY:
        return ALPHABET if flags & re.S else ALPHABET - {"\n"}
    if op is sre.IN:
        chars: set[str] = set()
        negate = False
        for member, value in av:
            if member is sre.NEGATE:
                negate = True
            elif member is sre.LITERAL:
                chars.add(chr(value))
            elif member is sre.RANGE:
                chars |= {c for c in ALPHABET if value[0] <= ord(c) <= value[1]}
            elif member is sre.CATEGORY:
                chars |= {c for c in ALPHABET if CATEGORIES[value](c)}
        return ALPHABET - chars if negate else frozenset(chars)
    return None


def _first(items: list[Any], flags: int) -> tuple[frozenset[str], bool]:
    """(first characters, can match empty) of a sequence."""
    first: set[str] = set()
    for op, av in items:
        chars = _chars(op, av, flags)
        if chars is not None:
            return frozenset(first | chars), False
        if op in REPEATS:
            inner, nullable = _first(list(av[2]), flags)
            first |= inner
            if av[0] > 0 and not nullable:
                return frozenset(first), False
        elif op in GROUPS:
            inner, nullable = _first(list(av[-1]), flags)
            first |= inner
            if not nullable:
                return frozenset(first), False
        elif op is sre.BRANCH:
            results = [_first(list(alt), flags) for alt in av[1]]
            first |= set().union(*(r[0] for r in results))
            if not any(r[1] for r in results):
                return frozenset(first), False
        elif op is sre.GROUPREF:
            return ALPHABET, True
        # AT, ASSERT, ASSERT_NOT: zero width
    return frozenset(first), True


def _all_chars(items: list[Any], flags: int) -> frozenset[str]:
    chars: set[str] = set()
    for op, av in items:
        one = _chars(op, av, flags)
        if one is not None:
            chars |= one
        elif op in REPEATS:
            chars |= _all_chars(list(av[2]), flags)
        elif op in GROUPS:
            chars |= _all_chars(list(av[-1]), flags)
        elif op is sre.BRANCH:
            for alt in av[1]:
                chars |= _all_chars(list(alt), flags)
    return frozenset(chars)


def _check(items: list[Any], follow: frozenset[str], flags: int, problems: list[str]) -> None:
    for i, (op, av) in enumerate(items):
        rest, rest_nullable = _first(items[i + 1:], flags)
        after = rest | (follow if rest_nullable else frozenset())
        if op in REPEATS:
            body = list(av[2])
            body_first, body_nullable = _first(body, flags)
            if av[1] == sre.MAXREPEAT:
                if "\n" in _all_chars(body, flags):
                    problems.append("an unbounded repeat can cross lines")
                if body_nullable:
                    problems.append("an unbounded repeat of something that can be empty")
                overlap = body_first & after
                if overlap:
                    problems.append(f"a repeat overlaps what follows it on {sorted(overlap)}")
            _check(body, after | body_first, flags, problems)
        elif op in GROUPS:
            _check(list(av[-1]), after, flags, problems)
        elif op is sre.BRANCH:
            for alt in av[1]:
                _check(list(alt), after, flags, problems)


def _unbounded_chars(items: list[Any], flags: int) -> frozenset[str]:
    chars: set[str] = set()
    for op, av in items:
        if op in REPEATS:
            if av[1] == sre.MAXREPEAT:
                chars |= _all_chars(list(av[2]), flags)
            chars |= _unbounded_chars(list(av[2]), flags)
        elif op in GROUPS:
            chars |= _unbounded_chars(list(av[-1]), flags)
        elif op is sre.BRANCH:
            for alt in av[1]:
                chars |= _unbounded_chars(list(alt), flags)
    return frozenset(chars)


def linear_problems(pattern: re.Pattern[str]) -> list[str]:
    """What keeps ``pattern`` from a bounded amount of work per attempt and per line."""
    items = list(sre.parse(pattern.pattern, pattern.flags))
    problems: list[str] = []
    head = items[0] if items else None
    anchored = head is not None and (
        (head[0] is sre.AT and head[1] in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING,
                                           sre.AT_BEGINNING_LINE))
        or (head[0] is sre.ASSERT_NOT and head[1][0] == -1))
    if not anchored and _first(items, pattern.flags)[0] & _unbounded_chars(items,
                                                                          pattern.flags):
        problems.append("unanchored, and a repeat can take the characters it starts with")
    _check(items, frozenset(), pattern.flags, problems)
    return problems


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(f"{module.__name__.rsplit('.', 1)[-1]}.{name}", value)
            for module in MODULES for name, value in vars(module).items()
            if isinstance(value, re.Pattern)]


@pytest.mark.parametrize("bad", [
    r"^(a+)+b",            # nested repeats: exponential
    r"^\s*Tests",          # \s crosses lines: quadratic over blank lines
    r"\d+ passed",         # unanchored repeat: quadratic over a run of digits
    r"^[a-z ]* in \d",     # the repeat overlaps what follows (" in"): backtracking
    r"^(?:x?)*y",          # a repeat of something empty
])
def test_the_checker_rejects_the_shapes_that_backtrack(bad: str) -> None:
    assert linear_problems(re.compile(bad, re.M))


def test_the_checker_accepts_anchored_deterministic_patterns() -> None:
    assert linear_problems(re.compile(r"^=*[ \t]*(\d+ [a-z]+(?:, \d+ [a-z]+)*) in \d+s",
                                      re.M)) == []
    assert linear_problems(re.compile(r"(?<!\d)(\d+) ([a-z]+)")) == []


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=[n for n, _ in _patterns()])
def test_every_output_pattern_does_bounded_work_per_line(name: str,
                                                         pattern: re.Pattern[str]) -> None:
    assert linear_problems(pattern) == [], f"{name}: {pattern.pattern!r}"


class _Counting:
    """A compiled pattern that counts the characters each call is given to scan."""

    def __init__(self, pattern: re.Pattern[str], tally: list[int]) -> None:
        self._pattern = pattern
        self._tally = tally

    def _count(self, text: str, pos: int = 0) -> None:
        self._tally[0] += max(0, len(text) - pos)

    def search(self, text: str, pos: int = 0, *rest: Any) -> Any:
        self._count(text, pos)
        return self._pattern.search(text, pos, *rest)

    def match(self, text: str, pos: int = 0, *rest: Any) -> Any:
        self._count(text, pos)
        return self._pattern.match(text, pos, *rest)

    def finditer(self, text: str, pos: int = 0, *rest: Any) -> Any:
        self._count(text, pos)
        return self._pattern.finditer(text, pos, *rest)

    def findall(self, text: str, pos: int = 0, *rest: Any) -> Any:
        self._count(text, pos)
        return self._pattern.findall(text, pos, *rest)

    def sub(self, repl: Any, text: str, count: int = 0) -> str:
        self._count(text)
        return self._pattern.sub(repl, text, count)

    def split(self, text: str, maxsplit: int = 0) -> list[str]:
        self._count(text)
        return self._pattern.split(text, maxsplit)


def _five_megabytes() -> str:
    """Real-looking pytest, unittest and tox output with the shapes that stress parsers:
    thousands of failures and summaries, long progress runs, colour codes, one huge line."""
    block = (
        "\x1b[32m============================= test session starts "
        "==============================\x1b[0m\n"
        "tests/test_a.py ..F.sx..E.                                               [ 50%]\n"
        "FAILED tests/test_a.py::test_url[http://[::1]:80/-x] - AssertionError: [1] - 2\n"
        "ERROR tests/test_a.py::test_db - fixture 'db' not found\n"
        "FAIL: test_x (mod.Class.test_x)\nRan 3 tests in 0.01s\n\nFAILED (failures=1)\n"
        "  py39: FAIL code 1 (0.41=setup[0.15]+cmd[0.26] seconds)\n"
        "Tests:       1 failed, 5 passed, 6 total\n"
        "==================== 1 failed, 5 passed, 1 error in 0.12s ====================\n")
    text = block * (3_600_000 // len(block))
    return text + "1 " * 1_000_000 + "passed in 1s\n" + "=" * 500_000 + "\n"


def test_a_five_megabyte_output_is_scanned_a_bounded_number_of_times(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = _five_megabytes()
    assert len(text) >= 5_000_000
    tally = [0]
    patterns = 0
    for module in MODULES:
        for name, value in list(vars(module).items()):
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, name, _Counting(value, tally))
                patterns += 1
    result = parse_test_output(text)
    assert result is not None and result.runner == "pytest"
    assert result.failed > 1000 and "tests/test_a.py::test_url[http://[::1]:80/-x]" in \
        result.failing
    # Each pattern scans the output a few times at most (the pytest parser reads the short
    # summary twice); quadratic work would be ~10^6 times the output.
    assert tally[0] <= 3 * patterns * len(text)
