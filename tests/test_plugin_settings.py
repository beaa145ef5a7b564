"""The pytest front end reads the one resolved Settings: the marker's overrides, pytest-html,
the pipeline (redactor and detectors, built once) and the marker's documented fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_tracebench.models import Finding, Score, TraceResult
from pytest_tracebench.replay.cassette import CassetteError, open_cassette
from pytest_tracebench.report.junit import junit_properties

LOOPING = """
import pytest

def looping_agent(trace):
    trace.read("src/app.py", content="a = 1")
    for _ in range(4):
        trace.command("pytest -q", exit_code=1, stdout="Traceback\\nKeyError: 'x'")
    trace.message("The issue is fixed.")
"""


@pytest.mark.parametrize(("value", "message"), [
    ('"abc"', "setting 'min_score': Input should be a valid number, got 'abc'"),
    ("150", "setting 'min_score': Input should be less than or equal to 100"),
])
def test_a_bad_marker_override_is_a_usage_error_naming_the_test(
        pytester: pytest.Pytester, value: str, message: str) -> None:
    pytester.makepyfile(test_marked=LOOPING + f"""
@pytest.mark.tracebench(min_score={value})
def test_gated(trace):
    looping_agent(trace)

def test_other(trace):
    looping_agent(trace)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--tracebench")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == \
        f"ERROR: test_marked.py::test_gated: @pytest.mark.tracebench: {message}"
    result.stdout.no_fnmatch_line("*passed*")  # stopped before any test ran


def test_a_bad_marker_replay_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=LOOPING + """
@pytest.mark.tracebench(replay="sometimes")
def test_replayed(trace):
    looping_agent(trace)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--tracebench")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: test_marked.py::test_replayed: @pytest.mark."
                                 "tracebench: setting 'replay': Input should be *"])


def test_a_marker_fail_on_as_text_is_a_list(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=LOOPING + """
@pytest.mark.tracebench(fail_on="test_tampering, retry_loop")
def test_gated(trace):
    looping_agent(trace)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*findings of retry_loop (fail_on)*"])


def test_the_marker_line_lists_every_field_the_marker_takes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.tracebench(task=None, agent=None, budget=None, "
                                 "min_score=None, fail_on=None, replay=None, **meta): *"])


def test_pytest_html_links_the_dashboard_set_in_pyproject(pytester: pytest.Pytester) -> None:
    """pytest-html read only --tracebench-html/the ini key: [tool.tracebench] html was lost."""
    pytest.importorskip("pytest_html")
    pytester.makepyprojecttoml('[tool.tracebench]\nhtml = "out/dash.html"\n')
    pytester.makepyfile(test_marked=LOOPING + """
def test_run(trace):
    looping_agent(trace)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--tracebench",
                                           "--html=report.html")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "out/dash.html").is_file()
    page = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert re.search(r"out/dash\.html#/trace/[0-9a-f-]+", page), "no link to the dashboard"


COUNTING_PLUGIN = """
from pytest_tracebench import hookimpl
from pytest_tracebench.detectors import Detector

CALLS = []

class Never(Detector):
    name = "never"
    category = "other"

    def detect(self, trace):
        return []

@hookimpl
def tracebench_detectors(settings):
    CALLS.append(1)
    return [Never()]

@hookimpl
def tracebench_redaction_patterns(settings):
    return [("corp_id", r"CORP-[0-9]{6}")]
"""

COUNTING_CONFTEST = """
import countplugin

def pytest_sessionfinish(session):
    from pytest_tracebench.plugin import STATE_KEY

    state = session.config.stash[STATE_KEY]
    redactor = state.pipeline.redactor
    redacts = redactor is not None and "CORP-123456" not in redactor.redact_text("CORP-123456")
    same = redactor is state.redactor or redactor.patterns == state.redactor.patterns
    print(f"\\nLOADS {len(countplugin.CALLS)} REDACTS {redacts} SAME {same}")
"""


def test_the_session_pipeline_loads_detectors_once_and_redacts_like_the_cli(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(countplugin=COUNTING_PLUGIN, test_marked=LOOPING + """
def test_a(trace):
    looping_agent(trace)

def test_b(trace):
    looping_agent(trace)
""")
    pytester.makeconftest(COUNTING_CONFTEST)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--tracebench",
                                           "--tracebench-min-score=0",
                                           "-o", "tracebench_plugins=countplugin")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["LOADS 1 REDACTS True SAME True"])


def test_junit_properties_of_a_result() -> None:
    finding = Finding(detector="retry_loop", category="loops", severity="high", message="m")
    result = TraceResult(trace_id="t", task_id="x", agent="a", status="completed", step_count=1,
                         score=Score(value=42.0, reward=0.42),
                         findings=[finding, finding.model_copy(), finding.model_copy(
                             update={"detector": "budget"})], path="a.jsonl")
    assert junit_properties(result) == [
        ("tracebench_score", 42.0), ("tracebench_findings", 3),
        ("tracebench_findings_budget", 1), ("tracebench_findings_retry_loop", 2),
        ("tracebench_trace", "a.jsonl")]


def test_open_cassette(tmp_path: Path) -> None:
    recorded = tmp_path / "t.jsonl"
    with pytest.raises(CassetteError, match="mode 'none': no recording for t::x at "):
        open_cassette("none", recorded, ["name"], label="t::x")
    with pytest.raises(CassetteError, match="unknown mode 'sometimes'"):
        open_cassette("sometimes", recorded, ["name"], label="t::x")
    cassette, target = open_cassette("once", recorded, ["name", "args"], label="t::x")
    assert target == recorded and not cassette.recording_exists
    recorded.write_text("not json\n")
    with pytest.raises(CassetteError, match="tracebench replay: "):
        open_cassette("none", recorded, ["name"], label="t::x")
