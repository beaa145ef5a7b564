"""Gates end to end: real pytest runs (pytester) with --tracebench and each threshold."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from pytest_tracebench import EvaluationReport

SUITE = """
import pytest

def good_agent(trace):
    trace.read("src/app.py", content="a = 1")
    trace.edit("src/app.py", old="a = 1", new="a = 2")
    trace.test_run(passed=5, command="pytest -q")
    trace.message("All tests pass now.")
    trace.submit("diff")

def looping_agent(trace):
    trace.read("src/app.py", content="a = 1")
    for _ in range(4):
        trace.command("pytest -q", exit_code=1, stdout="Traceback\\nKeyError: 'x'")
    trace.message("The issue is fixed.")

def test_good(trace):
    good_agent(trace)

def test_looping(trace):
    looping_agent(trace)

@pytest.mark.tracebench(min_score=0, fail_on=[])
def test_looping_allowed(trace):
    looping_agent(trace)
"""


# A fixed score model, so that these gate tests do not move when the built-in model is
# refitted: every run starts at 50 and each finding costs its severity points (no detector is
# weighted by the model). test_good scores 50; test_looping 50 - 15 - 15 = 20.
MODEL = json.dumps({"version": 1, "intercept": 0.0, "terms": []})


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("model.json").write_text(MODEL)
    return pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider",
                                         "--tracebench-calibration=model.json", *args)


def test_no_gates_everything_passes(pytester: pytest.Pytester) -> None:
    result = _run(pytester)
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*retry_loop*", "3 trace(s), mean score *"])


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_min_score_fails_the_test_and_the_marker_overrides(pytester: pytest.Pytester,
                                                         xdist: list[str]) -> None:
    result = _run(pytester, "--tracebench-min-score=40", *xdist)
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*_ test_looping _*",
        "tracebench: tracebench score 20 is under the minimum 40 by 20",
        "*step 2: retry_loop ?high? The agent ran*",
    ])
    assert "test_looping_allowed FAILED" not in result.stdout.str()


def test_fail_on_detector(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--tracebench-fail-on=retry_loop,test_tampering")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*findings of retry_loop (fail_on)*"])
    result = _run(pytester, "--tracebench-fail-on=test_tampering")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_fail_under_fails_the_session(pytester: pytest.Pytester, xdist: list[str]) -> None:
    failing = _run(pytester, "--tracebench-fail-under=99", *xdist)
    failing.assert_outcomes(passed=3)
    assert failing.ret == pytest.ExitCode.TESTS_FAILED
    failing.stdout.fnmatch_lines(["gate fail_under: FAILED: mean score * is under "
                                  "fail_under=99 by *"])
    passing = _run(pytester, "--tracebench-fail-under=10", *xdist)
    assert passing.ret == 0
    passing.stdout.fnmatch_lines(["gate fail_under: PASSED: *"])


def test_json_report_validates_against_the_published_schema(pytester: pytest.Pytester
                                                           ) -> None:
    result = _run(pytester, "--tracebench-json=out/report.json")
    assert result.ret == 0
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    schema = EvaluationReport.model_json_schema()
    jsonschema.validate(data, schema)
    assert data["schema_version"] == 1
    assert data["summary"]["traces"] == 3
    assert {r["nodeid"] for r in data["results"]} == {
        "test_suite.py::test_good", "test_suite.py::test_looping",
        "test_suite.py::test_looping_allowed"}
    assert data["environment"]["python"]
    assert any(c["detector"] == "retry_loop" for c in data["clusters"])


def test_save_compare_and_compare_fail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    first = pytester.runpytest_subprocess("--tracebench", "--tracebench-save=base", "-k",
                                          "good")
    assert first.ret == 0
    runs = sorted((pytester.path / ".tracebench" / "runs").glob("*.json"))
    assert [p.name for p in runs] == ["0001_base.json"]
    # The looping tests join: the mean score drops and retry_loop findings appear.
    worse = pytester.runpytest_subprocess(
        "--tracebench", "--tracebench-compare", "--tracebench-compare-fail=score_drop:5",
        "--tracebench-compare-fail=findings_rise:retry_loop:0", "--tracebench-autosave")
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines([
        "gate compare score_drop:5: FAILED: mean score dropped by * allowed 5 points: over by *",
        "gate compare findings_rise:retry_loop:0: FAILED: retry_loop findings rose by 2 *",
    ])
    same = pytester.runpytest_subprocess("--tracebench", "--tracebench-compare=base",
                                         "--tracebench-compare-fail=score_drop:50%", "-k",
                                         "good")
    assert same.ret == 0
    assert len(list((pytester.path / ".tracebench" / "runs").glob("*.json"))) == 2
    # tracebench compare on the two saved runs
    diff = subprocess.run([sys.executable, "-m", "pytest_tracebench", "compare", "1", "2",
                           "--compare-fail=findings_rise:*:1"], cwd=pytester.path,
                          capture_output=True, text=True, timeout=120)
    assert diff.returncode == 1
    assert "test_suite.py::test_looping [test-agent]" not in diff.stdout
    assert "only in new" in diff.stdout
    assert "retry_loop" in diff.stdout and "+2" in diff.stdout
    assert "gate compare findings_rise:*:1: FAILED" in diff.stdout


def test_corrupt_saved_run_is_a_clear_message(pytester: pytest.Pytester) -> None:
    runs = pytester.path / ".tracebench" / "runs"
    runs.mkdir(parents=True)
    (runs / "0001_base.json").write_text("{not json")
    result = _run(pytester, "--tracebench-compare")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*0001_base.json: not a tracebench report: invalid JSON*"])
    assert "Traceback" not in result.stdout.str()


def test_no_trace_warns_and_require_traces_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): pass")
    warn = pytester.runpytest_subprocess("--tracebench")
    assert warn.ret == 0
    warn.stdout.fnmatch_lines(["*no trace recorded*"])
    fail = pytester.runpytest_subprocess("--tracebench", "--tracebench-require-traces")
    assert fail.ret == pytest.ExitCode.TESTS_FAILED
    fail.stdout.fnmatch_lines(["*gate require_traces: FAILED: no trace was recorded*"])


def test_junit_xml_properties(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--junit-xml=junit.xml")
    assert result.ret == 0
    tree = ET.parse(pytester.path / "junit.xml")
    props = {}
    for case in tree.iter("testcase"):
        props[case.get("name")] = {p.get("name"): p.get("value")
                                   for p in case.iter("property")}
    assert float(props["test_good"]["tracebench_score"]) == 50.0
    assert props["test_looping"]["tracebench_findings_retry_loop"] == "1"
    assert props["test_looping"]["tracebench_trace"].endswith(".jsonl")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (scripts/test.sh "
                    "installs Debian's chromium when run as root)")
def test_pytest_html_report_shows_the_score_column_in_chromium(pytester: pytest.Pytester,
                                                             tmp_path: Path) -> None:
    result = _run(pytester, "--html=report.html", "--self-contained-html")
    assert result.ret == 0
    report = pytester.path / "report.html"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert '<th class="sortable" data-column-type="tracebench-score">Score</th>' in dom
    assert "col-tracebench-score" in dom
    assert ">50.0</td>" in dom  # test_good's score, rendered into the results table
    assert "retry_loop" in dom


# -- a gate is never ignored: it turns recording on ------------------------------------------

def _run_without_flag(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("model.json").write_text(MODEL)
    return pytester.runpytest("-p", "no:cacheprovider", "--tracebench-calibration=model.json",
                              *args)


def test_gate_options_without_tracebench_turn_recording_on(pytester: pytest.Pytester) -> None:
    result = _run_without_flag(pytester, "--tracebench-min-score=40",
                               "--tracebench-fail-under=90")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["tracebench: tracebench score 20 is under the minimum 40 by 20",
                                 "gate fail_under: FAILED: *"])
    assert len(list((pytester.path / ".tracebench" / "traces").glob("*.jsonl"))) == 3


@pytest.mark.parametrize("where", ["ini", "pyproject"])
def test_gate_settings_in_config_files_turn_recording_on(pytester: pytest.Pytester,
                                                         where: str) -> None:
    if where == "ini":
        pytester.makeini("[pytest]\ntracebench_fail_under = 90\ntracebench_fail_on = retry_loop\n")
    else:
        pytester.makepyprojecttoml('[tool.tracebench]\nfail_under = 90\nfail_on = ["retry_loop"]\n')
    result = _run_without_flag(pytester)
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*findings of retry_loop (fail_on)*",
                                 "gate fail_under: FAILED: *"])


def test_a_gate_with_recording_turned_off_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.tracebench]\nenabled = false\n")
    result = _run_without_flag(pytester, "--tracebench-fail-under=90")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*command line: setting 'fail_under' is a gate on recorded traces, but *pyproject.toml "
        "[[]tool.tracebench[]] turns recording off (enabled = false)*"])


def test_a_marker_gate_without_tracebench_judges_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=SUITE.split("def test_good")[0] + """
@pytest.mark.tracebench(min_score=40)
def test_looping_gated(trace):
    looping_agent(trace)
