"""Output of the Python test runners: pytest, unittest (and Django's runner, which prints the
same), sympy's ``bin/test``, and the verdict lines of the tox and nox wrappers.

Every pattern here is matched against whole outputs that can be megabytes long, so each is
anchored at a line start, never lets an unbounded repeat cross a line, and never lets a repeat
overlap what follows it (``tests/test_parsers_linear.py`` checks this of every pattern).
"""

from __future__ import annotations

import re

from pytest_tracebench.parsers.results import TestResult, unique

# pytest's final line: "==== 2 failed, 10 passed, 1 warning in 0.52s ====", the -q form without
# the rules, "in 0.02 seconds" (pytest < 6) and "in 61.20s (0:01:01)" (pytest >= 6).
_PYTEST_SUMMARY = re.compile(
    r"^=*[ \t]*(\d+ [a-z]+(?:, \d+ [a-z]+)*) in \d+(?:\.\d+)?(?:s| seconds)"
    r"(?: \([\d:.]+\))?(?: =+)?[ \t]*$", re.M)
_PYTEST_NO_TESTS = re.compile(r"^=*[ \t]*no tests ran in \d+(?:\.\d+)?(?:s| seconds)", re.M)
_PYTEST_HEADER = re.compile(r"^=+ test session starts =+[ \t]*$", re.M)
_PYTEST_REPORT = re.compile(
    r"^=+ (?:FAILURES|ERRORS|PASSES|short test summary info|warnings summary) =+[ \t]*$", re.M)
_PYTEST_INTERRUPTED = re.compile(r"^!+ Interrupted: (\d+) errors? during collection", re.M)
# Failing ids: the short summary ("FAILED tests/t.py::test[a b] - AssertionError"), collection
# error headers, verbose progress lines and xdist's "[gw0] [ 50%] FAILED tests/t.py::t".
_PYTEST_SHORT = re.compile(r"^(?:FAILED|ERROR) ([^\n]+)$", re.M)
_PYTEST_COLLECTING = re.compile(r"^_+ ERROR collecting (\S+) _+[ \t]*$", re.M)
_PYTEST_VERBOSE = re.compile(r"^(\S+) (?:FAILED|ERROR)(?: +\[ *\d+%\])?[ \t]*$", re.M)
_PYTEST_XDIST = re.compile(r"^\[gw\d+\] \[ *\d+%\] (?:FAILED|ERROR) (\S+)", re.M)
# Progress lines, "tests/test_x.py ..F.s  [ 40%]" or (-q) "..F.s  [ 40%]": with -qq they are
# all pytest prints of the counts, so a complete run (one reaching [100%]) is counted from them.
_PYTEST_PROGRESS = re.compile(r"^(?:\S+ )?([.FEsxX]+)[ \t]*\[[ \t]*(\d+)%\][ \t]*$", re.M)
_PROGRESS_KEYS = {".": "passed", "X": "passed", "F": "failed", "E": "errors", "s": "skipped",
                  "x": "skipped"}
_PYTEST_WORDS = {"passed": "passed", "xpassed": "passed", "failed": "failed",
                 "error": "errors", "errors": "errors", "skipped": "skipped",
                 "xfailed": "skipped"}
_PYTEST_KNOWN = {*_PYTEST_WORDS, "deselected", "warning", "warnings", "rerun", "reruns"}

# unittest and Django: "Ran 12 tests in 0.004s", then "OK", "OK (skipped=2)",
# "FAILED (failures=1, errors=1)" or (Python 3.12) "NO TESTS RAN".
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in \d+(?:\.\d+)?s", re.M)
_UNITTEST_VERDICT = re.compile(r"^(OK|FAILED|NO TESTS RAN)(?: \(([^)\n]*)\))?[ \t]*$", re.M)
# "FAIL: test_x (mod.Class)" before Python 3.11, "FAIL: test_x (mod.Class.test_x)" since.
_UNITTEST_FAILED = re.compile(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([^)\s]+)\)", re.M)
_UNITTEST_VERBOSE = re.compile(r"^(\w+) \(([\w.]+)\) \.\.\. (?:FAIL|ERROR)[ \t]*$", re.M)
_FAILED_IMPORT = ("unittest.loader._FailedTest", "unittest.loader.ModuleImportFailure")

# sympy's bin/test: "== tests finished: 10 passed, 1 failed, 2 expected to fail, in 3.1 seconds"
# (wrapped onto the next line when long) and a "____ sympy/core/tests/test_x.py:test_y ____"
# header per failure.
_SYMPY_RESULT = re.compile(r"^=*[ \t]*tests finished: ", re.M)
_SYMPY_ITEM = re.compile(r"^(\d+) ([a-z ]+)")
_SYMPY_FAILED = re.compile(r"^_+ ([^\s:]+):(\w+) _+[ \t]*$", re.M)

# tox 3 ("ERROR: InvocationError for command ...", "ERROR:   py39: commands failed",
# "  congratulations :)") and tox 4 ("  py39: FAIL code 1 (0.41 seconds)",
# "  evaluation failed :( (0.48 seconds)"). nox: "nox > Session tests was successful.".
_TOX_FAILED = re.compile(
    r"^(?:ERROR: InvocationError|[ \t]*evaluation failed :\(|(?:ERROR:)?[ \t]*[\w.-]+: "
    r"(?:commands failed|FAIL code))", re.M)
