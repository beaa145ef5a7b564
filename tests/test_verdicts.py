"""Verifier verdicts beside imported trajectories become the run's outcome.

Checked against the ground truth of the real runs (the SWE-bench harness reports and the
Terminal-Bench verifier results in tests/data/real, see its README), then for each rule that
keeps a verdict from being pinned on the wrong run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from pytest_tracebench import TraceRecorder
from pytest_tracebench.importers import import_path
from pytest_tracebench.importers.verdicts import find_verdict, with_verdict

REAL = Path(__file__).parent / "data" / "real"
MINI = REAL / "mini-swe-agent"
TB = REAL / "terminal-bench-claude-code"
# From tests/data/real/README.md: what the harnesses decided.
RESOLVED = {"django__django-11179", "django__django-12262", "django__django-13820",
            "django__django-16527", "matplotlib__matplotlib-23412", "pylint-dev__pylint-6903",
            "prove-plus-comm__YDACMLN", "sqlite-db-truncate__kfqQYr3"}


def tb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args],
                          capture_output=True, text=True, timeout=600)


def test_analyze_takes_the_verdicts_of_the_real_runs(tmp_path: Path) -> None:
    run = tb("analyze", str(REAL), "--json", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    outcomes = {r["task_id"]: r["outcome"] for r in report["results"]}
    assert len(outcomes) == 18
    assert {task for task, o in outcomes.items() if o["passed"]} == RESOLVED
    assert outcomes["psf__requests-2317"]["resolved"] is False
    assert outcomes["psf__requests-2317"]["verdict_file"] == str(
        MINI / "psf__requests-2317" / "report.json")
    assert outcomes["raman-fitting__zebXzmX"]["reward"] == 0.0
    assert report["summary"]["pass_rate"] == round(8 / 18, 4)
    assert report["summary"]["judged"] == 18
    assert "pass rate 44%," in run.stdout
    # Unresolved runs carry the outcome points, resolved ones none.
    scores = {r["task_id"]: r["score"] for r in report["results"]}
    assert (scores["psf__requests-2317"]["outcome"], scores["psf__requests-2317"]
            ["outcome_points"]) == ("failed", 25.0)
    assert (scores["django__django-11179"]["outcome"], scores["django__django-11179"]
            ["outcome_points"]) == ("passed", 0.0)


def test_verdicts_can_be_turned_off(tmp_path: Path) -> None:
    run = tb("analyze", str(MINI), "--verdicts=false", "--json", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert all("passed" not in r["outcome"] for r in report["results"])
    assert report["summary"]["pass_rate"] is None and "pass rate" not in run.stdout


def _mini(tmp_path: Path, folder: str, run: str = "django__django-13512") -> Path:
    target = tmp_path / folder
    target.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(MINI / run / f"{run}.traj.json", target))


def _verdict(path: Path) -> dict | None:
    (trace,) = import_path(path)
    return find_verdict(path, trace)


def test_a_one_instance_report_counts_only_in_that_instance_s_folder(tmp_path: Path) -> None:
    report = (MINI / "django__django-13512" / "report.json").read_text()
    own = _mini(tmp_path, "django__django-13512")
    (own.parent / "report.json").write_text(report)
    f2p = json.loads(report)["tests_status"]["FAIL_TO_PASS"]["failure"]
    assert len(f2p) == 2
    assert _verdict(own) == {"passed": False, "resolved": False,
                             "verdict_file": str(own.parent / "report.json"),
                             "fail_to_pass_failed": f2p}
    # The same report in a folder of several runs says nothing of which run it judged.
    other = _mini(tmp_path, "runs", "django__django-11179")
    (other.parent / "report.json").write_text(report)
    assert _verdict(other) is None


def test_a_report_keyed_by_instance_counts_for_that_instance_only(tmp_path: Path) -> None:
    path = _mini(tmp_path, "runs")
    other = _mini(tmp_path, "runs", "django__django-11179")
    report = json.loads((MINI / "django__django-13512" / "report.json").read_text())
    (path.parent / "report.json").write_text(json.dumps({"django__django-13512": report}))
    assert _verdict(path) is not None and _verdict(path)["passed"] is False
    assert _verdict(other) is None


def test_harbor_result_counts_in_its_trial_folder_and_for_agent_slash(tmp_path: Path) -> None:
    trial = tmp_path / "prove-plus-comm__YDACMLN"
    (trial / "agent").mkdir(parents=True)
    shutil.copy(TB / trial.name / "result.json", trial)
    trajectory = Path(shutil.copy(TB / trial.name / "trajectory.json", trial / "agent"))
    assert _verdict(trajectory) == {"passed": True, "reward": 1.0,
                                    "verdict_file": str(trial / "result.json")}
    # A result.json of another trial (its trial_name is not the folder's) is not taken.
    renamed = tmp_path / "another-trial"
    trial.rename(renamed)
    assert _verdict(renamed / "agent" / "trajectory.json") is None


def test_the_verdict_says_which_hidden_tests_decided_it(tmp_path: Path) -> None:
    """What the dashboard shows as what decided a run: the verifier's failing tests (and,
    where it keeps them, their failure text), read from the same file as the verdict."""
    broke = _mini(tmp_path, "psf__requests-2317", "psf__requests-2317")
    shutil.copy(MINI / "psf__requests-2317" / "report.json", broke.parent)
    verdict = _verdict(broke)
    assert verdict is not None and verdict["passed"] is False
    assert len(verdict["pass_to_pass_failed"]) == 1 and "fail_to_pass_failed" not in verdict
    trial = tmp_path / "multi-source-data-merger__LvqheTc"
    trial.mkdir()
    for name in ("result.json", "ctrf.json", "trajectory.json"):
        shutil.copy(TB / trial.name / name, trial)
    harbor = _verdict(trial / "trajectory.json")
    assert harbor is not None and harbor["reward"] == 0.0
    assert harbor["tests_failed"] == ["test_outputs.py::test_output_files_exist",
                                      "test_outputs.py::test_merged_data_exact_values",
                                      "test_outputs.py::test_conflict_report_values"]
    assert "AssertionError: merged_users.parquet not found" in harbor["failure"]
    (trial / "ctrf.json").write_text("{broken")  # no per-test detail: the verdict alone
    assert set(_verdict(trial / "trajectory.json")) == {"passed", "reward", "verdict_file"}


def test_broken_or_foreign_verdict_files_are_not_taken(tmp_path: Path) -> None:
    path = _mini(tmp_path, "django__django-13512")
    for text in ("{not json", "[]", json.dumps({"resolved": "yes", "patch_exists": True}),
                 json.dumps({"resolved": True}), "\x00" * 10):
        (path.parent / "report.json").write_text(text)
        assert _verdict(path) is None, text
    (path.parent / "report.json").unlink()
    (path.parent / "result.json").write_text(json.dumps(
        {"trial_name": path.parent.name, "verifier_result": {"rewards": {"reward": "1"}}}))
    assert _verdict(path) is None


def test_a_trace_s_own_verdict_and_an_aborted_run_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "task-1"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps({"resolved": True, "patch_exists": True}))
    own = TraceRecorder(folder / "own.jsonl", task="task-1")
    own.message("done")
    own.end(outcome={"passed": False})
    aborted = TraceRecorder(folder / "aborted.jsonl", task="task-1")
    aborted.message("working")
    (own_trace,) = import_path(folder / "own.jsonl")
    assert with_verdict(folder / "own.jsonl", own_trace).end.outcome == {"passed": False}
    (cut,) = import_path(folder / "aborted.jsonl")
    assert with_verdict(folder / "aborted.jsonl", cut).end is None
    bare = TraceRecorder(folder / "bare.jsonl", task="task-1")
    bare.end()
    (bare_trace,) = import_path(folder / "bare.jsonl")
    assert with_verdict(folder / "bare.jsonl", bare_trace).end.outcome["passed"] is True