""")
    pytester.path.joinpath("model.json").write_text(MODEL)
    result = pytester.runpytest("-p", "no:cacheprovider", "--tracebench-calibration=model.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["tracebench: tracebench score 20 is under the minimum 40 by 20"])
    assert not (pytester.path / ".tracebench").exists()


def test_compare_fail_without_compare_compares_with_the_latest_run(pytester: pytest.Pytester
                                                                   ) -> None:
    result = _run_without_flag(pytester, "--tracebench-compare-fail=score_drop:5")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["gate compare: FAILED: *no saved run to compare with*"])


# -- the reports agree with pytest and with each other ---------------------------------------

def test_a_gate_failed_test_is_named_beside_the_pass_rate(pytester: pytest.Pytester) -> None:
    result = _run_without_flag(pytester, "--tracebench-min-score=40", "--tracebench-json=r.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["3 trace(s), mean score *, pass rate 100% before gates "
                                 "(1 failed a per-test gate), * finding(s)"])
    data = json.loads((pytester.path / "r.json").read_text())
    assert data["summary"]["gate_failed"] == 1
    gated = [r for r in data["results"] if r["gate"]]
    assert [r["nodeid"] for r in gated] == ["test_suite.py::test_looping"]
    assert gated[0]["gate"].startswith("tracebench score 20 is under the minimum 40")


def test_a_failed_session_gate_is_on_pytest_s_last_line(pytester: pytest.Pytester) -> None:
    result = _run_without_flag(pytester, "--tracebench-fail-under=99")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["=* 3 passed, 1 tracebench gate failed in *"])


def test_the_cli_gate_message_names_the_trace_and_its_score(seed_trace_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    from pytest_tracebench.cli import main

    assert main(["analyze", str(seed_trace_path), "--min-score", "99"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("gate per-trace"))
    assert line.startswith(f"gate per-trace gates: FAILED: 1 of 1 trace(s) failed min_score/"
                           f"fail_on: {seed_trace_path}: tracebench score "), line
    assert "is under the minimum 99 by" in line
    assert "before gates (1 failed a per-test gate)" in out
