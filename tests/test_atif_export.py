"""``tracebench convert --to atif``: what it writes, checked on every real sample.

ATIF files read and written back must come out as they went in (field for field, in order);
other formats written as ATIF and read back must keep every step, its kind and its tool name;
what we write must satisfy Harbor's own ``Trajectory`` model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from pytest_tracebench.exporters import AtifExportError, to_atif
from pytest_tracebench.importers import import_path
from pytest_tracebench.importers.builder import TraceBuilder
from pytest_tracebench.models import Trace
from pytest_tracebench.record.trace_file import dump_trace

from ._corpus import NATIVE_SHARED
from .test_fidelity import _samples

ATIF_DIR = NATIVE_SHARED / "atif"
needs_native = pytest.mark.skipif(not ATIF_DIR.is_dir(),
                                  reason=f"no native samples at {NATIVE_SHARED}")


@cache
def _imported(path: Path) -> tuple[Trace, ...] | None:
    try:
        return tuple(import_path(path))
    except Exception:  # a format another branch mends (see test_fidelity.KNOWN_GAPS)
        return None


def _through_atif(trace: Trace, tmp_path: Path) -> Trace:
    out = tmp_path / "round.json"
    out.write_text(json.dumps(to_atif(trace)))
    (again,) = import_path(out)
    assert again.header.source.format == "atif"
    return again


def _names(trace: Trace) -> list[tuple[str, str]]:
    return [(s.kind, s.name) for s in trace.steps]


@needs_native
@pytest.mark.parametrize("path", sorted(ATIF_DIR.glob("*.json")) if ATIF_DIR.is_dir() else [],
                         ids=lambda p: p.name)
def test_atif_to_ours_to_atif_is_exact(path: Path) -> None:
    original = json.loads(path.read_text(encoding="utf-8"))
    (trace,) = import_path(path)
    written = to_atif(trace)
    # Field for field and in the file's order (json.dumps keeps dict order).
    assert json.dumps(written) == json.dumps(original)


@needs_native
def test_a_newer_atif_version_is_not_downgraded(tmp_path: Path) -> None:
    path = ATIF_DIR / "harbor__golden_terminus_2_hello-world-invalid-json.trajectory.json"
    assert json.loads(path.read_text())["schema_version"] == "ATIF-v1.7"
    (trace,) = import_path(path)
    assert to_atif(trace)["schema_version"] == "ATIF-v1.7"
    # Also once the trace went through our own format (the header's meta is kept).
    ours = tmp_path / "ours.jsonl"
    dump_trace(trace, ours)
    (again,) = import_path(ours)
    assert json.dumps(to_atif(again)) == json.dumps(to_atif(trace))


@needs_native
@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(NATIVE_SHARED)))
def test_every_native_sample_keeps_its_steps_through_atif(path: Path, tmp_path: Path) -> None:
    traces = _imported(path)
    if traces is None:
        pytest.skip("does not load today (a known gap of test_fidelity)")
    for trace in traces:
        if not trace.steps:
            continue
        again = _through_atif(trace, tmp_path)
        assert _names(again) == _names(trace)
        assert [s.error for s in again.steps] == [s.error for s in trace.steps]


def _builder() -> TraceBuilder:
    return TraceBuilder(format="test", path="made-here.json", trace_id="0" * 32)


def test_tool_names_are_the_agents_own(tmp_path: Path) -> None:
    builder = _builder()
    builder.message("find the config", role="user")
    builder.tool_call("WebSearch", {"query": "pytest ini options"}, "three results")
    builder.tool_call("Glob", {"pattern": "**/*.toml"}, "pyproject.toml")
    builder.tool_call("list_directory", {"path": "src"}, "a.py\nb.py")
    builder.tool_call("run_shell_command", {"command": "cat pyproject.toml"}, "[tool]")
    builder.shell("pytest -q", "1 passed in 0.01s", exit_code=0)  # named after the program
    trace = builder.build()
    document = to_atif(trace)
    calls = [c for s in document["steps"] for c in s.get("tool_calls", [])]
    assert [c["function_name"] for c in calls] == [
        "WebSearch", "Glob", "list_directory", "run_shell_command", "pytest"]
    assert calls[0]["arguments"] == {"path": "", "query": "pytest ini options"}
    assert calls[2]["arguments"]["path"] == "src"
    again = _through_atif(trace, tmp_path)
    assert _names(again) == _names(trace)
    assert [s.kind for s in again.steps] == ["message", "read", "read", "read", "read", "test"]
    assert again.steps[5].output["passed"] == 1


def test_a_kind_the_name_does_not_imply_survives(tmp_path: Path) -> None:
    builder = _builder()
    # A harness tool whose output our importer knew to be a test run.
    builder.add("test", "harness_check", input={"suite": "unit"},
                output={"passed": 3, "failed": 0, "stdout": "3 passed"})
    trace = builder.build()
    (call,) = to_atif(trace)["steps"][0]["tool_calls"]
    assert call["extra"] == {"tracebench": {"name": "harness_check", "kind": "test"}}
    again = _through_atif(trace, tmp_path)
    assert _names(again) == [("test", "harness_check")]


def test_one_model_call_is_one_atif_step(tmp_path: Path) -> None:
    builder = _builder()
    for n in (1, 2):
        builder.add("llm", "gpt-x", output={"usage": {"input_tokens": 100 * n,
                                                      "output_tokens": 10 * n}})
        builder.message(f"step {n}: listing")
        builder.tool_call("bash", {"command": "ls"}, "a.py")
    builder.message("first thought")
    builder.message("second thought, not the first one overwritten")
    trace = builder.build()
    steps = to_atif(trace)["steps"]
    assert [s.get("metrics") for s in steps[:2]] == [
        {"prompt_tokens": 100, "completion_tokens": 10},
        {"prompt_tokens": 200, "completion_tokens": 20}]
    assert [s["message"] for s in steps] == ["step 1: listing", "step 2: listing",
                                             "first thought",
                                             "second thought, not the first one overwritten"]
    again = _through_atif(trace, tmp_path)
    assert _names(again) == _names(trace)
    assert [s.output for s in again.steps if s.kind == "llm"] == \
        [s.output for s in trace.steps if s.kind == "llm"]


def test_an_empty_trace_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(AtifExportError, match="no steps"):
        to_atif(_builder().build())
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"type": "trace", "schema_version": 1, "trace_id": "ab"}\n'
                     '{"type": "end", "status": "completed"}\n')
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "convert", str(empty),
                             "--to", "atif", "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == f"{empty}: cannot write ATIF: the trace has no steps, " \
                                    "and an ATIF trajectory needs at least one"
    assert not out.exists()


# -- Harbor's own models ------------------------------------------------------------------------


@needs_native
def test_what_we_write_validates_against_harbors_models() -> None:
    # Harbor on PyPI needs Python >= 3.12 and a large dependency tree (litellm, supabase,
    # fastapi, ...); its trajectory models need only pydantic. Install it without dependencies
    # to run this test: pip install --no-deps --ignore-requires-python harbor
    trajectories = pytest.importorskip(
        "harbor.models.trajectories",
        reason="harbor is not installed (pip install --no-deps --ignore-requires-python harbor)")
    from harbor.utils.trajectory_validator import TrajectoryValidator

    checked = 0
    for path in _samples():
        for trace in _imported(path) or ():
            if not trace.steps:
                continue
            document = to_atif(trace)
            trajectories.Trajectory.model_validate(document)
            validator = TrajectoryValidator()
            assert validator.validate(document, validate_images=False), \
                (str(path), validator.errors)
            checked += 1
    assert checked >= 60


def test_a_trace_with_odd_atif_meta_still_gives_a_valid_document() -> None:
    """A tracebench file edited by hand (or by another tool) may carry anything in meta."""
    builder = _builder()
    builder.tool_call("Glob", {"pattern": "*.py"}, "a.py").meta["atif"] = "junk"
    step = builder.message("hi")
    assert step is not None
    step.meta["atif"] = {"step_id": [1], "patch": {"absent": [{}], "fields": "x", "order": [[]]},
                         "preceding": [1, {"step_id": 9, "source": "user", "message": "p"}],
                         "raw": "r"}
    trace = builder.build()
    trace.header.meta.update({"atif_document": {"steps": None}, "atif_trailing": "no"})
    document = to_atif(trace)
    assert document["schema_version"] == "ATIF-v1.6"
    assert [s["step_id"] for s in document["steps"]] == [1, 2, 3]
    assert [s["source"] for s in document["steps"]] == ["agent", "user", "agent"]


def test_messages_atif_has_no_place_for_read_back_the_same(tmp_path: Path) -> None:
    builder = _builder()
    builder.message("fix it", role="user")
    builder.message("done: the tests pass")
    builder.add("message", "judge_call", input={"role": "reviewer"},
                output={"text": "approved"})
    builder.message("All done.", name="final_result")
    trace = builder.build()
    again = _through_atif(trace, tmp_path)

    def shown(t: Trace) -> list[tuple[str, str, object]]:
        return [(s.name, s.input["role"], s.output["text"]) for s in t.steps]

    assert shown(again) == shown(trace)  # the reviewer's verdict is no assistant claim