_TOX_PASSED = re.compile(r"^[ \t]*congratulations :\)", re.M)
_NOX_SESSION = re.compile(r"^nox > Session \S+ (was successful|failed|raised exception)", re.M)


_Session = tuple[int, int, list[list[str]]]  # a summary's start, end and (number, word) items


def parse_pytest(text: str) -> TestResult | None:
    """pytest's summary line(s); failing ids from the short summary, collection errors and
    verbose progress lines.

    Several sessions in one output (``pytest a; pytest b``, tox on two environments) are
    summed; the inner sessions pytest's own tests run (pytester), whose summaries appear in the
    outer session's report, are not (see :func:`_top_level`)."""
    if "%]" not in text and " in " not in text and "Interrupted" not in text:
        return None
    summaries = list(_PYTEST_SUMMARY.finditer(text)) if " in " in text else []
    no_tests = _PYTEST_NO_TESTS.search(text) if " in " in text else None
    interrupted = _PYTEST_INTERRUPTED.search(text)
    if not summaries and not no_tests and not interrupted:
        return _pytest_progress(text)
    result = TestResult("pytest")
    sessions: list[_Session] = []
    for summary in summaries:
        counts = [item.split(" ", 1) for item in summary.group(1).split(", ")]
        if all(word in _PYTEST_KNOWN for _, word in counts):  # "3 apples in 2s" is not pytest's
            sessions.append((summary.start(), summary.end(), counts))
    for _, _, counts in _top_level(text, sessions):
        for number, word in counts:
            key = _PYTEST_WORDS.get(word)
            if key:
                setattr(result, key, getattr(result, key) + int(number))
    if interrupted and not sessions:
        result.errors = int(interrupted.group(1))
    ids = _short_summary_ids(text)
    ids += [m.group(1) for m in _PYTEST_COLLECTING.finditer(text)]
    ids += [m.group(1) for m in _PYTEST_VERBOSE.finditer(text)]
    ids += [m.group(1) for m in _PYTEST_XDIST.finditer(text)]
    result.failing = unique(i for i in ids if "::" in i or i.endswith(".py"))
    return result


def _top_level(text: str, sessions: list[_Session]) -> list[_Session]:
    """The summaries of the sessions that ran at the top, leaving out the inner sessions that
    pytest's own tests (pytester) print inside the outer report.

    A header opens a session and a summary closes the innermost open one, so a summary closing
    a session opened inside another is inner. A summary with no open session (``-q`` prints no
    header, a ``| tail`` cuts it) is inner when the outer report goes on after it (a
    ``FAILURES``/``short test summary info`` section) before another session starts (a header
    or a progress line) and another summary comes."""
    if len(sessions) < 2:
        return sessions
    events = sorted([(m.start(), "header") for m in _PYTEST_HEADER.finditer(text)]
                    + [(m.start(), "report") for m in _PYTEST_REPORT.finditer(text)]
                    + [(m.start(), "progress") for m in _PYTEST_PROGRESS.finditer(text)]
                    + [(start, "summary") for start, _, _ in sessions])
    kept: list[_Session] = []
    depth = 0
    pending: _Session | None = None  # a headerless summary, judged by what follows it
    by_start = {session[0]: session for session in sessions}
    for start, kind in events:
        if kind == "header":
            depth += 1
            if pending is not None:
                kept.append(pending)
                pending = None
        elif kind == "progress" and pending is not None:
            kept.append(pending)
            pending = None
        elif kind == "report" and pending is not None and depth == 0:
            pending = None  # the report of an outer session continues: it was an inner one
        elif kind == "summary":
            if pending is not None:
                kept.append(pending)
                pending = None
            if depth > 0:
                depth -= 1
                if depth == 0:
                    kept.append(by_start[start])
            else:
                pending = by_start[start]
    if pending is not None:
        kept.append(pending)
    return kept


def _pytest_progress(text: str) -> TestResult | None:
    """Counts from the progress characters of a ``-qq`` run that reached ``[100%]``."""
    if "%]" not in text:
        return None
    lines = list(_PYTEST_PROGRESS.finditer(text))
    if not lines or lines[-1].group(2) != "100":
        return None
    result = TestResult("pytest")
    for line in lines:
        for char in line.group(1):
            key = _PROGRESS_KEYS[char]
            setattr(result, key, getattr(result, key) + 1)
    result.failing = unique(_short_summary_ids(text))
    return result


def _node_id(rest: str) -> str:
    """The node id at the start of a short-summary line: up to the first " - " outside the
    brackets of a parametrised id (``test_url[http://[::1]:80/ - x]`` holds both)."""
    head, sep, _ = rest.partition(" - ")
    if "[" not in head:
        return head if sep else rest.rstrip()
    depth = 0
    for i, char in enumerate(rest):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif depth == 0 and char == " " and rest.startswith(" - ", i):
            return rest[:i]
    return rest.rstrip()


