"""Analysis as data: ``pytest_tracebench.analysis`` tables and ``tracebench export``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.analysis import (
    FINDING_COLUMNS,
    RESULT_COLUMNS,
    STEP_COLUMNS,
    findings_df,
    results_df,
    steps_df,
)
from pytest_tracebench.cli import main

pd = pytest.importorskip("pandas")


def _traces(folder: Path) -> Path:
    folder.mkdir()
    for n in range(3):
        rec = TraceRecorder(folder / f"run{n}.jsonl", task=f"task-{n}", agent="scripted")
        for _ in range(3):  # the same failing edit-and-test cycle: a retry loop
            rec.edit("src/a.py", old="x = 1", new="x = 2")
            rec.test_run(passed=1, failed=1, failing=["tests/test_a.py::test_x"])
        rec.message("All tests pass now.")
        rec.end("failed" if n else "completed", {"passed": n == 0})
    return folder


def test_tables_from_trace_folder(tmp_path: Path) -> None:
    folder = _traces(tmp_path / "runs")
    results = results_df(folder)
    assert tuple(results.columns) == RESULT_COLUMNS
    assert sorted(results["task_id"]) == ["task-0", "task-1", "task-2"]
    assert results.set_index("task_id")["passed"].to_dict() == {
        "task-0": True, "task-1": False, "task-2": False}
    assert results["score"].between(0, 100).all()
    findings = findings_df(folder)
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert len(findings) == int(results["findings"].sum()) > 0
    assert set(findings["trace_id"]) <= set(results["trace_id"])
    steps = steps_df(folder)
    assert tuple(steps.columns) == STEP_COLUMNS
    assert len(steps) == int(results["step_count"].sum()) == 3 * 7
    assert list(steps[steps["task_id"] == "task-0"]["index"]) == list(range(7))
    assert json.loads(steps.iloc[0]["input"])["path"] == "src/a.py"


def test_tables_from_report_equal_tables_from_traces(tmp_path: Path) -> None:
    folder = _traces(tmp_path / "runs")
    report = tmp_path / "report.json"
    assert main(["analyze", str(folder), f"--json={report}"]) in (0, 1)
    direct = results_df(folder).drop(columns=["source"]).sort_values("trace_id")
    from_report = results_df(report)
    assert set(from_report["source"]) == {str(report)}
    from_report = from_report.drop(columns=["source"]).sort_values("trace_id")
    pd.testing.assert_frame_equal(direct.reset_index(drop=True),
                                  from_report.reset_index(drop=True))
    assert len(findings_df(report)) == len(findings_df(folder))
    assert len(steps_df(report)) == len(steps_df(folder))  # read from each result's path


def test_export_parquet_writes_the_same_tables(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow")
    folder = _traces(tmp_path / "runs")
    out = tmp_path / "tables"
    assert main(["export", "--to", "parquet", str(folder), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.parquet", "results.parquet", "steps.parquet"]
    for name, function in (("results", results_df), ("findings", findings_df)):
        written = pd.read_parquet(out / f"{name}.parquet")
        assert tuple(written.columns) == (RESULT_COLUMNS if name == "results"
                                          else FINDING_COLUMNS)
        assert len(written) == len(function(folder))
    steps = pd.read_parquet(out / "steps.parquet")
    assert len(steps) == 21
    # Not a terminal: no progress bar among the lines.
    assert "analyzing" not in capsys.readouterr().err


def test_missing_pandas_is_one_line(tmp_path: Path) -> None:
    folder = _traces(tmp_path / "runs")
    code = ("import sys; sys.modules['pandas'] = None; from pytest_tracebench.cli import main; "
            f"raise SystemExit(main(['export', {str(folder)!r}, '-o', {str(tmp_path / 'o')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "tracebench: error: the analysis tables need pandas (and pyarrow for Parquet): "
        "pip install 'pytest-tracebench[analysis]'"]
    assert not (tmp_path / "o").exists()


def test_the_core_imports_no_pandas() -> None:
    code = ("import sys, pytest_tracebench.cli, pytest_tracebench.plugin, "
            "pytest_tracebench.pipeline, pytest_tracebench.report; "
            "from pytest_tracebench.cli import main; main(['formats']); "
            "print([m for m in ('pandas', 'pyarrow') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()
    assert out[-1] == "[]"


def test_progress_is_quiet_off_a_terminal(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_tracebench.engines.local import analyze_paths
    from pytest_tracebench.settings import Settings

    folder = _traces(tmp_path / "runs")
    results = analyze_paths([str(folder)], Settings())
    assert len(results) == 3
    assert capsys.readouterr().err == ""
