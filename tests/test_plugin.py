"""End-to-end: real pytest runs (pytester) of test files that use the `trace` fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AGENT_TEST = """
import pytest

def fake_agent(trace, fail=False):
    trace.read("src/client.py", content="timeout=1")
    trace.edit("src/client.py", diff="-timeout=1\\n+timeout=5")
    trace.test_run(passed=2, failed=1 if fail else 0,
                   failing=["tests/test_client.py::test_retry"] if fail else [])
    trace.message("Done: the timeout is fixed.")

def test_solves(trace):
    fake_agent(trace)

@pytest.mark.tracebench(task="api-timeout", agent="scripted", budget={"steps": 10})
def test_fails(trace):
    fake_agent(trace, fail=True)
    assert False, "hidden tests failed"

def test_without_trace():
    pass
"""


def _traces(root: Path) -> dict[str, list[dict]]:
    out = {}
    for path in sorted((root / ".tracebench" / "traces").glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        out[records[0]["task"]["nodeid"]] = records
    return out


def test_fixture_records_one_file_per_test_with_header_steps_end(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_agent=AGENT_TEST)
    # JUnit properties need each test's score as it ends: results travel on its report.
    reprec = pytester.inline_run("--tracebench", "--junit-xml=junit.xml")
    reprec.assertoutcome(passed=2, failed=1)
    traces = _traces(pytester.path)
    assert set(traces) == {"test_agent.py::test_solves", "test_agent.py::test_fails"}
    solves = traces["test_agent.py::test_solves"]
    assert [r["type"] for r in solves] == ["trace", "step", "step", "step", "step", "end"]
    assert [r["kind"] for r in solves[1:-1]] == ["read", "edit", "test", "message"]
    assert solves[-1]["status"] == "completed"
    fails = traces["test_agent.py::test_fails"]
    assert fails[0]["task"]["id"] == "api-timeout"
    assert fails[0]["task"]["budget"] == {"steps": 10}
    assert fails[0]["agent"]["name"] == "scripted"
    assert fails[-1]["status"] == "failed"
    # What decided the run: the test's own failure, its assertion and message.
    assert fails[-1]["outcome"]["passed"] is False
    assert "AssertionError: hidden tests failed" in fails[-1]["outcome"]["failure"]
    assert "failure" not in solves[-1]["outcome"]
    # Per-test results travel on the call report as builtin types.
    results = {
        r.nodeid: r.tracebench
        for r in reprec.getreports("pytest_runtest_logreport")
        if r.when == "call" and hasattr(r, "tracebench")
    }
    assert set(results) == set(traces)
    assert results["test_agent.py::test_solves"]["step_kinds"] == {
        "edit": 1, "message": 1, "read": 1, "test": 1,
    }
    json.dumps(results)  # builtins only


def test_same_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=AGENT_TEST)
    result = pytester.runpytest_subprocess("--tracebench", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    traces = _traces(pytester.path)
    assert set(traces) == {"test_agent.py::test_solves", "test_agent.py::test_fails"}
    assert all(records[-1]["type"] == "end" for records in traces.values())
    result.stdout.fnmatch_lines(["*= tracebench =*",
                                 "=== Failure Report: test_agent.py::test_fails*",
                                 "*=== Failure Clusters ===*", "2 trace(s), mean score *"])


def test_without_the_flag_nothing_is_written_and_tests_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_trace(trace):
            trace.message("hello")
            assert trace.steps[0].output == {"text": "hello"}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".tracebench").exists()
    assert "= tracebench =" not in result.stdout.str()


def test_trace_dir_option_and_settings_precedence(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.tracebench]
        dir = "from-pyproject"
        max_output_chars = 200
        """
    )
    pytester.makeini(
        """
        [pytest]
        tracebench_dir = from-ini
        """
    )
    pytester.makepyfile(
        """
        def test_big(trace):
            trace.command("cat log", exit_code=0, stdout="y" * 1000)
        """
    )
    pytester.runpytest("--tracebench").assert_outcomes(passed=1)
    (path,) = (pytester.path / "from-ini" / "traces").glob("*.jsonl")
    step = json.loads(path.read_text().splitlines()[1])
    # max_output_chars came from pyproject.toml (the ini did not set it)
    assert step["meta"]["truncated"]["output.stdout"]["length"] == 1000
    pytester.runpytest("--tracebench", "--tracebench-dir=from-cli").assert_outcomes(passed=1)
    assert list((pytester.path / "from-cli" / "traces").glob("*.jsonl"))


def test_bad_setting_is_a_usage_error_naming_its_source(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.tracebench]
        max_output_chars = "lots"
        """
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--tracebench")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = f"ERROR: {pytester.path / 'pyproject.toml'} [tool.tracebench]: setting " \
        "'max_output_chars': Input should be a valid integer"
    assert line in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_secret_in_a_test_never_reaches_the_trace_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_leaky(trace):
            KEY = "sk-" + "abcdefghijklmnopqrstuvwxyz123456"
            trace.command("env", exit_code=0, stdout="OPENAI_API_KEY=" + KEY)
        """
    )
    pytester.runpytest("--tracebench").assert_outcomes(passed=1)
    (path,) = (pytester.path / ".tracebench" / "traces").glob("*.jsonl")
    assert "sk-abcdefghijklmnopqrstuvwxyz123456" not in path.read_text()


def test_node_ids_become_safe_file_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a" * 300])
        def test_param(trace, name):
            trace.message(name)
        """
    )
    pytester.runpytest("--tracebench").assert_outcomes(passed=3)
    trace_dir = pytester.path / ".tracebench" / "traces"
    files = sorted(trace_dir.iterdir())
    assert len(files) == 3
    for path in files:
        assert path.parent == trace_dir
        assert len(path.name) < 160
        assert not path.name.startswith(".")


def test_error_in_the_agent_marks_the_run_as_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_crash(trace):
            trace.message("starting")
            raise RuntimeError("agent crashed")
        """
    )
    pytester.runpytest("--tracebench").assert_outcomes(failed=1)
    (path,) = (pytester.path / ".tracebench" / "traces").glob("*.jsonl")
    end = json.loads(path.read_text().splitlines()[-1])
    assert end["status"] == "error"


def test_trace_finished_hook_reaches_a_configured_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        myplugin="""
        from pytest_tracebench import hookimpl

        SEEN = []

        @hookimpl
        def tracebench_trace_finished(trace, path):
            SEEN.append((trace.header.task.nodeid, len(trace.steps), path is not None))
        """,
        test_x="""
        import myplugin

        def test_one(trace):
            trace.message("hi")

        def test_check():
            assert myplugin.SEEN == [("test_x.py::test_one", 1, True)]
        """,
    )
    pytester.syspathinsert()
    result = pytester.runpytest("--tracebench", "-p", "no:randomly",
                                "-o", "tracebench_plugins=myplugin")
    result.assert_outcomes(passed=2)
