from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_tracebench import Trace, TraceLoadError, TraceRecorder, dump_trace, load_trace


def _recorded(tmp_path: Path, steps: int = 3) -> Path:
    path = tmp_path / "run.jsonl"
    rec = TraceRecorder(path, task="t", agent="a")
    for i in range(steps):
        rec.command(f"echo {i}", exit_code=0, stdout=str(i))
    rec.end()
    return path


def test_seed_example_loads_as_is(seed_trace_path: Path) -> None:
    trace = load_trace(seed_trace_path)
    assert [s.name for s in trace.steps] == [
        "retrieve_context", "generate_fix", "run_tests", "retry_fix",
        "generate_fix", "run_tests", "retry_fix", "final_answer",
    ]
    assert [s.kind for s in trace.steps] == [
        "read", "edit", "test", "tool", "edit", "test", "tool", "submit",
    ]
    assert trace.steps[0].input == {"query": "Fix API timeout issue"}
    assert trace.steps[2].output["ok"] is False
    assert trace.header.source.format == "seed"
    assert trace.warnings == []


def test_recorded_jsonl_and_json_document_round_trip(tmp_path: Path) -> None:
    original = load_trace(_recorded(tmp_path))
    doc = dump_trace(original, tmp_path / "doc.json", document=True)
    again = load_trace(doc)
    assert again.model_dump() == original.model_dump()
    lines = dump_trace(again, tmp_path / "again.jsonl")
    assert load_trace(lines).model_dump() == original.model_dump()


