"""The AutoCodeRover importer against the 100 real task folders of the development corpus.

The expected counts come from a small reader written here, independently of the importer:
it counts API calls in ``tool_call_sequence.json``, the files of each patch attempt in its
extracted diff (or its raw answer when the patch did not apply), and the model calls in
``info.log``. The corpus is read in place; nothing of it is copied into the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pytest_tracebench import Trace, TraceLoadError
from pytest_tracebench.importers import import_path, iter_trace_inputs

from ._corpus import DEV, needs_corpus, runs

SOURCE = "autocoderover-gpt4-0125-swebench-lite"
RUNS = runs(SOURCE)


def _number(path: Path) -> int:
    return int(re.search(r"_(\d+)(?:\.json|\.diff)?$", path.name).group(1))  # type: ignore[union-attr]


class RawRun:
    """What the folder's files say, read without the importer."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls = json.loads((folder / "tool_call_sequence.json").read_text())
        self.searches = [c for c in self.calls if c["func_name"] != "write_patch"]
        self.cost = json.loads((folder / "cost.json").read_text())
        status = json.loads((folder / "extract_status.json").read_text())["extract_status"]
        self.attempts = []  # (number, status, files, diff or None)
        for chat in sorted(folder.glob("debug_agent_write_patch_*.json"), key=_number):
            n = _number(chat)
            diff_file = folder / f"extracted_patch_{n}.diff"
            if diff_file.is_file():
                diff = diff_file.read_text()
                files = re.findall(r"^diff --git a/\S+ b/(\S+)", diff, re.M)
            else:
                diff = None
                raw = (folder / f"agent_patch_raw_{n}").read_text()
                files = list(dict.fromkeys(f.strip() for f in
                                           re.findall(r"<file>(.*?)</file>", raw, re.S)))
            self.attempts.append((n, status[n - 1], files, diff))
        log = (folder / "info.log").read_text()
        self.model_calls = len(re.findall(r"Model API request cost info:", log))
        rounds = sorted(folder.glob("conversation_round_*.json"), key=_number)
        last = json.loads(rounds[-1].read_text())
        self.search_replies = sum(1 for m in last if m["role"] == "assistant")

    @property
    def edits(self) -> int:
        return sum(max(1, len(files)) for _, _, files, _ in self.attempts)

    @property
    def final_patch(self) -> str:
        return next(diff for _, status, _, diff in reversed(self.attempts)
                    if status == "APPLICABLE_PATCH" and diff)


def _load(folder: Path) -> Trace:
    traces = import_path(folder)
    assert len(traces) == 1
    return traces[0]


@needs_corpus
def test_the_corpus_has_its_100_runs() -> None:
    assert len(RUNS) == 100


