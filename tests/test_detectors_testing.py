from __future__ import annotations

from ._traces import edit, fail, findings, green, make, patterns


def test_failing_run_after_a_change_is_reported_with_ids() -> None:
    def build(rec):
        edit(rec)
        fail(rec, ids=("tests/test_a.py::test_x", "tests/test_a.py::test_y"))

    (finding,) = findings("failing_tests", make(build))
    assert finding.evidence["failing"] == ["tests/test_a.py::test_x", "tests/test_a.py::test_y"]
    assert finding.severity == "info"  # evidence; the final state is incomplete_resolution's
    assert "2 failing" in finding.message


def test_early_failure_in_a_run_that_ends_green_is_low_or_silent() -> None:
    def reproduce_first(rec):
        fail(rec)  # baseline: the bug the task is about
        edit(rec)
        green(rec)

    def fixed_later(rec):
        edit(rec)
        fail(rec)
        edit(rec, new="a = 3")
        green(rec)

    assert patterns("failing_tests", make(reproduce_first)) == []
    (finding,) = findings("failing_tests", make(fixed_later))
    assert finding.severity == "info" and finding.evidence["fixed_later"]


def test_preexisting_failures_proven_by_a_baseline_run_are_not_held_against_the_agent() -> None:
    unrelated = ("tests/test_env.py::test_permissions",)

    def build(rec):
        edit(rec, path="src/lib.py")
        fail(rec, ids=unrelated)
        rec.command("git checkout src/lib.py", exit_code=0)  # revert to check
        fail(rec, ids=unrelated)
        edit(rec, path="src/lib.py")
        rec.command("python verify.py", exit_code=0, stdout="ok")

    trace = make(build)
    assert patterns("failing_tests", trace) == []
    assert patterns("incomplete_resolution", trace) == []
    assert patterns("regression", trace) == []


def test_incomplete_resolution_patterns() -> None:
    def ends_failing(rec):
        edit(rec)
        fail(rec)

    def partial(rec):
        fail(rec, ids=("t::a", "t::b", "t::c"))
        edit(rec)
        fail(rec, ids=("t::c",))

    def unverified(rec):
        edit(rec)
        green(rec)
        edit(rec, new="a = 3")

    def never_tested(rec):
        edit(rec)

    assert patterns("incomplete_resolution", make(ends_failing)) == ["ends_failing"]
    assert patterns("incomplete_resolution", make(partial)) == ["partial_fix"]
    assert patterns("incomplete_resolution", make(unverified)) == ["unverified_fix"]
    (finding,) = findings("incomplete_resolution", make(unverified))
    assert "had checked earlier changes, but nothing ran after this one" in finding.message
    # An agent that never ran anything (a retrieval agent with no shell, 100 of 100 real
    # AutoCodeRover runs) is not told its last change was untested: it could not test it.
    assert patterns("incomplete_resolution", make(never_tested)) == []


def test_suite_timeout_checked_only_by_own_scripts() -> None:
    def build(rec):
        edit(rec, path="requests/sessions.py")
        rec.step("test", "python3", input={"command": "python3 test_requests.py"},
                 output={"ok": False, "timed_out": True, "passed": None, "failed": None,
                         "failing": []})
        rec.edit("test_fix.py", content="import unittest", op="create")
        rec.test_run(passed=3, command="python3 test_fix.py")

    assert "suite_never_completed" in patterns("incomplete_resolution", make(build))


def test_green_run_with_the_last_change_tested_is_clean() -> None:
    def build(rec):
        fail(rec)
        edit(rec)
        green(rec)

    trace = make(build)
    assert patterns("incomplete_resolution", trace) == []
    assert patterns("regression", trace) == []


def test_regression_passed_then_failed_after_a_change() -> None:
    def build(rec):
        green(rec)
        edit(rec)
        fail(rec, ids=("tests/test_b.py::test_other",))

    def flaky_no_change(rec):
        green(rec)
        fail(rec)

    (finding,) = findings("regression", make(build))
    assert finding.severity == "high"
    assert finding.evidence["broken"] == ["tests/test_b.py::test_other"]
    assert patterns("regression", make(flaky_no_change)) == []


def test_new_failures_in_an_already_failing_target() -> None:
    def build(rec):
        edit(rec)
        fail(rec, ids=("t::a",))
        edit(rec, new="a = 3")
        fail(rec, ids=("t::a", "t::b"))
        edit(rec, new="a = 4")
        fail(rec, ids=("t::a",))

    (finding,) = findings("regression", make(build))
    assert finding.evidence["broken"] == ["t::b"] and finding.severity == "low"


def test_agent_that_stops_after_a_tool_result_left_the_work_unfinished() -> None:
    def abandoned(rec):
        rec.message("Let me look at the data first.")
        rec.read("data.csv", content="x,y")

    def concluded(rec):
        rec.message("Let me look at the data first.")
        rec.read("data.csv", content="x,y")
        rec.message("The data is already clean; nothing to change.")

    def silent_harness(rec):  # no agent messages at all: nothing to expect
        rec.read("data.csv", content="x,y")

    assert patterns("incomplete_resolution", make(abandoned)) == ["abandoned"]
    assert patterns("incomplete_resolution", make(concluded)) == []
    assert patterns("incomplete_resolution", make(silent_harness)) == []
