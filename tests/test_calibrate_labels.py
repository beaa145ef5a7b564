"""``tracebench calibrate --labels``: each detector's precision against a reviewer's marks.

The labels file is what the dashboard downloads (JSON lines of trace_id, detector, steps,
label); the browser side is in tests/test_dashboard.py. Here: the file's format and its bad
input, how labels are matched to the findings the detectors make now, and the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.models import Finding, TraceResult
from pytest_tracebench.score.calibration.labels import LabelsError, measure_labels, read_labels


def tb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args],
                          capture_output=True, text=True, timeout=600)


def _write(path: Path, *lines: object) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n"
                            for x in lines), encoding="utf-8")
    return path


def _label(trace: str, detector: str, steps: list[int], label: str) -> dict:
    return {"trace_id": trace, "detector": detector, "steps": steps, "label": label}


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "1: not JSON"),
    ("[1, 2]", "1: expected an object with trace_id, detector, steps, label; got list"),
    (json.dumps({"detector": "d", "steps": [], "label": "right"}),
     "1: field 'trace_id': expected a non-empty string, got nothing"),
    (json.dumps(_label("t", "", [1], "right")),
     "1: field 'detector': expected a non-empty string, got \"\""),
    (json.dumps(_label("t", "d", [1, -2], "right")),
     "1: field 'steps': expected a list of step numbers (from 0), got [1, -2]"),
    (json.dumps(_label("t", "d", [True], "right")), "1: field 'steps'"),
    (json.dumps(_label("t", "d", [1], "yes")),
     "1: field 'label': expected \"right\" or \"wrong\", got \"yes\""),
])
def test_a_bad_line_is_named_with_its_file_line_and_field(tmp_path: Path, line: str,
                                                          message: str) -> None:
    path = _write(tmp_path / "labels.jsonl", line)
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    assert str(caught.value).startswith(f"{path}:{message}")


def test_unreadable_empty_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="cannot read the labels file"):
        read_labels(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(LabelsError, match="no labels in the file"):
        read_labels(tmp_path / "empty.jsonl")
    (tmp_path / "latin.jsonl").write_bytes(b'{"trace_id": "\xe9"}\n')
    with pytest.raises(LabelsError, match=r"not UTF-8 text \(byte 14\)"):
        read_labels(tmp_path / "latin.jsonl")


def test_the_last_label_of_a_finding_counts_and_extra_keys_are_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path / "l.jsonl", {**_label("t", "d", [3, 1], "right"), "note": "x"}, "",
                  _label("t", "d", [1, 3], "wrong"))
    (label,) = read_labels(path)
    assert (label.steps, label.right, label.line) == ((1, 3), False, 3)


def _result(trace_id: str, *findings: tuple[str, list[int]]) -> TraceResult:
    return TraceResult(trace_id=trace_id, task_id=trace_id, agent="a", status="completed",
                       step_count=20, findings=[Finding(detector=d, message="m", steps=s)
                                                for d, s in findings])


def test_labels_are_matched_exactly_then_by_shared_steps(tmp_path: Path) -> None:
    results = [_result("t1", ("loop", [2, 4, 6]), ("loop", [10, 12]), ("claim", [7])),
               _result("t2", ("claim", [3]), ("claim", [9]))]
    path = _write(tmp_path / "l.jsonl",
                  _label("t1", "loop", [10, 12], "right"),   # exact
                  _label("t1", "loop", [2, 4], "wrong"),     # the loop grew: shares 2 steps
                  _label("t1", "claim", [1], "wrong"),       # no longer found: a false alarm gone
                  _label("t2", "claim", [3], "right"),
                  _label("t2", "gone", [5], "right"),        # a true finding lost
                  _label("t9", "loop", [1], "right"))        # a trace not among the runs
    report = measure_labels(read_labels(path), results, str(path))
    rows = {r.detector: r for r in report.detectors}
    assert (report.labels, report.matched, report.other_traces) == (6, 3, 1)
    assert (rows["loop"].right, rows["loop"].wrong, rows["loop"].precision) == (1, 1, 0.5)
    assert (rows["claim"].right, rows["claim"].wrong, rows["claim"].gone_wrong) == (1, 0, 1)
    assert rows["claim"].precision == 1.0
    assert rows["claim"].unlabelled == 2  # t1's claim at 7, t2's at 9
    assert (rows["gone"].gone_right, rows["gone"].precision) == (1, None)


def test_an_exact_label_keeps_its_finding_from_a_near_one(tmp_path: Path) -> None:
    results = [_result("t", ("loop", [1, 2, 3]))]
    path = _write(tmp_path / "l.jsonl", _label("t", "loop", [2, 3, 9], "wrong"),
                  _label("t", "loop", [1, 2, 3], "right"))
    (row,) = measure_labels(read_labels(path), results, str(path)).detectors
    assert (row.right, row.wrong, row.gone_wrong) == (1, 0, 1)


def test_calibrate_reports_precision_against_labels_without_verdicts(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    rec = TraceRecorder(runs / "claim.jsonl", task="claims")
    rec.test_run(passed=1, failed=1, failing=["t.py::test_a"], command="pytest")
    rec.message("All tests pass now.")
    rec.end()
    analyzed = tb("analyze", str(runs), "--json", str(tmp_path / "r.json"))
    assert analyzed.returncode == 0, analyzed.stderr
    (result,) = json.loads((tmp_path / "r.json").read_text())["results"]
    claim = next(f for f in result["findings"] if f["detector"] == "false_success_claim")
    labels = _write(tmp_path / "labels.jsonl",
                    _label(result["trace_id"], "false_success_claim", claim["steps"], "right"),
                    _label(result["trace_id"], "retry_loop", [0, 1], "wrong"))
    run = tb("calibrate", str(runs), "--labels", str(labels), "--json", str(tmp_path / "c.json"))
    assert run.returncode == 0, run.stderr
    assert f"=== Reviewer labels: 2 in {labels}, 1 matched" in run.stdout
    line = next(x for x in run.stdout.splitlines() if x.strip().startswith("false_success"))
    assert line.split()[1:4] == ["1", "0", "1.00"]
    assert "tracebench: note: no measures against verdicts: calibration needs" in run.stderr
    data = json.loads((tmp_path / "c.json").read_text())["labels"]
    rows = {r["detector"]: r for r in data["detectors"]}
    assert rows["false_success_claim"]["precision"] == 1.0
    assert rows["retry_loop"]["gone_wrong"] == 1


def test_calibrate_refuses_a_bad_labels_file_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    bad = _write(tmp_path / "labels.jsonl", _label("t", "d", [0], "right"), '{"trace_id": 3}')
    run = tb("calibrate", str(tmp_path / "runs"), "--labels", str(bad))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"tracebench: error: {bad}:2: field 'trace_id': expected a non-empty string, got 3"]