@needs_corpus
@pytest.mark.parametrize("folder", RUNS, ids=lambda p: p.name)
def test_steps_match_the_raw_files(folder: Path) -> None:
    trace = _load(folder)
    raw = RawRun(folder)
    kinds = Counter(s.kind for s in trace.steps)
    assert trace.header.source.format == "autocoderover"
    assert trace.header.task.id == folder.name.rsplit("_", 2)[0]
    assert trace.header.agent.name == "auto-code-rover"
    assert trace.header.agent.model == "gpt-4-0125-preview"
    assert trace.end is not None and trace.end.status == "completed"
    assert not trace.warnings

    # one step per action: a read per API call, an edit per file per attempt, one submit
    assert kinds["read"] == len(raw.searches)
    assert kinds["edit"] == raw.edits
    assert kinds["submit"] == 1
    assert sum(n for k, n in kinds.items() if k != "message") == \
        len(raw.searches) + raw.edits + 1
    # the search agent's own text and each patch answer are messages; the prompts are not
    assert kinds["message"] == raw.search_replies + len(raw.attempts)
    assert all(s.input == {"role": "assistant"} for s in trace.steps if s.kind == "message")

    reads = [s for s in trace.steps if s.kind == "read"]
    assert [(s.name, {k: v for k, v in s.input.items() if k != "path"}) for s in reads] == \
        [(c["func_name"], c["arguments"]) for c in raw.searches]
    assert [bool(s.error) for s in reads] == [not c["call_ok"] for c in raw.searches]
    assert all(isinstance(s.output, str) and s.output for s in reads)

    edits = [s for s in trace.steps if s.kind == "edit"]
    by_attempt: dict[int, list[str]] = {}
    for step in edits:
        by_attempt.setdefault(step.meta["patch_attempt"], []).append(step.input["path"])
        assert step.input["diff"]
    for number, status, files, diff in raw.attempts:
        assert by_attempt[number] == files
        failed = [bool(s.error) for s in edits if s.meta["patch_attempt"] == number]
        assert failed == [status != "APPLICABLE_PATCH"] * len(files)
        if diff is not None:
            assert all(s.input["diff"] in diff for s in edits
                       if s.meta["patch_attempt"] == number)

    submit = trace.steps[-1]
    assert submit.kind == "submit" and submit.input == {"patch": raw.final_patch}

    outcome = trace.end.outcome
    assert outcome["cost_usd"] == raw.cost["total_cost"]
    assert outcome["input_tokens"] == raw.cost["total_input_tokens"]
    assert outcome["output_tokens"] == raw.cost["total_output_tokens"]
    assert outcome["api_calls"] == raw.model_calls
    # every model call's tokens are on a step, so the steps add up to cost.json
    usage = [s.meta["usage"] for s in trace.steps if "usage" in s.meta]
    assert sum(u["input_tokens"] for u in usage) == raw.cost["total_input_tokens"]
    assert sum(u["calls"] for u in usage) == raw.model_calls

    # in the order of the run, with the times of info.log
    times = [s.started_at for s in trace.steps]
    assert None not in times and times == sorted(times)
    assert raw.cost["start_epoch"] - 1 <= times[0] <= times[-1] <= raw.cost["end_epoch"]


@needs_corpus
def test_totals_over_the_corpus() -> None:
    kinds: Counter[str] = Counter()
    failed_edits = 0
    for folder in RUNS:
        trace = _load(folder)
        kinds.update(s.kind for s in trace.steps)
        failed_edits += sum(1 for s in trace.steps if s.kind == "edit" and s.error)
    assert kinds == {"read": 704, "message": 551, "edit": 118, "submit": 100}
    assert failed_edits == 9  # the attempts whose patch did not apply (extract_status.json)


@needs_corpus
def test_a_failed_attempt_keeps_the_patch_it_proposed_and_why_it_failed() -> None:
    folder = DEV / SOURCE / "scikit-learn__scikit-learn-11281_2024-04-06_13-00-59"
    edits = [s for s in _load(folder).steps if s.kind == "edit"]
    assert [s.meta["patch_attempt"] for s in edits] == [1, 2, 3]
    first = edits[0]
    assert first.input["path"] == "sklearn/mixture/gaussian_mixture.py"
    assert first.error is not None and first.error.startswith(
        "MATCHED_BUT_EMPTY_ORIGIN: Your edit could not be applied")
    assert first.input["modifications"][0]["old"] == ""
    assert first.input["diff"].startswith("--- a/sklearn/mixture/gaussian_mixture.py\n")
    assert edits[2].error is None and edits[2].input["diff"].startswith("diff --git")


@needs_corpus
@pytest.mark.parametrize("folder", RUNS[::10], ids=lambda p: p.name)
def test_without_info_log_the_rounds_give_the_same_order(folder: Path, tmp_path: Path) -> None:
    """The fallback order (round by round, from tool_call_layers.json) is the log's order; the
    folder is linked file by file, not copied."""
    bare = tmp_path / folder.name
    bare.mkdir()
    for part in folder.iterdir():
        if part.name != "info.log":
            (bare / part.name).symlink_to(part)

    def order(trace: Trace) -> list[tuple[str, str, str]]:
        return [(s.kind, s.name, json.dumps(s.output if s.kind == "message" else
                                            {k: v for k, v in s.input.items() if k != "path"}))
                for s in trace.steps]

    without = _load(bare)
    assert order(without) == order(_load(folder))
    assert all(s.started_at is None for s in without.steps)
    assert [w.split(": ", 1)[1] for w in without.warnings] == [
        "there is no info.log: steps are in the order of the conversation rounds, without times "
        "or API results"]


