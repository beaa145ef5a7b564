"""The end of a run (``finish``) from both front ends: ``pytest --tracebench`` and
``tracebench analyze`` on the same traces reach the same gates, with the same messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench.cli import main
from pytest_tracebench.finish import finish
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.models import EvaluationReport, Gate
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.trace_file import dump_trace, load_trace
from pytest_tracebench.report import build_report, load_report
from pytest_tracebench.settings import Settings

SUITE = """
def test_good(trace):
    trace.read("src/app.py", content="a = 1")
    trace.edit("src/app.py", old="a = 1", new="a = 2")
    trace.test_run(passed=5, command="pytest -q")
    trace.message("All tests pass now.")
    trace.submit("diff")

def test_looping(trace):
    trace.read("src/app.py", content="a = 1")
    for _ in range(4):
        trace.command("pytest -q", exit_code=1, stdout="Traceback\\nKeyError: 'x'")
    trace.message("The issue is fixed.")
"""

# A fixed score model (as in test_gates.py): test_good scores 50, test_looping 20.
MODEL = json.dumps({"version": 1, "intercept": 0.0, "terms": []})


def _both(pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], pytest_args: list[str],
          cli_args: list[str]) -> tuple[tuple[int, str, dict[str, Any]],
                                        tuple[int, str, dict[str, Any]]]:
    """Run the suite under pytest, then ``tracebench analyze`` on the traces it recorded, each
    with its spelling of the same options and a JSON report; their exit code, output, report."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("model.json").write_text(MODEL)
    ran = pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider",
                                        "--tracebench-calibration=model.json",
                                        "--tracebench-json=pytest.json", *pytest_args)
    traces = pytester.path / ".tracebench" / "traces"
    capsys.readouterr()
    code = main(["analyze", str(traces), "--calibration=model.json", "--json=cli.json",
                 *cli_args])
    out = capsys.readouterr()
    return ((int(ran.ret), ran.stdout.str(), json.loads(pytester.path.joinpath(
                "pytest.json").read_text())),
            (code, out.out + out.err, json.loads(pytester.path.joinpath(
                "cli.json").read_text())))


def _gate(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in report["gates"] if g["name"] == name)


@pytest.mark.parametrize("baseline", ["corrupt", "no saved run", "missing file"])
def test_a_bad_baseline_is_the_same_failed_gate_from_both_front_ends(
        pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], baseline: str) -> None:
    ref = "latest"
    if baseline == "corrupt":
        runs = pytester.path / ".tracebench" / "runs"
        runs.mkdir(parents=True)
        (runs / "0001_base.json").write_text("{not json")
    elif baseline == "missing file":
        ref = str(pytester.path / "nope.json")
    under_pytest, under_cli = _both(pytester, capsys, [f"--tracebench-compare={ref}"],
                                    [f"--compare={ref}"])
    for code, output, report in (under_pytest, under_cli):
        assert code == 1, output
        gate = _gate(report, "compare")  # the report is still written, and says why
        assert gate["passed"] is False
        assert f"gate compare: FAILED: {gate['message']}" in output
        assert "Traceback" not in output
    assert _gate(under_pytest[2], "compare") == _gate(under_cli[2], "compare")
    expected = {"corrupt": "0001_base.json: not a tracebench report: invalid JSON",
                "no saved run": "no saved run to compare with",
                "missing file": "nope.json: no such file"}[baseline]
    assert expected in _gate(under_cli[2], "compare")["message"]