def _write(tmp_path: Path, text: str | bytes, name: str = "bad.jsonl") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(TraceLoadError) as info:
        load_trace(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_malformed_middle_line_names_file_and_line(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()
    lines[2] = lines[2][:-5] + "}}}"
    path = _write(tmp_path, "\n".join(lines) + "\n")
    assert _error(path).startswith(f"{path}:3: invalid JSON")


def test_unknown_field_type_names_the_field(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()
    step = json.loads(lines[1])
    step["index"] = "first"
    lines[1] = json.dumps(step)
    path = _write(tmp_path, "\n".join(lines) + "\n")
    message = _error(path)
    assert message.startswith(f"{path}:2: field 'index': ")
    assert "integer" in message


def test_unknown_step_kind_names_the_field(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()
    step = json.loads(lines[2])
    step["kind"] = "teleport"
    lines[2] = json.dumps(step)
    message = _error(_write(tmp_path, "\n".join(lines) + "\n"))
    assert ":3: field 'kind': unknown step kind 'teleport'" in message


def test_unknown_record_type(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()
    lines.insert(2, json.dumps({"type": "event", "x": 1}))
    message = _error(_write(tmp_path, "\n".join(lines) + "\n"))
    assert ":3: field 'type': unknown record type" in message


def test_truncated_last_line_is_a_warning_and_keeps_the_steps(tmp_path: Path) -> None:
    text = _recorded(tmp_path, steps=4).read_text()
    lines = text.splitlines()
    cut = "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2]  # end line cut
    path = _write(tmp_path, cut)
    trace = load_trace(path)
    assert len(trace.steps) == 4
    assert trace.end is None
    assert any(w.startswith(f"{path}:6: truncated last line") for w in trace.warnings)
    assert any("no end record" in w for w in trace.warnings)


def test_newer_schema_version_is_refused_with_advice(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()
    header = json.loads(lines[0])
    header["schema_version"] = 99
    lines[0] = json.dumps(header)
    message = _error(_write(tmp_path, "\n".join(lines) + "\n"))
    assert ":1: field 'schema_version': trace format version 99 is newer" in message
    assert "upgrade pytest-tracebench" in message


def test_newer_schema_version_in_a_json_document(tmp_path: Path) -> None:
    trace = load_trace(_recorded(tmp_path))
    data = json.loads(trace.model_dump_json())
    data["header"]["schema_version"] = 2
    message = _error(_write(tmp_path, json.dumps(data), "doc.json"))
    assert "field 'schema_version'" in message and "newer" in message


def test_empty_binary_and_foreign_files(tmp_path: Path) -> None:
    assert "empty file" in _error(_write(tmp_path, "", "empty.jsonl"))
    assert "binary file" in _error(_write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00", "x.jsonl"))
    foreign = _error(_write(tmp_path, json.dumps({"hello": "world"}), "foreign.json"))
    assert "not a tracebench trace" in foreign
    truncated = _error(_write(tmp_path, '{"header": {"trace_id": "x"}, "steps": [', "cut.json"))
    assert "cut.json:1: truncated JSON" in truncated


def test_seed_record_of_the_wrong_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps([{"action": "read"}, {"state": {}}]), "seed.json")
    assert _error(path) == f"{path}: field '[1].action': missing or not a string; " \
        "each record needs an action"


def test_json_document_field_error(tmp_path: Path) -> None:
    trace = load_trace(_recorded(tmp_path))
    data = json.loads(trace.model_dump_json())
    data["steps"][1]["started_at"] = "yesterday"
    message = _error(_write(tmp_path, json.dumps(data), "doc.json"))
    assert "field 'steps[1].started_at'" in message


def test_out_of_order_steps_are_sorted_and_duplicates_warned(tmp_path: Path) -> None:
    lines = _recorded(tmp_path, steps=3).read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    lines.insert(3, lines[1])
    trace = load_trace(_write(tmp_path, "\n".join(lines) + "\n"))
    assert [s.index for s in trace.steps] == [0, 1, 2]
    assert any("duplicate step index" in w for w in trace.warnings)


def test_trace_model_exposes_aborted(tmp_path: Path) -> None:
    lines = _recorded(tmp_path).read_text().splitlines()[:-1]
    trace: Trace = load_trace(_write(tmp_path, "\n".join(lines) + "\n"))
    assert trace.aborted


def test_lines_only_python_json_reads_load_cleaned(tmp_path: Path) -> None:
    """Older recorders wrote lone surrogates as \\ud800 escapes and NaN tokens, which the strict
    parser rejects; such a line loads (U+FFFD, null) and a real field error is still named."""
    lines = _recorded(tmp_path).read_text().splitlines()
    lines[1] = ('{"type":"step","index":0,"kind":"tool","name":"t","input":"a\\ud800b",'
                '"output":NaN,"started_at":1.0,"ended_at":1.0}')
    trace = load_trace(_write(tmp_path, "\n".join(lines) + "\n"))
    assert trace.steps[0].input == "a\ufffdb" and trace.steps[0].output is None
    lines[1] = lines[1].replace('"index":0', '"index":"zz"')
    message = _error(_write(tmp_path, "\n".join(lines) + "\n"))
    assert ":2:" in message and "field 'index'" in message


def test_a_lone_surrogate_is_recorded_as_valid_json(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.step("tool", "x", input="a\ud800b", output=float("nan"))
    rec.end()
    line = (tmp_path / "t.jsonl").read_bytes().splitlines()[1]
    assert b"\\ud800" not in line and b"NaN" not in line
    assert load_trace(tmp_path / "t.jsonl").steps[0].input == "a\ufffdb"


@pytest.mark.parametrize("size", [80_000, 2_000_000])  # past detection's 64 KiB; the loader's 1 MiB
def test_a_header_longer_than_the_detection_head_reads_back(tmp_path: Path, size: int) -> None:
    # Our own trace with an 80 KB task description was "unknown format" to validate and
    # analyze (detection saw 64 KiB, the header line is longer), and the dashboard had no steps.
    from pytest_tracebench.cli import main
    from pytest_tracebench.importers import import_path
    from pytest_tracebench.models import TaskInfo
    from pytest_tracebench.report import build_report
    from pytest_tracebench.report.html import write_dashboard

    path = tmp_path / "long.jsonl"
    text = ("Make the parser accept nested lists. " * (size // 37 + 1))[:size]
    rec = TraceRecorder(path, task=TaskInfo(id="t", description=text), agent="a")
    rec.command("ls", exit_code=0, stdout="x")
    rec.message("done")
    rec.end()
    assert len(path.read_text().splitlines()[0]) > size
    (trace,) = import_path(path)
    assert len(trace.steps) == 2 and trace.header.task.description == text
    assert main(["validate", str(path)]) == 0
    from pytest_tracebench.engines.local import analyze_paths
    from pytest_tracebench.settings import Settings

    report = build_report(analyze_paths([str(path)], Settings()), Settings())
    assert report.results[0].step_count == 2
    page = write_dashboard(report, tmp_path / "out" / "index.html")
    assert (page.parent / "index_files" / "traces" / "t00000.js").is_file()
