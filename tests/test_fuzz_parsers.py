"""Property-based fuzzing of the parsers, the config reader and the command line.

Each property: any input gives a result or the component's one-line error, never another
exception, and never a hang (a per-input alarm of ``HANG_SECONDS`` fails the example instead of
blocking CI; it is a hang guard, not a speed assertion). Inputs mix random text with shapes
that stress regular expressions (long runs of one character, many separators) and with
fragments of the real formats. ``TRACEBENCH_FUZZ_EXAMPLES`` raises the budgets for a long run.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_tracebench.cli import main
from pytest_tracebench.parsers import CommandInfo, classify_command, parse_test_output
from pytest_tracebench.replay.rerun import apply_unified_diff
from pytest_tracebench.settings import (
    OPTIONS,
    ConfigError,
    Settings,
    build_settings,
    read_pyproject,
)

LONG_RUN = os.environ.get("TRACEBENCH_FUZZ_EXAMPLES")
EXAMPLES = int(LONG_RUN or "150")
HANG_SECONDS = 20
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=LONG_RUN is None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    def expired(*_: Any) -> None:
        raise TimeoutError(f"input took over {seconds} s: a hang (catastrophic backtracking?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


FRAGMENTS = [
    "=", "-", "_", " ", "\n", "\t", "\r", "::", "/", ".", "*", "#", ";", "&&", "||", "|", ">",
    ">>", "<<", "'", '"', "`", "$(", ")", "\\", "\x1b[31m", "\x00", "é", "🙂",
    "passed", "failed", "error", "FAILED ", "PASSED", "ERROR", "ok", "FAIL", "--- FAIL: ",
    "test result: ", "Tests:", "Ran 3 tests in 0.1s", "OK (skipped=1)", "FAILED (failures=2)",
    "== 3 failed, 10 passed in 1.2s ==", "tests/test_x.py::test_a", "test_a (mod.Test)",
    "short test summary info", "collected 5 items", "[100%]", "running 2 tests",
    "git apply", "sed -i 's/a/b/' f.py", "cat <<EOF > x.py", "EOF", "python -m pytest",
    "pytest -k 'a or b'", "echo x > tests/test_a.py", "rm -rf tests", "cd /tmp", "tee -a",
    "@@ -1,3 +1,4 @@", "+++ b/x.py", "--- a/x.py", "+new line", "-old line", " context",
    # the other runners' summaries and the wrappers around commands
    "[ 50%]", "[100%]", "..F.sxE", "test session starts", "no tests ran in 0.1s",
    "tests finished: 3 passed, ", "in 1.0 seconds", "Tests:  1 failed | 2 passed (3)",
    "Test Files", "2 passing (5ms)", "1 failing", "  1) ", "Tests run: 3, Failures: 1, Errors: 0, "
    "Skipped: 0", ", Time elapsed", "<<< FAILURE!", "BUILD FAILURE", "BUILD FAILED",
    "3 tests completed, 1 failed", " > ", "test result: ok. 2 passed; 0 failed; 0 ignored",
    "50% tests passed, 1 tests failed out of 2", "3 examples, 1 failure", "rspec ./a_spec.rb:3 #",
    "OK (3 tests, 4 assertions)", "Tests: 3, Assertions: 4, Failures: 1.", "There was 1 failure:",
    "congratulations :)", "evaluation failed :(", "nox > Session t failed.", "ELIFECYCLE",
    "[stdout]", "[metadata] {}", "Interrupted: 1 error during collection", "bash -lc '",
    "sh -c \"", "timeout 60 ", "env A=1 ", "uv run ", "edit 1:1", "end_of_edit", "pip install ",
    "--collect-only", "-m django test", "bin/test", "if ", "; then ", "( ", ")",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.builds(lambda c, n: c * n, st.sampled_from(["=", " ", "a", "F", ".", "-", "\n", ":",
                                                   "(", "1", "tests/"]),
              st.integers(1, 60_000)),
    st.builds(lambda a, b, n: (a + b) * n, st.sampled_from(FRAGMENTS),
              st.sampled_from(FRAGMENTS), st.integers(1, 5_000)),
)


@FUZZ
@given(text=texts)
def test_test_output_parser_returns_a_result_or_none(text: str) -> None:
    with no_hang():
        result = parse_test_output(text)
    if result is not None:
        assert min(result.passed, result.failed, result.errors, result.skipped) >= 0
        assert all(isinstance(t, str) for t in result.failing)


@FUZZ
@given(command=texts)
def test_command_classifier_returns_a_classification(command: str) -> None:
    with no_hang():
        info = classify_command.__wrapped__(command)  # the uncached function
    assert isinstance(info, CommandInfo)
    assert all(isinstance(e.path, str) for e in info.edits)
    assert all(isinstance(p, str) for p in info.reads)


@FUZZ
@given(text=texts, diff=texts)
def test_diff_application_applies_or_raises_value_error(text: str, diff: str) -> None:
    with no_hang():
        try:
            result = apply_unified_diff(text, diff)
        except ValueError as exc:
            assert "\n" not in str(exc)
            return
    assert isinstance(result, str)


toml_values = st.recursive(
    st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) |
    st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=10), inner, max_size=3), max_leaves=8)
keys = st.sampled_from([opt.key for opt in OPTIONS] + ["thresholds", "unknown", ""])


def _toml(value: Any) -> str:
    """A TOML rendering good enough for fuzzing (strings quoted by JSON rules)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@FUZZ