def test_per_trace_gates_are_the_same_gate_from_both_front_ends(
        pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    (py_code, py_out, py_report), (cli_code, cli_out, cli_report) = _both(
        pytester, capsys, ["--tracebench-min-score=40"], ["--min-score=40"])
    assert py_code == cli_code == 1
    assert _gate(py_report, "per-trace gates") == _gate(cli_report, "per-trace gates")
    gate = _gate(cli_report, "per-trace gates")
    assert gate["passed"] is False
    assert gate["message"].startswith("1 of 2 trace(s) failed min_score/fail_on: ")
    assert "tracebench score 20 is under the minimum 40 by 20" in gate["message"]
    for output in (py_out, cli_out):
        assert f"gate per-trace gates: FAILED: {gate['message']}" in output
    # pytest counts the gated test as failed already: the gate is not counted a second time.
    last = py_out.strip().splitlines()[-1]
    assert "1 failed, 1 passed" in last and "tracebench gate failed" not in last


def test_no_per_trace_gate_without_min_score_or_fail_on(
        pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    (py_code, _, py_report), (cli_code, _, cli_report) = _both(pytester, capsys, [], [])
    assert py_code == cli_code == 0
    assert py_report["gates"] == cli_report["gates"] == []


def test_a_marker_gate_is_a_per_trace_gate_and_a_saved_report_is_not_judged_again(
        pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    pytester.makepyfile(test_suite="import pytest\n" + SUITE.replace(
        "def test_looping", "@pytest.mark.tracebench(min_score=40)\ndef test_looping"))
    pytester.path.joinpath("model.json").write_text(MODEL)
    ran = pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider",
                                        "--tracebench-calibration=model.json",
                                        "--tracebench-json=pytest.json")
    assert ran.ret == 1
    saved = pytester.path / "pytest.json"
    gate = _gate(json.loads(saved.read_text()), "per-trace gates")
    assert gate["passed"] is False and gate["message"].startswith("1 of 2 trace(s) failed")
    # Re-rendered without min_score/fail_on, the saved report's old verdicts gate nothing.
    capsys.readouterr()
    assert main(["report", str(saved), "--json=again.json"]) == 0
    assert json.loads((pytester.path / "again.json").read_text())["gates"] == []
    assert main(["report", str(saved), "--min-score=40", "--json=again.json"]) == 1
    assert _gate(json.loads((pytester.path / "again.json").read_text()),
                 "per-trace gates") == gate


# -- the dashboard's redactor: the settings' plugins, whichever front end asks ---------------

PLUGIN = """
from pytest_tracebench import hookimpl

@hookimpl
def tracebench_redaction_patterns(settings):
    return [("acme-key", r"ACME-[0-9]{8}")]
"""
SECRET = "ACME-12345678"


def _dashboard_text(page: Path) -> str:
    """The page and the files beside it (the report's data is one of them)."""
    files = [page, *sorted(page.with_name(page.stem + "_files").rglob("*.js"))]
    return "".join(path.read_text() for path in files)


def _unredacted_trace_file(folder: Path, seed_trace_path: Path) -> Path:
    """The seed trace with the plugin's secret in a step, written as a trajectory from
    elsewhere would be: not redacted."""
    trace = load_trace(seed_trace_path)
    trace.steps[0].output = f"token {SECRET}"
    target = folder / "run.jsonl"
    dump_trace(trace, target)
    assert SECRET in target.read_text()
    return target


def test_the_dashboard_redacts_plugin_patterns_from_the_cli(
        pytester: pytest.Pytester, seed_trace_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytester.makepyfile(acmeplug=PLUGIN)
    pytester.syspathinsert()
    path = _unredacted_trace_file(pytester.path, seed_trace_path)
    assert main(["analyze", str(path), "--plugins=acmeplug", "--html=dash.html"]) == 0
    assert "HTML dashboard:" in capsys.readouterr().out
    page = _dashboard_text(pytester.path / "dash.html")
    assert SECRET not in page and "[REDACTED]" in page


def test_the_dashboard_redacts_plugin_patterns_under_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(acmeplug=PLUGIN, test_secret=f"""
def test_agent(trace):
    trace.command("echo $KEY", exit_code=0, stdout="{SECRET}")
""")
    ran = pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider",
                                        "--tracebench-plugins=acmeplug",
                                        "--tracebench-html=dash.html")
    assert ran.ret == 0
    page = _dashboard_text(pytester.path / "dash.html")
    assert SECRET not in page and "[REDACTED]" in page


@pytest.mark.parametrize("front_end", ["pytest", "cli"])
def test_finish_builds_the_dashboard_redactor_from_the_plugin_manager(
        pytester: pytest.Pytester, seed_trace_path: Path, front_end: str) -> None:
    """pytest hands finish its session's plugin manager, the CLI none (finish builds one from
    the settings): both dashboards apply the plugin's pattern to a trace read back from disk."""
    pytester.makepyfile(acmeplug=PLUGIN)
    pytester.syspathinsert()
    path = _unredacted_trace_file(pytester.path, seed_trace_path)
    settings = Settings(plugins=["acmeplug"], html=Path("dash.html"))
    pm = get_plugin_manager(settings.plugins) if front_end == "pytest" else None
    unredacting = Pipeline.from_settings(Settings())  # steps as they are on disk
    report = build_report([unredacting.analyze(load_trace(path), path=str(path))], settings,
                          redactor=None)
    finished = finish(report, settings, base_dir=pytester.path / ".tracebench",
                      cwd=pytester.path, pm=pm)
    assert finished.html_path is not None
    page = _dashboard_text(finished.html_path)
    assert SECRET not in page and "[REDACTED]" in page


# -- the typed report: gates and comparison keep their JSON keys -----------------------------

def test_saved_reports_with_untyped_gates_and_comparison_still_load(tmp_path: Path) -> None:
    """A report written before Gate and Comparison were models holds the same keys, some
    missing: it loads, and is written back with them."""
    old = {
        "created_at": 0.0, "results": [],
        "gates": [{"name": "require_traces", "passed": False,
                   "message": "no trace was recorded (require_traces)"},
                  {"name": "fail_under", "passed": True, "value": 50.0, "threshold": 40.0,
                   "message": "mean score 50.0 >= fail_under=40"},
                  {"name": "compare score_drop:5", "passed": True, "value": 50.0,
                   "baseline": 52.0, "threshold": 5.0, "message": "..."}],
        "comparison": {"mean_score": {"base": 52.0, "new": 50.0},
                       "pass_rate": {"base": None, "new": None},
                       "tasks": [{"task": "t [a]", "base": 52.0, "new": 50.0, "delta": -2.0,
                                  "appeared": ["retry_loop"], "disappeared": [],
                                  "only_in": None}],
                       "detectors": [{"detector": "retry_loop", "base": 0, "new": 1,
                                      "delta": 1}]},
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    report = load_report(path)
    assert report.gates[0] == Gate(name="require_traces", passed=False,
                                   message="no trace was recorded (require_traces)")
    assert report.comparison is not None and report.comparison.tasks[0].appeared == [
        "retry_loop"]
    again = json.loads(report.model_dump_json())
    for key in ("mean_score", "pass_rate", "tasks", "detectors"):
        assert again["comparison"][key] == old["comparison"][key]
    assert [g["name"] for g in again["gates"]] == [g["name"] for g in old["gates"]]
    assert EvaluationReport.model_validate(again) == report