def _short_summary_ids(text: str) -> list[str]:
    ids = (_node_id(m.group(1)) for m in _PYTEST_SHORT.finditer(text))
    return [i for i in ids if "::" in i or i.endswith(".py")]


def short_summary_ids(text: str) -> list[str]:
    """The node ids of pytest's short-summary lines (``FAILED tests/test_x.py::test_y -
    ...``), also when the output holds no summary line to parse (a one-line excerpt)."""
    return unique(_short_summary_ids(text))


def unittest_id(name: str, where: str) -> str:
    """One form for a unittest id, whatever the Python version printed: ``mod.Class.test_x``
    (what ``python -m unittest`` accepts). A module that failed to import is its label."""
    if where.startswith(_FAILED_IMPORT):
        return name
    if where.endswith("." + name):
        return where
    return f"{where}.{name}"


def parse_unittest(text: str) -> TestResult | None:
    """``Ran N tests`` with the verdict that follows it; failing ids from ``FAIL:``/``ERROR:``
    headers and verbose ``... FAIL`` lines."""
    if "Ran " not in text and "FAILED (" not in text and "OK (" not in text:
        return None
    runs = list(_UNITTEST_RAN.finditer(text)) if "Ran " in text else []
    verdicts = list(_UNITTEST_VERDICT.finditer(text))
    if not runs and not any(v.group(2) and "=" in v.group(2) for v in verdicts):
        return None
    headers = {unittest_id(m.group(2), m.group(3)): m.group(1)
               for m in _UNITTEST_FAILED.finditer(text)}
    failing = [*headers, *(unittest_id(m.group(1), m.group(2))
                           for m in _UNITTEST_VERBOSE.finditer(text))]
    result = TestResult("unittest", failing=unique(failing))
    if not runs:
        # "FAILED (failures=1)" kept by a grep, its "Ran N tests" line dropped: the verdict
        # and failing ids are known, the number that passed is not.
        for verdict in verdicts:
            if verdict.group(2) and "=" in verdict.group(2):
                _add_unittest_details(result, verdict.group(2))
        result.counted = False
        return result
    total = 0
    v = 0
    for i, run in enumerate(runs):
        total += int(run.group(1))
        end = runs[i + 1].start() if i + 1 < len(runs) else len(text)
        while v < len(verdicts) and verdicts[v].start() < run.end():
            v += 1
        if v < len(verdicts) and verdicts[v].start() < end:
            _add_unittest_details(result, verdicts[v].group(2) or "")
            v += 1
        elif i == len(runs) - 1:  # the verdict was cut off: what the headers show
            result.errors += sum(1 for kind in headers.values() if kind == "ERROR")
            result.failed += sum(1 for kind in headers.values() if kind != "ERROR")
    result.passed = max(0, total - result.failed - result.errors - result.skipped)
    return result


def _add_unittest_details(result: TestResult, details: str) -> None:
    for part in details.split(","):
        key, _, value = part.strip().partition("=")
        if not value.isdigit():
            continue
        if key in ("failures", "unexpected successes"):
            result.failed += int(value)
        elif key == "errors":
            result.errors += int(value)
        elif key in ("skipped", "expected failures"):
            result.skipped += int(value)


def parse_sympy(text: str) -> TestResult | None:
    """sympy's ``tests finished:`` line(s) and the failure headers."""
    if "tests finished:" not in text:
        return None
    matches = list(_SYMPY_RESULT.finditer(text))
    result = TestResult("sympy")
    found = False
    for match in matches:
        end = text.find(" seconds", match.end(), match.end() + 600)
        if end < 0:
            continue  # cut off before the timing: not the whole line
        found = True
        items = text[match.end():end].replace("\n", " ").split(",")
        for number, word in (m.groups() for m in map(_SYMPY_ITEM.match, map(str.strip, items))
                             if m):
            word = word.strip()
            if word in ("passed", "expected to fail but passed"):
                result.passed += int(number)
            elif word == "failed":
                result.failed += int(number)
            elif word.startswith("exception"):
                result.errors += int(number)
            elif word in ("skipped", "expected to fail"):
                result.skipped += int(number)
    if not found:
        return None
    result.failing = unique(f"{m.group(1)}:{m.group(2)}" for m in _SYMPY_FAILED.finditer(text)
                            if m.group(1).endswith(".py"))
    return result


def tox_failed(text: str) -> bool | None:
    """tox's verdict: True when an environment failed, False on ``congratulations :)``, None
    when tox said neither."""
    if "tox" not in text and "congratulations" not in text and "InvocationError" not in text \
            and "FAIL code" not in text and "commands failed" not in text:
        return None
    if _TOX_FAILED.search(text):
        return True
    return False if _TOX_PASSED.search(text) else None


def nox_failed(text: str) -> bool | None:
    """nox's verdict over its sessions (``nox > Session x failed.``), None without one."""
    if "nox > Session" not in text:
        return None
    outcomes = {m.group(1) for m in _NOX_SESSION.finditer(text)}
    if not outcomes:
        return None
    return bool(outcomes - {"was successful"})
