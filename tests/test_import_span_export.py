"""The Laminar span exports of the Vorflux harness (``laminar-export``), read from the
development corpus in place.

A tiny reader of the raw JSON written here, independent of the importer, counts the spans of
each kind; the importer's steps must account for every one. The ``.diff`` and
``DERIVED_verdict.json`` beside each export are never opened here either.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import Trace
from pytest_tracebench.importers import (
    detect_importer,
    get_importers,
    import_path,
    iter_trace_inputs,
)
from pytest_tracebench.importers.span_export import span_time
from tests._corpus import DEV, needs_corpus, runs

VORFLUX = "vorflux-opus46-gpt55-swebv"
EMPTY = "django__django-11400"
SHELL_KINDS = {"command", "read", "edit", "test", "submit"}


def _export(run: Path) -> Path:
    return run / f"{run.name}.json"


def _spans(run: Path) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = json.loads(_export(run).read_text())["trajectory"]
    return spans


def _executed(trace: Trace) -> list[Any]:
    return [s for s in trace.steps if s.kind not in ("message", "llm")
            and not s.meta.get("unanswered")]


@pytest.fixture(scope="module")
def imported() -> list[tuple[Path, list[dict[str, Any]], Trace]]:
    rows = []
    for run in runs(VORFLUX):
        (trace,) = import_path(_export(run))
        rows.append((run, _spans(run), trace))
    return rows


@needs_corpus
def test_every_run_imports_with_one_step_per_tool_call(imported: Any) -> None:
    with open(DEV / VORFLUX / "index.csv", newline="") as fh:
        index = {row["run_id"]: row for row in csv.DictReader(fh)}
    assert len(imported) == 100 == len(index)
    for run, spans, trace in imported:
        kinds = Counter(s["type"] for s in spans)
        assert kinds["tool_call"] == int(index[run.name]["n_tool_calls"])
        assert kinds["llm_call"] == int(index[run.name]["n_llm_calls"])
        assert trace.header.source.format == "laminar-export"
        assert trace.header.task.id == run.name
        executed = _executed(trace)
        assert len(executed) == kinds["tool_call"], run.name
        # In span order, each executed step is its span's tool.
        assert [s.name for s in executed] == [
            "job" if s["tool"] == "job" and s["arguments"].get("action") == "output"
            else s["tool"] for s in spans if s["type"] == "tool_call"]


@needs_corpus
def test_tool_steps_carry_command_output_and_exit_code(imported: Any) -> None:
    checked: Counter[str] = Counter()
    for _run, spans, trace in imported:
        calls = [s for s in spans if s["type"] == "tool_call"]
        for span, step in zip(calls, _executed(trace), strict=True):
            result, args = span["result"], span["arguments"]
            if span["tool"] == "bash_execute":
                assert step.input["command"] == args["command"]
                if isinstance(result, dict):
                    assert step.output["exit_code"] == result["exitCode"]
                    assert step.output["stdout"] == result["stdout"]
                    assert step.output["stderr"] == result["stderr"]
                    checked["exit codes"] += 1
                elif "timed out" in result:
                    assert step.output["timed_out"] and step.error == result
                    checked["timeouts"] += 1
                assert step.kind in SHELL_KINDS
            elif span["tool"] == "read_text_file":
                assert (step.kind, step.input["path"]) == ("read", args["filePath"])
                assert step.output == result
            elif span["tool"] == "edit_file":
                assert (step.kind, step.input["path"]) == ("edit", args["filePath"])
                assert (step.input["old"], step.input["new"]) == (args["old_string"],
                                                                  args["new_string"])
                assert (step.error is not None) == result.startswith("Error:")
            elif span["tool"] == "write_file":
                assert (step.kind, step.input["path"]) == ("edit", args["filePath"])
            elif span["tool"] in ("grep_search", "search_files", "get_file_info"):
                assert step.kind == "read"
                assert step.input["path"] == (args.get("dirPath") or args.get("path")
                                              or args.get("filePath"))
    assert checked["exit codes"] == 6848  # every dict result; 20 others are text
    assert checked["timeouts"] == 8


@needs_corpus
def test_background_jobs_are_read_with_their_output() -> None:
    (trace,) = import_path(_export(DEV / VORFLUX / "django__django-12325"))
    starts = [s for s in trace.steps if s.input and s.input.get("background")]
    jobs = [s for s in trace.steps if s.name == "job"]
    assert len(starts) == len(jobs) == 4
    assert all(s.kind == "command" for s in starts)
    for start, job in zip(starts, jobs, strict=True):
        assert job.kind == "test" and job.input["command"] == start.input["command"]
        assert job.meta["job_id"] == start.meta["job_id"]
        assert job.output["runner"] == "unittest" and job.output["passed"]


@needs_corpus
def test_model_text_and_requested_calls(imported: Any) -> None:
    requested = 0
    unanswered = 0
    for _run, spans, trace in imported:
        names = Counter(call["function"]["name"] for s in spans if s["type"] == "llm_call"
                        for call in (s.get("output") or {}).get("tool_calls") or [])
        requested += sum(names.values())
        steps = [s for s in trace.steps if s.meta.get("unanswered")]
        assert all(s.meta["no_span"] and s.name in names for s in steps)
        unanswered += len(steps)
        texts = [s.output["text"] for s in trace.steps if s.kind == "message"
                 and s.input["role"] == "assistant"]
        contents = [((s.get("output") or {}).get("content") or "").strip() for s in spans
                    if s["type"] == "llm_call"]
        assert set(texts) <= set(contents)
        assert len(texts) <= sum(1 for c in contents if c)
    # Measured: the orchestration tools (add_task, mark_todo_done, vflux_exec, ...) never have
    # a span, nor do 57 file and shell calls whose execution the export lacks.
    assert (requested, unanswered) == (8032, 833)


@needs_corpus
def test_judge_calls_stay_visible_and_are_not_the_agents_claims(imported: Any) -> None:
    verdicts: Counter[Any] = Counter()
    judges = 0
    for _run, spans, trace in imported:
        n = sum(1 for s in spans if s["type"] == "judge_call")
        judges += n
        reviews = [s for s in trace.steps if s.name == "judge_call" and s.kind == "message"]
        others = [s for s in trace.steps if s.name == "judge_call" and s.kind == "llm"]
        # A repeated formatting call with the same review is one message with meta.repeats.
        assert sum(int(s.meta.get("repeats", 1)) for s in reviews) + len(others) == n
        for review in reviews:
            assert review.input["role"] == "reviewer"
            assert review.meta["judge"]["model"] == "gpt-5.5-high"
            verdicts[review.meta["judge"]["verdict"]["approved"]] += int(
                review.meta.get("repeats", 1))
        assert all(s.input["model"] == "gpt-5.5-high" for s in others)
    assert judges == 338
    assert verdicts == {True: 14, False: 14}


@needs_corpus
def test_the_empty_export_is_a_run_with_no_steps_and_a_warning() -> None:
    run = DEV / VORFLUX / EMPTY
    assert _spans(run) == []
    (trace,) = import_path(_export(run))
    assert trace.steps == [] and trace.end is None
    assert len(trace.warnings) == 1 and "the trajectory is empty" in trace.warnings[0]


@needs_corpus
def test_run_folders_validate_with_companions_named(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_tracebench.cli import main

    for name, summary in (("astropy__astropy-13033", "ok: 97 steps, completed"),
                          (EMPTY, "ok: 0 steps, aborted")):
        run = DEV / VORFLUX / name
        assert main(["validate", str(run)]) == 0
        out, err = capsys.readouterr()
        assert f"{_export(run)}: {summary}, format laminar-export" in out
        assert f"{run / 'DERIVED_verdict.json'}: skipped: verdict" in err
        assert f"{run / (name + '.diff')}: skipped: patch" in err
        assert [p for p, skip in iter_trace_inputs([run]) if skip is None] == [_export(run)]


@needs_corpus
def test_no_other_file_of_the_corpus_reads_as_a_span_export() -> None:
    importers = get_importers()
    for path, skip in iter_trace_inputs([DEV]):
        if skip is not None or VORFLUX in path.parts:
            continue
        try:
            importer = detect_importer(path, importers)
        except Exception:
            continue
        assert importer.name != "laminar-export", path


def test_span_times_are_utc_to_the_microsecond() -> None:
    assert span_time("2026-05-05 12:03:39.083992014") == pytest.approx(1777982619.083992)
    assert span_time("2026-05-05T12:03:39Z") == 1777982619.0
    assert span_time("yesterday") is None and span_time(None) is None


def test_a_small_export_maps_each_span(tmp_path: Path) -> None:
    spans = [
        {"type": "llm_call", "timestamp": "2026-05-05 12:00:00.0", "task_prompt": [
            {"role": "user", "content": "Fix this.\n\n## Issue\nIt breaks.\n\n## Approach\nx"}],
         "output": {"content": "Looking.", "tool_calls": [
             {"id": "t1", "type": "function", "function": {
                 "name": "read", "arguments": json.dumps({"file_path": "/code/a.py"})}},
             {"id": "t2", "type": "function", "function": {
                 "name": "mark_todo_done", "arguments": json.dumps({"todo_id": "1"})}}]}},
        {"type": "tool_call", "tool": "read_text_file", "timestamp": "2026-05-05 12:00:01.0",
         "arguments": {"filePath": "/code/a.py"}, "result": "1→x = 1"},
        {"type": "tool_call", "tool": "bash_execute", "timestamp": "2026-05-05 12:00:02.0",
         "arguments": {"command": "cd /code && python -m pytest -q"},
         "result": {"stdout": "1 failed, 2 passed in 0.1s", "stderr": "", "exitCode": 1,
                    "outputExceededThreshold": False}},
        {"type": "tool_call", "tool": "browser", "timestamp": "2026-05-05 12:00:03.0",
         "arguments": {"url": "x"}, "result": "ok"},
        {"type": "mystery", "timestamp": "2026-05-05 12:00:04.0"},
    ]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"instance_id": "x__y-1", "session_id": "s", "total_spans": 9,
                                "trajectory_entries": len(spans), "trajectory": spans}))
    assert detect_importer(path, get_importers()).name == "laminar-export"
    (trace,) = import_path(path)
    assert trace.header.task.description == "It breaks."
    assert [(s.kind, s.name) for s in trace.steps] == [
        ("message", "message"), ("tool", "mark_todo_done"), ("read", "read_text_file"),
        ("test", "bash_execute"), ("tool", "browser")]
    assert trace.steps[1].meta["unanswered"] and trace.steps[2].meta["tool_call_id"] == "t1"
    assert (trace.steps[3].output["failed"], trace.steps[3].output["passed"]) == (1, 2)
    assert trace.steps[4].meta["requested"] is False
    assert trace.warnings == [
        f"{path}: skipped 1 spans of type 'mystery'",
        f"{path}: 1 call(s) of tool 'browser', not one this importer knows, kept by its "
        f"name alone"]
    assert trace.end is not None and trace.end.status == "completed"
