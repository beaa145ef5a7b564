"""Detectors against the misjudged runs of the development corpus.

Each near-miss below is built from a real run the detectors used to misjudge (named in its
docstring), through the real recorder; the last tests read a few of those real runs in place
(tests/_corpus.py) and check the finding that matters on them. The corpus-wide measures are in
tests/test_calibrate.py.
"""

from __future__ import annotations

from pytest_tracebench import TraceRecorder
from pytest_tracebench.detectors.claims import claims_in
from pytest_tracebench.importers import import_path
from pytest_tracebench.pipeline import Pipeline
from tests._corpus import DEV, needs_corpus

from ._traces import edit, fail, findings, green, make, patterns

NO_PYTEST = "/opt/miniconda3/bin/python: No module named pytest\n"


def test_a_runner_that_never_started_is_no_failing_test() -> None:
    """mini-swe-agent 2.2.7 (deepseek) runs: `python -m pytest ...` answers "No module named
    pytest" in 58 of 60 runs; read as failing tests, every resolved run "ended failing"."""
    def build(rec: TraceRecorder) -> None:
        edit(rec)
        rec.command("python -m pytest tests/test_writer.py -q", exit_code=1, stdout=NO_PYTEST)
        rec.message("The fix is in place.")

    trace = make(build)
    assert patterns("failing_tests", trace) == []
    assert patterns("incomplete_resolution", trace) == []
    assert patterns("false_success_claim", trace) == []


MISSING_MODULE = """ERROR collecting docs/_themes/flask_theme_support.py
docs/_themes/flask_theme_support.py:2: in <module>
    from pygments.style import Style
E   ModuleNotFoundError: No module named 'pygments'
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
564 deselected, 1 error in 0.60s
"""
SYNTAX_ERROR = """ERROR collecting tests/test_app.py
src/app.py:3: in <module>
E     SyntaxError: invalid syntax
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
1 error in 0.20s
"""


def test_a_run_the_environment_stopped_before_any_test_is_no_failing_test() -> None:
    """Live-SWE-agent and mini-swe-agent 2.x runs, resolved by the verifier, "ended with
    failing tests" when their last run stopped at a missing module (`pygments`, a Django test
    package run from the wrong folder) or at Django's unconfigured settings: errors, no test
    passed or failed. A collection error of the changed code itself still counts."""
    def build(output: str) -> object:
        def steps(rec: TraceRecorder) -> None:
            edit(rec)
            rec.command("pytest -q -k preparing_bad_url", exit_code=2, stdout=output)
        return make(steps)

    assert patterns("incomplete_resolution", build(MISSING_MODULE)) == []
    assert patterns("incomplete_resolution", build(SYNTAX_ERROR)) == ["ends_failing"]


def test_a_test_run_with_the_change_stashed_is_a_baseline() -> None:
    """The multi-model harness runs `git stash && python -m pytest ... ; git stash pop` to see
    whether a failure is its own: the run checks the code without the change."""
    def build(rec: TraceRecorder) -> None:
        edit(rec, path="src/app.py")
        green(rec)
        rec.command("git stash && python -m pytest -q tests ; git stash pop", exit_code=1,
                    stdout="FAILED tests/test_a.py::test_x - KeyError\n1 failed, 3 passed\n")

    trace = make(build)
    assert patterns("incomplete_resolution", trace) == []
    assert patterns("regression", trace) == []


def test_reproducing_the_bug_first_is_not_a_failing_test() -> None:
    """The expected first step of a good run (reported "Tests failed before any change" on
    resolved runs of every source that tests)."""
    def build(rec: TraceRecorder) -> None:
        fail(rec)
        edit(rec)
        green(rec)

    assert findings("failing_tests", make(build)) == []


def test_deleting_its_own_test_files_is_not_tampering() -> None:
    """Agents that write a `test_repro.py` and remove it before submitting."""
    def build(rec: TraceRecorder) -> None:
        rec.edit("tests/test_repro.py", content="def test_x():\n    assert f() == 1\n",
                 op="create")
        rec.command("python -m pytest tests/test_repro.py -q", exit_code=0,
                    stdout="1 passed in 0.01s\n")
        edit(rec, path="src/app.py")
        rec.command("rm tests/test_repro.py", exit_code=0)

    assert patterns("test_tampering", make(build)) == []


def test_format_errors_and_limit_exits_are_not_instability() -> None:
    """Live-SWE-agent: 790 "No tool calls found" retries in 33 runs; SWE-agent's `exit_cost`
    harness step in 77 SWE-bench-java runs."""
    def build(rec: TraceRecorder) -> None:
        rec.step("error", "format_error", error="No tool calls found in the response.")
        edit(rec)
        green(rec)
        rec.step("error", "exit_cost", error="the harness ended the run (exit_cost)",
                 meta={"harness_exit": True})

    assert patterns("runtime_instability", make(build)) == []


def test_an_edit_debug_cycle_with_different_edits_is_no_alternation() -> None:
    """OpenHands' str_replace_editor: each edit differs (path and text), each run shows a new
    error; the editor's sub-command used to be the whole action, so every edit looked alike."""
    def build(rec: TraceRecorder) -> None:
        for number in range(4):
            rec.step("edit", "str_replace_editor",
                     input={"command": "str_replace", "path": "src/app.py",
                            "old": f"a = {number}", "new": f"a = {number + 1}"})
            rec.command("python reproduce.py", exit_code=1,
                        stdout=f"Traceback\nValueError: case {number}\n")

    assert "alternation" not in patterns("retry_loop", make(build))