@needs_corpus
def test_the_folder_is_claimed_whole() -> None:
    folder = RUNS[0]
    assert list(iter_trace_inputs([folder])) == [(folder, None)]
    inputs = list(iter_trace_inputs([DEV / SOURCE]))
    assert sorted(p for p, skip in inputs if p.is_dir() and skip is None) == RUNS
    # nothing inside a run folder is walked on its own, its verdict files included
    assert not [p for p, _ in inputs if p.parent in RUNS]


@needs_corpus
def test_validate_prints_each_folder_as_one_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_tracebench", "validate", str(RUNS[0]),
         str(DEV / SOURCE)], capture_output=True, text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert re.fullmatch(rf"{re.escape(str(RUNS[0]))}: ok: \d+ steps, completed, "
                        r"format autocoderover", lines[0])
    ok = [line for line in lines[1:] if ": ok: " in line]
    assert len(ok) == 100
    assert all(line.endswith(", completed, format autocoderover") for line in ok)
    # only the source's own run-level files (_source/) are not runs
    unknown = [line for line in result.stderr.splitlines() if "unknown format" in line]
    assert unknown and all("/_source/" in line for line in unknown)
    assert "warning" not in result.stderr and "Traceback" not in result.stderr


# -- synthetic folders: what the corpus does not show ------------------------------------------

_ISSUE = "Frobnicate breaks on empty input."


def _folder(tmp_path: Path, *, log: str | None = None, **files: object) -> Path:
    """A small task folder written by hand: one search round, one patch attempt that applied."""
    folder = tmp_path / "demo__demo-1_2024-04-06_12-00-00"
    folder.mkdir()
    diff = ("diff --git a/demo/core.py b/demo/core.py\n--- a/demo/core.py\n+++ b/demo/core.py\n"
            "@@ -1 +1 @@\n-    return x[0]\n+    return x[0] if x else None\n")
    parts: dict[str, object] = {
        "tool_call_sequence.json": [
            {"func_name": "search_method", "arguments": {"method_name": "frobnicate"},
             "call_ok": True},
            {"func_name": "write_patch", "arguments": {}, "call_ok": True}],
        "conversation_round_0.json": [
            {"role": "system", "content": "You are a software developer."},
            {"role": "user", "content": f"<issue>{_ISSUE}</issue>"},
            {"role": "assistant", "content": "I will look at frobnicate."}],
        "debug_agent_write_patch_1.json": [
            {"role": "user", "content": "Write a patch for the issue."},
            {"role": "assistant", "content": "# modification 1\n<file>demo/core.py</file>\n"
                                             "<original>return x[0]</original>\n"
                                             "<patched>return x[0] if x else None</patched>"},
            {"role": "user", "content": "Extracted a patch."}],
        "extracted_patch_1.diff": diff,
        "extract_status.json": {"extract_status": ["APPLICABLE_PATCH"]},
        "cost.json": {"model": "gpt-4-0125-preview", "total_cost": 0.5,
                      "total_input_tokens": 100, "total_output_tokens": 10},
    }
    parts.update(files)
    if log is not None:
        parts["info.log"] = log
    for name, content in parts.items():
        if content is None:
            continue
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text)
    return folder


_LOG = """\
2024-04-06 12:00:00 ========== Running task demo__demo-1 (relative counter in this run: 1/1) ==
2024-04-06 12:00:01 Model API request cost info: input_tokens=60, output_tokens=5, cost=0.3
2024-04-06 12:00:01 Raw model response: ChatCompletionMessage(content='I will look.')
2024-04-06 12:00:02 Result of dispatch_intent: ('Found 1 methods with name frobnicate.', 's', True)
2024-04-06 12:00:02 Something new happened in this version.
2024-04-06 12:00:03 Trying to write a patch. Try 1 of 3.
2024-04-06 12:00:04 Model API request cost info: input_tokens=40, output_tokens=5, cost=0.2
2024-04-06 12:00:04 Raw model response: ChatCompletionMessage(content='# modification 1')
2024-04-06 12:00:04 Raw patch produced in try 1. Writing patch into file.
2024-04-06 12:00:05 Result of dispatch_intent: ('Extracted a patch.', 'The tool returned.', True)
2024-04-06 12:00:05 Task demo__demo-1 completed successfully.
"""


