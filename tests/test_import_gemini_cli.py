"""Gemini CLI recordings: exit codes, paths and cancelled calls from the real session files, and
the newer JSONL recording, built here from a real session as the CLI's own migration writes it
(``chatRecordingService.ts``: a metadata line, one line per message record, ``$set`` updates,
``$rewindTo``), since no real ``session-*.jsonl`` is in the shared samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_tracebench.importers import detect_importer, get_importers, import_path

from ._corpus import NATIVE_SHARED

SAMPLES = NATIVE_SHARED / "gemini_cli"
LONG = SAMPLES / "agentcmd__session-2025-10-27T19-55-981c87cb.json"
SHORT = SAMPLES / "agentcmd__session-2025-10-29T10-36-453aa339.json"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


def _raw_calls(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return [c for m in data["messages"] for c in m.get("toolCalls") or []]


@needs_samples
def test_every_tool_call_is_one_step_with_its_exit_code_path_and_status() -> None:
    calls = _raw_calls(LONG)
    (trace,) = import_path(LONG)
    actions = [s for s in trace.steps if s.kind != "message"]
    assert len(actions) == len(calls) == 13
    assert [s.name for s in actions] == [c["name"] for c in calls]
    for step, call in zip(actions, calls, strict=True):
        if call["name"] == "run_shell_command":
            text = call["result"][0]["functionResponse"]["response"].get("output", "")
            code = re.search(r"^Exit Code: (\d+)", text, re.M)
            assert step.output["exit_code"] == (int(code.group(1)) if code else None)
            assert step.input["command"] == call["args"]["command"]
        if call["name"] == "read_file":
            assert step.kind == "read"
            assert step.input["path"] == call["args"]["absolute_path"] != ""
        assert bool(step.error) is (call["status"] in ("error", "cancelled"))
        assert step.meta.get("cancelled", False) is (call["status"] == "cancelled")
    pip = next(s for s in actions if s.input.get("command") == "pip install RestrictedPython")
    assert pip.output["exit_code"] == 127
    assert pip.output["stdout"] == "bash: line 1: pip: command not found"
    cancelled = next(s for s in actions if s.meta.get("cancelled"))
    assert "User cancelled" in (cancelled.error or "")


def _jsonl_of(path: Path) -> str:
    """The JSON session as the CLI's recorder writes it line by line: metadata, then each
    message record (the first gemini message once before its tokens came, then again whole),
    a message that is rewound away, and ``$set`` updates."""
    data = json.loads(path.read_text())
    meta = {k: data[k] for k in ("sessionId", "projectHash", "startTime", "lastUpdated")}
    lines = [meta]
    for message in data["messages"]:
        if message["type"] == "gemini" and message.get("tokens"):
            lines.append({**message, "tokens": None, "toolCalls": []})
        lines.append(message)
        lines.append({"$set": {"lastUpdated": message["timestamp"]}})
    lines.append({"id": "rewound", "timestamp": data["lastUpdated"], "type": "user",
                  "content": [{"text": "never mind"}]})
    lines.append({"$rewindTo": "rewound"})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@needs_samples
@pytest.mark.parametrize("source", [LONG, SHORT], ids=lambda p: p.name[:30])
def test_the_jsonl_recording_reads_as_its_json_session(source: Path, tmp_path: Path) -> None:
    path = tmp_path / (source.stem + ".jsonl")
    path.write_text(_jsonl_of(source))
    assert detect_importer(path, get_importers()).name == "gemini-cli"
    (from_json,) = import_path(source)
    (from_jsonl,) = import_path(path)
    assert [(s.kind, s.name, s.input, s.output, s.error) for s in from_jsonl.steps] == \
        [(s.kind, s.name, s.input, s.output, s.error) for s in from_json.steps]
    assert from_jsonl.header.task.id == from_json.header.task.id


def test_a_set_of_messages_replaces_the_history(tmp_path: Path) -> None:
    path = tmp_path / "session-2026-01-01T00-00-abcdef12.jsonl"
    lines = [
        {"sessionId": "s1", "projectHash": "h", "startTime": "2026-01-01T00:00:00Z",
         "lastUpdated": "2026-01-01T00:00:00Z"},
        {"id": "a", "timestamp": "2026-01-01T00:00:01Z", "type": "user", "content": "hi"},
        {"$set": {"messages": [
            {"id": "a", "timestamp": "2026-01-01T00:00:01Z", "type": "user",
             "content": [{"text": "summary of the earlier turns"}]}]}},
        {"id": "b", "timestamp": "2026-01-01T00:00:02Z", "type": "info",
         "content": "Request cancelled."},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    (trace,) = import_path(path)
    assert [s.output["text"] for s in trace.steps] == ["summary of the earlier turns"]
