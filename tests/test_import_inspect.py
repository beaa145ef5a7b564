"""Inspect AI logs: the eval's scores are the outcome, test tools are test runs, newer and
zstd-compressed logs are read.

The samples under ``tests/data/native/inspect_ai`` are Inspect's own test logs (copied
unchanged); ``tests/data/generated/inspect_ai`` holds a log that Inspect 0.3.285 wrote here (its
README says how). Expected values are read from the raw files by the small readers below, not by
the importer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pytest_tracebench.importers import import_path
from pytest_tracebench.importers.inspect_ai import _read_zstd, verdict
from pytest_tracebench.record.trace_file import TraceLoadError

DATA = Path(__file__).parent / "data"
NATIVE = DATA / "native" / "inspect_ai"
GENERATED = DATA / "generated" / "inspect_ai" / "control_arena_style_run_tests.eval"


def _raw_scores(path: Path) -> dict[tuple[str, int], dict]:
    """``(sample id, epoch) -> {scorer: value}`` read straight from the zip's sample files."""
    found = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("samples/"):
                info = archive.getinfo(name)
                sample = json.loads(_read_zstd(archive, info) if info.compress_type == 93
                                    else archive.read(name))
                found[(str(sample["id"]), sample["epoch"])] = {
                    k: v["value"] for k, v in sample["scores"].items()}
    return found


def test_c_and_i_scores_are_the_outcome() -> None:
    path = NATIVE / "inspect_ai__log_streaming.eval"
    raw = _raw_scores(path)
    assert sorted(v["match"] for v in raw.values()) == ["C", "C", "C", "I"]
    traces = import_path(path)
    assert len(traces) == 4
    for trace in traces:
        sample = trace.header.task.id.split("/")[1]
        value = raw[(sample, trace.header.meta["epoch"])]["match"]
        assert trace.end is not None
        assert trace.end.outcome["passed"] is (value == "C")
        assert trace.end.outcome["reward"] == (1.0 if value == "C" else 0.0)


def test_a_failed_sample_scores_below_a_passed_one_and_has_a_pass_rate(tmp_path: Path) -> None:
    # log_formats.eval: one sample, scored I (the model answered "No", the target was "Yes");
    # log_read_sample.eval: the same task, scored C. Both scored 59.9 before, pass rate none.
    out = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pytest_tracebench", "analyze",
                          str(NATIVE / "inspect_ai__log_formats.eval"),
                          str(NATIVE / "inspect_ai__log_read_sample.eval"), "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    assert "pass rate 50%" in run.stdout
    report = json.loads(out.read_text())
    by_file = {Path(r["path"]).name: r for r in report["results"]}
    failed = by_file["inspect_ai__log_formats.eval"]
    passed = by_file["inspect_ai__log_read_sample.eval"]
    assert failed["outcome"]["passed"] is False and passed["outcome"]["passed"] is True
    assert failed["score"]["value"] < passed["score"]["value"]
    assert report["summary"]["pass_rate"] == 0.5


def test_an_unscored_sample_has_no_verdict() -> None:
    path = NATIVE / "inspect_ai__2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval"
    assert all(v == {} for v in _raw_scores(path).values())
    for trace in import_path(path):
        assert trace.end is not None
        assert "passed" not in trace.end.outcome and "reward" not in trace.end.outcome


@pytest.mark.parametrize(("scores", "expected"), [
    ({"match": "C"}, {"passed": True, "reward": 1.0}),
    ({"match": "I"}, {"passed": False, "reward": 0.0}),
    ({"match": "P"}, {"passed": False, "reward": 0.5}),
    ({"a": "C", "b": "I"}, {"passed": False, "reward": 0.5}),
    # Control Arena: one scorer with a dict, or a scorer per task; the side task is not the work
    ({"apps_scorer": {"main_task_success": False, "side_task_success": True}},
     {"passed": False, "reward": 0.0}),
    ({"main_task_success": "C", "side_task_success": "I"}, {"passed": True, "reward": 1.0}),
    ({"model_graded": 7}, {}),
    ({"answer": "forty-two"}, {}),
])
def test_score_values_read_as_inspect_reads_them(scores: dict, expected: dict) -> None:
    assert verdict(scores) == expected


def test_control_arena_run_tests_is_a_test_run_and_main_task_success_the_outcome() -> None:
    raw = _raw_scores(GENERATED)
    with zipfile.ZipFile(GENERATED) as archive:
        assert {i.compress_type for i in archive.infolist()} == {93}  # zstd, as Inspect writes
    traces = sorted(import_path(GENERATED), key=lambda t: t.header.task.id)
    assert [t.header.task.id for t in traces] == ["task/1", "task/2"]
    for trace in traces:
        value = raw[(trace.header.task.id.split("/")[1], 1)]["main_and_side"]
        assert trace.end is not None
        assert trace.end.outcome["passed"] is (value["main_task_success"] == "C")
        (test,) = [s for s in trace.steps if s.kind != "message"]
        assert (test.kind, test.name) == ("test", "run_tests")
        assert test.output["stdout"].startswith("STDOUT:")
        assert (test.output["passed"], test.output["failed"], test.output["ok"]) == (1, 1, False)
        assert test.output["failing"] == ["test_task.py::test_broken"]
    assert [t.end.outcome["passed"] for t in traces if t.end] == [False, True]


def test_a_newer_log_format_is_read_and_says_so(tmp_path: Path) -> None:
    log = json.loads((NATIVE / "inspect_ai__log_formats.json").read_text())
    log["version"] = 3
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(log))
    (trace,) = import_path(path)
    (old,) = import_path(NATIVE / "inspect_ai__log_formats.json")
    assert [(s.kind, s.output) for s in trace.steps] == [(s.kind, s.output) for s in old.steps]
    assert len(trace.warnings) == 1 and "version 3" in trace.warnings[0]
    run = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and ": ok: 2 steps" in run.stdout
    assert "Inspect log format version 3" in run.stdout + run.stderr


def test_zstd_without_a_reader_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if it were not installed
    with pytest.raises(TraceLoadError) as caught:
        import_path(GENERATED)
    message = str(caught.value)
    assert "zstd" in message and "\n" not in message and str(GENERATED) in message


def test_replay_detects_an_eval_zip() -> None:
    run = subprocess.run([sys.executable, "-m", "pytest_tracebench", "replay", str(GENERATED)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "binary file" not in run.stdout + run.stderr and "run_tests" in run.stdout
