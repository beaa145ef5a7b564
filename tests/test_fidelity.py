"""Fidelity check over every real sample in ``../shared/data/native``.

For each file, a small reader written here (not the importer) counts the agent's actions in
the raw file; the import must give as many action steps (kinds ``tool``, ``command``, ``read``,
``edit``, ``test``, ``submit``: not messages, model calls or errors). Then no ``command`` step may
be a read, an edit or a test by ``parsers.classify_command``, and no test step may lack counts
when its output shows a runner's summary line.

The readers are deliberately naive: they know each format's shape, not our vocabulary. Tools
that record the agent's plan rather than act on anything (Claude Code's TodoWrite, Codex's
update_plan, OpenHands' think) are not actions; the importers keep them as messages.

Samples of formats other branches are mending fail today; they are listed in ``KNOWN_GAPS``
with the reason, so that whoever merges a fix removes the entry (an entry that passes fails
the test, so the list cannot go stale).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench.importers import import_path, iter_trace_inputs
from pytest_tracebench.models import Trace
from pytest_tracebench.parsers import classify_command

from ._corpus import NATIVE_SHARED

ACTION_KINDS = {"tool", "command", "read", "edit", "test", "submit"}
PLANNING_TOOLS = {"todowrite", "think", "plan", "update_plan"}

#: Samples that fail today, by path under native/, with what is wrong. Remove an entry when
#: the branch that mends it is merged (the test fails on an entry that passes).
KNOWN_GAPS: dict[str, str] = {}


# -- independent readers: the number of actions in a raw file ----------------------------------


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _atif(path: Path) -> int:
    count = 0
    for step in _json(path)["steps"]:
        calls = [c for c in step.get("tool_calls") or []
                 if str(c.get("function_name")).lower() not in PLANNING_TOOLS]
        results = (step.get("observation") or {}).get("results") or []
        loose = [r for r in results if not r.get("source_call_id")]
        # A result recorded without a call (terminus-2's parse-error notice) is read as a tool
        # step of its own.
        count += len(calls) + max(0, len(loose) - len(calls))
    return count


def _claude_code(path: Path) -> int:
    ids: set[str] = set()
    for record in _lines(path):
        message = record.get("message") if isinstance(record, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            continue
        for block in message["content"]:
            if isinstance(block, dict) and block.get("type") == "tool_use" and \
                    str(block.get("name")).lower() not in PLANNING_TOOLS:
                ids.add(str(block.get("id")))
    return len(ids)


def _codex(path: Path) -> int:
    count = 0
    for record in _lines(path):
        payload = record.get("payload") or {}
        if record.get("type") == "response_item" and payload.get("type") in (
                "function_call", "custom_tool_call", "local_shell_call") and \
                str(payload.get("name")).lower() not in PLANNING_TOOLS:
            count += 1
        item = record.get("item") or {}
        if record.get("type") == "item.completed" and item.get("type") in (
                "command_execution", "file_change", "mcp_tool_call", "web_search"):
            count += 1
    return count


def _gemini(path: Path) -> int:
    return sum(len(m.get("toolCalls") or []) for m in _json(path)["messages"])


def _inspect(path: Path) -> int:
    if path.suffix == ".eval":
        with zipfile.ZipFile(path) as archive:
            samples = [json.loads(archive.read(name)) for name in archive.namelist()
                       if name.startswith("samples/")]
    else:
        samples = _json(path).get("samples") or []
    return sum(1 for sample in samples for event in sample.get("events") or []
               if event.get("event") == "tool")


def _otel(path: Path) -> int:
    data = _json(path)
    spans = data.get("spans") if isinstance(data, dict) else data
    count = 0
    for span in spans:
        attributes = span.get("attributes") or {}
        if attributes.get("gen_ai.operation.name") == "execute_tool" or \
                attributes.get("ai.operationId") == "ai.toolCall" or \
                attributes.get("openinference.span.kind") == "TOOL":
            count += 1
    return count


_OPENHANDS_NOT_ACTIONS = {"message", "system", "recall", "think", "condensation",
                          "change_agent_state", "null", ""}


def _openhands_events(events: list[Any]) -> int:
    count = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("kind") == "ActionEvent":  # V1 / SDK
            action = event.get("action") or {}
            count += (action.get("kind") if isinstance(action, dict) else "") != "ThinkAction"
        elif isinstance(event.get("action"), str):  # V0
            count += event["action"] not in _OPENHANDS_NOT_ACTIONS
    return count


def _openhands(path: Path) -> int:
    if path.is_dir():
        return _openhands_events([_json(p) for p in sorted((path / "events").glob("*.json"))])
    if path.suffix == ".jsonl":
        rows = _lines(path)
        if rows and "history" in rows[0]:
            return sum(_openhands_events(row.get("history") or []) for row in rows)
        return _openhands_events(rows)
    return _openhands_events(_json(path))


def _swe_agent(path: Path) -> int:
    data = _json(path)
    if data.get("trajectory"):
        return len(data["trajectory"])
    return sum(1 for m in data.get("history") or []
               if m.get("role") == "assistant" and m.get("action"))


_BASH_BLOCK = re.compile(r"```(?:bash|sh|mswea_bash_command)\s*\n.*?\n```", re.S)


def _mini_swe_agent(path: Path) -> int:
    data = _json(path)
    messages = data if isinstance(data, list) else data.get("messages") or []
    return sum(1 for m in messages if m.get("role") == "assistant"
               and len(_BASH_BLOCK.findall(str(m.get("content") or ""))) == 1)


def _aider(path: Path) -> int:
    """The edits aider reports (tests/test_import_aider.py's reader of the raw Markdown: each
    applied edit, each block it reports as failing), the user's /run and /test commands, and
    the linter runs aider reports (it prints ``## Running: CMD`` before a linter's output when
    the linter fails, and nothing when it passes), and the test runs of a session started with
    ``--auto-test --test-cmd CMD``: aider runs CMD after each reply whose edits it applied
    (unless the linter failed and aider was told to fix that first), so one per run of aider's
    lines with an ``Applied edit to`` in it.

    A command is one line of input, so only the first line of a user turn (a run of ``#### ``
    lines) can be one: a ``/run`` further down is text the user pasted (aider's own docs, which
    show ``/run python myscript.py`` in an example transcript, pasted into a /help question
    eleven times in aider's test fixture), not a command aider ran."""
    from .test_import_aider import count_edits

    runs = 0
    previous = ""
    auto_test = edited = False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("# aider chat started at "):
            auto_test = False
        elif line.startswith("> ") and not previous.startswith(">") and \
                "--auto-test" in line.split() and "--test-cmd" in line:
            auto_test = True  # the command line aider was started with
        if not previous.startswith("####"):
            runs += bool(re.match(r"#### /(run|test)\b", line))
        runs += line.startswith("> ## Running: ")
        if line.startswith(">"):
            edited = edited or line.startswith("> Applied edit to ")
            if line.startswith("> Attempt to fix lint errors? y"):
                edited = False
        else:
            runs += auto_test and edited
            edited = False
        previous = line
    return count_edits(path) + runs


def reader_for(path: Path) -> Callable[[Path], int]:
    folder = path.relative_to(NATIVE_SHARED).parts[0]
    name = path.name
    if folder == "bonus_other":
        return _gemini if "gemini" in name else _mini_swe_agent
    return {"atif": _atif, "claude_code": _claude_code, "codex_cli": _codex,
            "gemini_cli": _gemini, "inspect_ai": _inspect, "otel_genai_spans": _otel,
            "openhands": _openhands, "swe_agent_traj": _swe_agent,
            "mini_swe_agent": _mini_swe_agent, "aider": _aider}[folder]


# -- the check ---------------------------------------------------------------------------------


def _samples() -> list[Path]:
    if not NATIVE_SHARED.is_dir():
        return []
    return [path for path, skip in iter_trace_inputs([NATIVE_SHARED]) if skip is None]


# A runner's summary line, as each prints it (pytest, unittest, vitest/jest, go, cargo, mocha).
_SUMMARY = re.compile(
    r"^=+ .*\b\d+ (passed|failed|errors?)\b.* =+$|^Ran \d+ tests? in |"
    r"^\s*Tests:?\s+.*\b\d+ (passed|failed)|^test result: (ok|FAILED)\. \d+ passed|"
    r"^\s*\d+ (passing|failing) \(", re.M)


def fidelity_problems(path: Path, traces: list[Trace]) -> list[str]:
    problems = []
    expected = reader_for(path)(path)
    got = sum(1 for t in traces for s in t.steps if s.kind in ACTION_KINDS
              and not (s.kind == "tool" and s.name.lower() in PLANNING_TOOLS))
    if got != expected:
        problems.append(f"{got} action steps imported, the file holds {expected} actions")
    for trace in traces:
        for step in trace.steps:
            if step.kind == "command" and isinstance(step.input, dict):
                kind = classify_command(str(step.input.get("command") or "")).kind
                if kind in ("read", "edit", "test"):
                    problems.append(f"step {step.index}: a {kind} kept as a command: "
                                    f"{str(step.input.get('command'))[:80]!r}")
            if step.kind == "test" and isinstance(step.output, dict):
                counted = any(step.output.get(k) is not None for k in ("passed", "failed"))
                if not counted and _SUMMARY.search(str(step.output.get("stdout") or "")):
                    problems.append(f"step {step.index}: a test run without counts although "
                                    "its output has a summary")
    return problems


@pytest.mark.skipif(not NATIVE_SHARED.is_dir(), reason=f"no native samples at {NATIVE_SHARED}")
@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(NATIVE_SHARED)))
def test_every_native_sample_imports_faithfully(path: Path) -> None:
    key = str(path.relative_to(NATIVE_SHARED))
    try:
        traces = import_path(path)
    except Exception as exc:
        problems = [f"does not load: {str(exc)[-160:]}"]
    else:
        problems = fidelity_problems(path, traces)
    if key in KNOWN_GAPS:
        assert problems, f"{key} passes now: remove it from KNOWN_GAPS"
        pytest.xfail(f"known gap: {KNOWN_GAPS[key]}: {problems[0]}")
    assert not problems, problems