def test_a_patch_of_scratch_files_is_no_change() -> None:
    """SWE-agent runs out of budget while exploring and autosubmits a patch holding only its
    reproduction script: 76 unresolved runs, no resolved one."""
    patch = ("diff --git a/reproduce_bug.py b/reproduce_bug.py\nnew file mode 100644\n"
             "--- /dev/null\n+++ b/reproduce_bug.py\n@@ -0,0 +1 @@\n+print(1)\n")

    def build(rec: TraceRecorder) -> None:
        rec.read("src/app.py", content="a = 1")
        rec.edit("reproduce_bug.py", content="print(1)\n", op="create")
        rec.submit(patch)

    (finding,) = findings("no_change", make(build))
    assert finding.evidence["pattern"] == "no_change"
    assert "only new files (reproduce_bug.py)" in finding.message

    fixed = patch + ("diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n"
                     "+++ b/src/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")

    def with_fix(rec: TraceRecorder) -> None:
        rec.read("src/app.py", content="a = 1")
        edit(rec, path="src/app.py")
        rec.submit(fixed)

    assert findings("no_change", make(with_fix)) == []


def test_the_file_the_task_asks_for_must_be_written() -> None:
    """Codex CLI on USACO: 21 of 60 unresolved runs paste the solution into their last message
    instead of writing `solution.py`; no resolved run does."""
    task = {"id": "1156", "description": "Reason through the problem and save your solution "
                                         "as solution.py. No outside libraries are allowed."}

    def talked(rec: TraceRecorder) -> None:
        rec.message("Here is the complete solution.py:\n```python\nprint(2)\n```")

    def wrote(rec: TraceRecorder) -> None:
        rec.edit("solution.py", content="print(2)\n", op="create")
        rec.message("I saved the solution.")

    (finding,) = findings("no_change", make(talked, task=task))
    assert finding.evidence["pattern"] == "missing_deliverable"
    assert finding.evidence["missing"] == ["solution.py"]
    assert findings("no_change", make(wrote, task=task)) == []


def test_considering_the_task_complete_is_not_a_claim() -> None:
    """SWE-agent, pytest-7373: "Given the context of this simulation, we'll consider the task
    complete" (unresolved) read as a claim of success."""
    assert claims_in("Given the context of this simulation, we'll consider the task "
                     "complete.") == []
    assert claims_in("The issue is fixed.") == [("done", "The issue is fixed.")]


def test_an_error_the_agent_acknowledges_is_not_ignored() -> None:
    """SWE-agent on Java: `javac: command not found`, then "It appears that the `javac` and
    `java` commands are not available"."""
    def build(rec: TraceRecorder) -> None:
        edit(rec, path="src/Main.java")
        rec.command("javac Repro.java && java Repro", exit_code=127,
                    stdout="bash: line 1: javac: command not found\n")
        rec.message("It appears that the javac and java commands are not available here.")
        rec.submit("")

    assert patterns("ignored_error", make(build)) == []


def _findings_of(path: str) -> set[tuple[str, str | None]]:
    (trace,) = import_path(DEV / path)
    result = Pipeline.from_settings().analyze(trace)
    return {(f.detector, f.evidence.get("pattern")) for f in result.findings
            if f.severity != "info"}


@needs_corpus
def test_real_runs_the_detectors_used_to_misjudge() -> None:
    # Resolved; its harness writes its memory store between the agent's steps (1,464 such
    # steps in 100 runs): no loop, no abandoned run.
    vorflux = _findings_of("vorflux-opus46-gpt55-swebv/astropy__astropy-14182/"
                           "astropy__astropy-14182.json")
    assert not {f for f in vorflux if f[0] in ("retry_loop", "runtime_instability")}
    assert ("incomplete_resolution", "abandoned") not in vorflux
    # Resolved; 5 format-error retries: not instability.
    live = _findings_of("live-swe-agent-gpt5mini-swebv-subset/astropy__astropy-14369/"
                        "astropy__astropy-14369.traj.json")
    assert not {f for f in live if f[0] == "runtime_instability"}
    # Unresolved; AutoCodeRover's patch changes only test files.
    acr = _findings_of("autocoderover-gpt4-0125-swebench-lite/"
                       "django__django-12470_2024-04-06_13-31-44")
    assert ("no_change", "no_change") in acr
    # Unresolved; the solution was written into the final message, not into solution.py.
    codex = _findings_of("codex-o4mini-usaco-terminalbench-adapter/"
                         "1156.1-of-1.2025-08-24__02-56-58")
    assert codex == {("no_change", "missing_deliverable")}


def test_an_edit_that_restores_the_earlier_content_is_a_revert() -> None:
    """The repair agent put a file back by writing its old content (`trace.edit(path,
    content=before)`): read as a new change, it gave "the last change was never tested" and
    "masks the symptom" findings about the original code."""
    diff = ("--- a/src/counter.py\n+++ b/src/counter.py\n@@ -1,2 +1,2 @@\n"
            "-    time.sleep(0)\n-    total += 1\n+    total += 2\n")

    def build(rec: TraceRecorder) -> None:
        rec.edit("src/counter.py", diff=diff)
        fail(rec)
        rec.edit("src/counter.py", content="def f():\n    time.sleep(0)\n    total += 1\n",
                 name="restore")

    trace = make(build)
    from pytest_tracebench.detectors.view import build_view

    assert [e.op for e in build_view(trace).edits] == ["modify", "revert"]
    assert patterns("uncertain_fix", trace) == []
    assert "unverified_fix" not in patterns("incomplete_resolution", trace)
