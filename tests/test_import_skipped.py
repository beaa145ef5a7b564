"""Unknown input is never silently accepted: what an importer skips, `validate` and `analyze`
say, in one line per file (how many records, of which type)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench.importers import import_path

from ._corpus import NATIVE_SHARED
from .test_fidelity import _samples


def tb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args],
                          capture_output=True, text=True, timeout=300)


def _atif_of_a_newer_version(folder: Path) -> Path:
    path = folder / "newer.trajectory.json"
    path.write_text(json.dumps({
        "schema_version": "ATIF-v2.3", "session_id": "s1",
        "agent": {"name": "future-agent", "version": "9"},
        "steps": [
            {"step_id": 1, "source": "user", "message": "fix the bug"},
            {"step_id": 2, "source": "agent", "message": "looking",
             "tool_calls": [{"tool_call_id": "c1", "function_name": "bash",
                             "arguments": {"command": "ls"}}],
             "observation": {"results": [{"source_call_id": "c1", "content": "a.py"}]},
             "plan_graph": {"nodes": 3}},
            {"step_id": 3, "source": "environment", "message": "tick", "plan_graph": {}},
            {"step_id": 4, "source": "agent", "message": [
                {"type": "text", "text": "see the screen"},
                {"type": "video", "source": {"path": "clip.mp4"}}]},
        ]}))
    return path


def _claude_session_with_unknown_records(folder: Path) -> Path:
    path = folder / "session.jsonl"
    base = {"sessionId": "abc", "version": "9.0.0", "timestamp": "2026-01-01T00:00:00Z"}
    records = [
        {**base, "type": "user", "message": {"role": "user", "content": "hello"}},
        {**base, "type": "assistant", "message": {"id": "m1", "role": "assistant", "content": [
            {"type": "text", "text": "hi"},
            {"type": "server_tool_use", "id": "s1", "name": "web_search"},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}]}},
        {**base, "type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "a.py"}]}},
        {**base, "type": "hologram", "payload": {}},
        {**base, "type": "hologram", "payload": {}},
        {**base, "type": "summary", "summary": "greeting"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_an_atif_file_of_a_newer_version_says_what_it_skipped(tmp_path: Path) -> None:
    path = _atif_of_a_newer_version(tmp_path)
    (trace,) = import_path(path)
    assert trace.warnings == [
        f"{path}: skipped 5 records not understood: step field 'plan_graph' x2, "
        "document of ATIF-v2.3 (read as ATIF-v1.8) x1, step source 'environment' x1, "
        "video content part x1"]
    assert [s.kind for s in trace.steps] == ["message", "message", "read", "message",
                                             "message"]


def test_a_claude_session_with_unknown_records_says_so(tmp_path: Path) -> None:
    path = _claude_session_with_unknown_records(tmp_path)
    (trace,) = import_path(path)
    assert trace.warnings == [
        f"{path}: skipped 3 records not understood: record type 'hologram' x2, "
        "assistant content block 'server_tool_use' x1"]
    assert [s.kind for s in trace.steps] == ["message", "message", "read"]


def test_validate_and_analyze_say_it_in_one_line_per_file(tmp_path: Path) -> None:
    _atif_of_a_newer_version(tmp_path)
    _claude_session_with_unknown_records(tmp_path)
    for verb in (["validate"], ["analyze", "--json", str(tmp_path / "r.json")]):
        result = tb(*verb, str(tmp_path / "newer.trajectory.json"),
                    str(tmp_path / "session.jsonl"))
        lines = [line for line in result.stderr.splitlines() if "not understood" in line]
        assert len(lines) == 2, result.stderr
        assert lines[0].startswith(f"warning: {tmp_path / 'newer.trajectory.json'}: skipped 5 ")
        assert lines[1].startswith(f"warning: {tmp_path / 'session.jsonl'}: skipped 3 ")
        assert "Traceback" not in result.stderr


@pytest.mark.skipif(not NATIVE_SHARED.is_dir(), reason=f"no native samples at {NATIVE_SHARED}")
def test_the_real_claude_and_atif_samples_hold_nothing_unknown() -> None:
    """Their every record type is read or known to carry no step (no false alarms)."""
    for path in _samples():
        if path.parent.name not in ("atif", "claude_code"):
            continue
        for trace in import_path(path):
            assert not [w for w in trace.warnings if "not understood" in w], path