def test_a_small_folder_imports_in_order_and_reports_what_it_skipped(tmp_path: Path) -> None:
    folder = _folder(tmp_path, log=_LOG, **{"notes.txt": "mine"})
    trace = _load(folder)
    assert [(s.kind, s.name) for s in trace.steps] == [
        ("message", "message"), ("read", "search_method"), ("message", "message"),
        ("edit", "write_patch"), ("submit", "write_patch")]
    assert trace.header.task.id == "demo__demo-1"
    assert trace.header.task.description == _ISSUE
    assert trace.steps[1].output == "Found 1 methods with name frobnicate."
    assert trace.steps[3].input["path"] == "demo/core.py"
    assert trace.end is not None and trace.end.outcome["api_calls"] == 2
    assert sorted(trace.warnings) == [
        f"{folder}: skipped 1 records of type file 'notes.txt' (not a known AutoCodeRover "
        f"output)",
        f"{folder}: skipped 1 records of type info.log line 'Something new happened in'"]


def test_without_info_log_the_rounds_give_the_order(tmp_path: Path) -> None:
    trace = _load(_folder(tmp_path))
    assert [s.kind for s in trace.steps] == ["message", "read", "message", "edit", "submit"]
    assert trace.steps[1].output is None and trace.steps[1].started_at is None
    assert len(trace.warnings) == 1 and "there is no info.log" in trace.warnings[0]


def test_a_run_whose_patches_never_applied_ends_failed_without_submit(tmp_path: Path) -> None:
    folder = _folder(tmp_path, **{
        "extracted_patch_1.diff": None,
        "debug_agent_write_patch_1.json": [
            {"role": "assistant", "content": "<file>demo/core.py</file><original>nope"
                                             "</original><patched>yes</patched>"},
            {"role": "user", "content": "Your edit could not be applied to the program."}],
        "extract_status.json": {"extract_status": ["RAW_PATCH_BUT_UNMATCHED"]},
        "tool_call_sequence.json": [
            {"func_name": "search_class", "arguments": {"class_name": "Nope"},
             "call_ok": False},
            {"func_name": "write_patch", "arguments": {}, "call_ok": False}]})
    trace = _load(folder)
    assert [s.kind for s in trace.steps] == ["message", "read", "message", "edit"]
    assert trace.steps[1].error == "search_class found nothing (call_ok false)"
    assert trace.steps[3].error == "RAW_PATCH_BUT_UNMATCHED: Your edit could not be applied " \
                                   "to the program."
    assert trace.steps[3].input["modifications"] == [{"old": "nope", "new": "yes"}]
    assert trace.end is not None and trace.end.status == "failed"
    assert trace.end.outcome["submitted"] is False


@pytest.mark.parametrize(("name", "content", "said"), [
    ("tool_call_sequence.json", "[{\"func_name\": ", "tool_call_sequence.json: invalid JSON"),
    ("tool_call_sequence.json", "{}", "tool_call_sequence.json: expected a list of API calls"),
    ("tool_call_sequence.json", "[1]", "tool_call_sequence.json: call 0 is not an object"),
    ("conversation_round_0.json", "{\"role\": \"user\"}",
     "conversation_round_0.json: expected a list of chat messages"),
    ("debug_agent_write_patch_1.json", "[\"text\"]",
     "debug_agent_write_patch_1.json: message 0 is not an object"),
])
def test_a_malformed_file_is_one_line_naming_it(tmp_path: Path, name: str, content: str,
                                                said: str) -> None:
    folder = _folder(tmp_path, **{name: content})
    with pytest.raises(TraceLoadError) as caught:
        import_path(folder)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{folder}: autocoderover: ")
    assert said in message


def test_a_folder_with_nothing_of_a_run_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "empty__empty-1_2024-04-06_12-00-00"
    folder.mkdir()
    (folder / "tool_call_sequence.json").write_text("[]")
    with pytest.raises(TraceLoadError, match="nothing of a run"):
        import_path(folder)


def test_validate_names_the_malformed_file_in_one_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, **{"cost.json": "{"})
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{folder}: autocoderover: ")
    assert "cost.json: invalid JSON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