@given(table=st.dictionaries(keys, toml_values, max_size=5), raw=st.text(max_size=200),
       shape=st.sampled_from(["table", "raw", "tool-not-table", "tracebench-not-table"]))
def test_config_reader_gives_settings_or_one_config_error(
        table: dict[str, Any], raw: str, shape: str, tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    if shape == "table":
        body = "[tool.tracebench]\n" + "".join(f"{_toml(k)} = {_toml(v)}\n"
                                               for k, v in table.items())
    elif shape == "raw":
        body = "[tool.tracebench]\n" + raw
    elif shape == "tool-not-table":
        body = f"tool = {_toml(next(iter(table.values()), 3))}\n"
    else:
        body = f"[tool]\ntracebench = {_toml(next(iter(table.values()), 'x'))}\n"
    path.write_text(body, encoding="utf-8")
    with no_hang():
        try:
            settings_ = build_settings(pyproject=read_pyproject(path))
        except ConfigError as exc:
            assert "\n" not in str(exc).strip() or str(path) in str(exc)
            return
    assert isinstance(settings_, Settings)


COMMANDS = ["schema", "validate", "formats", "convert", "analyze", "report", "compare",
            "replay", "rerun", "detectors"]
FLAGS = ["--format", "--jobs", "-j", "--engine", "--verbose", "-v", "--to", "-o", "--output",
         "--kind", "--from", "--to", "--step", "--grep", "--json-out", "--keep", "--findings",
         "--no-findings", "--timeout", "--workspace", "--json", "--html", "--fail-under",
         "--min-score", "--detectors", "--disable", "--thresholds", "--budget", "--save",
         "--gate", "--version", "--help", "-h", "--", "-"]
VALUES = ["x", "0", "-1", "1e9", "nan", "", " ", "../../etc/passwd", "/dev/null", "\x1b]0;x",
          "a=b", "retry_loop.same_action=abc", "tracebench", "atif", "local", "99999999",
          "missing.jsonl", "out", "{}", "[]", "é"]


@settings(max_examples=max(40, EXAMPLES // 2), deadline=None, derandomize=LONG_RUN is None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS),
       words=st.lists(st.sampled_from(FLAGS) | st.sampled_from(VALUES) | st.text(max_size=12),
                      max_size=6))
def test_command_line_exits_with_a_code_and_no_traceback(
        command: str, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    err, out = io.StringIO(), io.StringIO()
    with no_hang(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main([command, *words])
        except SystemExit as exc:  # argparse: usage errors exit 2, --help/--version exit 0
            code = exc.code if isinstance(exc.code, int) else 1
    assert isinstance(code, int)
    assert "Traceback" not in err.getvalue()
