"""Test suites run through ``trace.command()`` count as test runs.

The README's own recording example is ``trace.command("pytest -q", exit_code=1, stdout=out)``:
an agent that runs its shell through the recorder records its test runs as ``command`` steps,
not ``test`` steps. The importers classify such commands themselves; for our own traces the
detectors read them the same way (the command's text says it runs tests, the runner's summary
in its output gives counts and failing ids), so the findings do not depend on which call the
agent used.
"""

from __future__ import annotations

from pytest_tracebench import TraceRecorder

from ._traces import edit, fail, findings, green, make, patterns

FAILING = ("tests/test_api.py F.\n"
           "FAILED tests/test_api.py::test_timeout - AssertionError\n"
           "1 failed, 1 passed in 0.12s\n")
PASSING = "tests/test_api.py ..\n2 passed in 0.10s\n"


def run(rec: TraceRecorder, stdout: str, exit_code: int, command: str = "pytest -q tests"
        ) -> int:
    return rec.command(command, exit_code=exit_code, stdout=stdout, stderr="")


def test_a_failing_pytest_command_is_a_failing_test_run() -> None:
    def build(rec: TraceRecorder) -> None:
        edit(rec)
        run(rec, FAILING, 1)
        rec.message("Done.")

    (finding,) = findings("failing_tests", make(build))
    assert finding.evidence["failing"] == ["tests/test_api.py::test_timeout"]
    assert finding.evidence["failed"] == 1
    assert finding.message == ("Tests failed after applying the fix: 1 failing "
                               "(tests/test_api.py::test_timeout).")
    assert patterns("incomplete_resolution", make(build)) == ["ends_failing"]


def test_the_same_run_recorded_either_way_gives_the_same_findings() -> None:
    def as_command(rec: TraceRecorder) -> None:
        run(rec, FAILING, 1)
        edit(rec)
        run(rec, FAILING, 1)
        rec.message("All tests pass now.")

    def as_test(rec: TraceRecorder) -> None:
        fail(rec, ids=("tests/test_api.py::test_timeout",))
        edit(rec)
        fail(rec, ids=("tests/test_api.py::test_timeout",))
        rec.message("All tests pass now.")

    for name in ("failing_tests", "incomplete_resolution", "false_success_claim",
                 "ignored_error"):
        got = [(f.message, f.steps) for f in findings(name, make(as_command))]
        want = [(f.message, f.steps) for f in findings(name, make(as_test))]
        assert got == want, name
    assert patterns("false_success_claim", make(as_command)) == ["contradicted_by_tests"]


def test_a_passing_pytest_command_verifies_the_fix() -> None:
    def build(rec: TraceRecorder) -> None:
        run(rec, FAILING, 1)
        edit(rec)
        run(rec, PASSING, 0)
        rec.message("All tests pass now. The issue is fixed.")

    trace = make(build)
    for name in ("failing_tests", "incomplete_resolution", "false_success_claim"):
        assert findings(name, trace) == [], name


def test_without_a_summary_the_exit_code_decides() -> None:
    def build(rec: TraceRecorder) -> None:
        edit(rec)
        run(rec, "Traceback (most recent call last):\nImportError: no module x\n", 2,
            command="python -m pytest tests/test_api.py")
        rec.message("The tests pass.")

    trace = make(build)
    assert patterns("false_success_claim", trace) == ["contradicted_by_tests"]
    # A failed test run is the test detectors' business, not an ignored error.
    assert findings("ignored_error", trace) == []


def test_other_commands_are_not_test_runs() -> None:
    def build(rec: TraceRecorder) -> None:
        rec.command("grep -rn pytest setup.cfg", exit_code=0, stdout="addopts = -q\n")
        rec.message("All tests pass.")

    assert patterns("false_success_claim", make(build)) == ["no_tests_run"]


def test_a_claim_after_a_failing_run_with_no_change_is_contradicted() -> None:
    """The agent ran the tests, changed nothing, and says they pass."""
    def build(rec: TraceRecorder) -> None:
        run(rec, FAILING, 1)
        rec.message("Fixed it, all tests pass.")

    trace = make(build)
    (finding,) = findings("false_success_claim", trace)
    assert finding.evidence["pattern"] == "contradicted_by_tests"
    assert finding.evidence["failing"] == ["tests/test_api.py::test_timeout"]
    # The run itself, before any change, is the bug reproduced: not a failing test of a fix.
    assert findings("failing_tests", trace) == []


def test_a_claim_after_the_fix_is_not_held_to_the_run_before_it() -> None:
    """Reproduce (fail), fix, claim without testing: unverified, not contradicted."""
    def build(rec: TraceRecorder) -> None:
        run(rec, FAILING, 1)
        edit(rec)
        rec.message("All tests pass.")

    assert patterns("false_success_claim", make(build)) == ["unverified_claim"]


def test_a_claim_checked_against_a_reverted_state_run() -> None:
    def build(rec: TraceRecorder) -> None:
        edit(rec)
        green(rec)
        rec.edit("src/app.py", old="a = 2", new="a = 1")  # an edit back: source edit again
        run(rec, FAILING, 1)
        rec.message("All tests pass.")

    assert patterns("false_success_claim", make(build)) == ["contradicted_by_tests"]