def test_the_readers_count_what_they_should(tmp_path: Path) -> None:
    """The independent readers themselves, on small files made here."""
    atif = tmp_path / "t.json"
    atif.write_text(json.dumps({"steps": [
        {"tool_calls": [{"tool_call_id": "a"}, {"tool_call_id": "b"}],
         "observation": {"results": [{"source_call_id": "a"}, {"source_call_id": "b"}]}},
        {"observation": {"results": [{"content": "parse error"}]}}]}))
    assert _atif(atif) == 3
    claude = tmp_path / "c.jsonl"
    use = {"type": "tool_use", "id": "x", "name": "Bash"}
    claude.write_text("\n".join(json.dumps({"message": {"content": blocks}}) for blocks in (
        [use], [use], [{"type": "tool_use", "id": "y", "name": "TodoWrite"}],
        [{"type": "text", "text": "hi"}])))
    assert _claude_code(claude) == 1  # a call repeated when its message is finalised
    aider = tmp_path / "a.md"
    aider.write_text("#### fix it\nf.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n\n"
                     "> Applied edit to f.py  \n#### /run pytest\n> 1 passed  \n\n"
                     "#### what does this do?  \n#### /run python myscript.py  \n\n"
                     "#### /lint  \n> # Fix any errors below, if possible.  \n>  \n"
                     "> ## Running: flake8 f.py  \n>  \n> f.py:1:1: F821 undefined name 'x'  \n")
    assert _aider(aider) == 3  # the /run pasted into a question is not a command
    aider.write_text("# aider chat started at 2024-08-10 08:58:35\n\n"
                     "> /bin/aider f.py --test-cmd pytest --auto-test  \n\n#### fix it  \n\n"
                     "f.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n\n"
                     "> Applied edit to f.py  \n> Commit 0a25f61 fix  \n"
                     "> ============================= test session starts ===\n"
                     "collected 1 item\n\n=== 1 passed in 0.01s ===  \n")
    assert _aider(aider) == 2  # the edit and the test run aider started after it
