"""The view of a trace: facts that several detectors need, computed once per trace in one pass.

A detector asks :func:`view_of` for the :class:`TraceView` of the trace it is given, and reads
from it what the built-in detectors read: the agent's actions with their normalised signatures,
the test runs, the edits, the messages, what the agent created and checked. Built-in and
third-party detectors get it the same way, and while the detector runner
(:func:`pytest_tracebench.detectors.detect`) works on a trace, every detector that asks gets the
same view: running all detectors costs one pass to build it plus each detector's own pass.

The cache holds views weakly, by the identity of their trace: a view lives as long as someone
uses it (the runner, a pipeline that reads the features after the findings, a caller that keeps
it) and then goes, with its trace. Nothing here keeps a trace alive.
"""

from __future__ import annotations

import bisect
import json
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from pytest_tracebench.detectors._gc import paused_gc
from pytest_tracebench.models import Step, Trace
from pytest_tracebench.parsers import CommandInfo, classify_command, parse_test_output
from pytest_tracebench.text import normalise

__all__ = [
    "ACTION_KINDS",
    "EditInfo",
    "TestRun",
    "TraceView",
    "build_view",
    "environment_stopped",
    "input_text",
    "is_test_path",
    "never_started",
    "output_text",
    "same_path",
    "test_target",
    "view_of",
]

ACTION_KINDS = frozenset({"tool", "command", "read", "edit", "test", "submit"})
_COMMAND_KINDS = frozenset({"read", "command", "test", "edit"})  # kinds whose command we parse

# What marks a line of output as an error. Searched line by line from the end (the last error
# line is the signature), without ``^.*`` around it: that form backtracks on every line.
_ERROR_WORD = re.compile(
    r"Error|Exception|Traceback|FAILED|FAIL:|error:|fatal:|panic:|Segmentation fault|"
    r"command not found|No such file or directory|Killed|timed out")
_TEST_DIR = re.compile(r"(?:^|/)(?:tests?|testing|__tests__|spec)/")
_TEST_NAME = re.compile(
    r"(?:^|/)test_[^/]*$|_test\.\w+$|(?:^|/)conftest\.py$|\.(?:spec|test)\.[jt]sx?$|"
    r"(?:^|/)tests?\.py$|Tests?\.java$")
# Source code, as opposed to data a test writes (``test_default.sqlite3``) or notes.
_CODE_FILE = re.compile(r"\.(?:py|pyi|js|jsx|ts|tsx|mjs|cjs|go|rs|java|kt|scala|rb|php|c|cc|"
                        r"cpp|cxx|h|hpp|cs|swift|m|sh|bash|pl|lua|r|jl|ex|exs|erl|hs|ml|clj)$",
                        re.I)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_test_path(path: str) -> bool:
    """True for paths of test code (``tests/``, ``test_*.py``, ``*_test.go``, ``conftest.py``);
    not data files a test run leaves (``test_default.sqlite3``), not files under ``/tmp``."""
    path = path.replace("\\", "/")
    if path.startswith("/tmp/"):
        return False
    return bool(_TEST_DIR.search(path)) or (bool(_TEST_NAME.search(path))
                                              and bool(_CODE_FILE.search(path)))


def _names_file(text: str, path: str) -> bool:
    """True when ``text`` mentions the file ``path`` by its name (a word, with extension)."""
    name = _basename(path)
    if "." not in name or len(name) < 3 or not text:
        return False
    at = text.find(name)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(name)] if at + len(name) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        at = text.find(name, at + 1)
    return False


def same_path(a: str, b: str) -> bool:
    """Paths that name the same file, one absolute and one relative allowed."""
    a, b = a.strip().rstrip("/"), b.strip().rstrip("/")
    if not a or not b:
        return False
    if a == b:
        return True
    long, short = (a, b) if len(a) >= len(b) else (b, a)
    short = short.removeprefix("./")
    return long.endswith("/" + short)


def output_text(step: Step) -> str:
    """The text a step produced (stdout, a tool result, an error), for pattern matching."""
    out = step.output
    parts: list[str] = []
    if isinstance(out, str):
        parts.append(out)
    elif isinstance(out, dict):
        for key in ("stdout", "stderr", "output", "content", "text"):
            value = out.get(key)
            if isinstance(value, str):
                parts.append(value)
    elif out is not None:
        parts.append(json.dumps(out, default=str))
    if step.error:
        parts.append(step.error)
    return "\n".join(parts)


def input_text(step: Step) -> str:
    """What a step was given, as one text: its command, a plain read's path, else its input
    as canonical JSON."""
    inp = step.input
    if isinstance(inp, str):
        return inp
    if isinstance(inp, dict):
        command = inp.get("command")
        if isinstance(command, str) and command:
            return command
        if len(inp) == 1 and isinstance(inp.get("path"), str):
            return str(inp["path"])  # a plain read: no need to serialise
    return _CANONICAL.encode(inp) if inp is not None else ""


# One encoder for every input: json.dumps(..., sort_keys=True) builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


@dataclass
class TestRun:
    """One test step, read once."""

    __test__ = False

    index: int
    target: str
    baseline: bool
    """Run while none of the agent's source edits was in effect (before the first one, or
    after reverting them): its failures were there before the agent's change."""
    ok: bool | None
    failed: int | None
    failing: frozenset[str]
    timed_out: bool
    completed: bool


@dataclass
class EditInfo:
    index: int
    path: str
    op: str
    added: str
    removed: str

    def describe(self) -> str:
        """``the change to PATH at step N`` (or without the path when it is unknown)."""
        where = f" to {self.path}" if self.path != "<unknown>" else ""
        return f"the change{where} at step {self.index + 1}"


@dataclass
class TraceView:
    """What the detectors read of one trace, derived once: the agent's actions (``actions``,
    with ``action_sig``, ``texts`` and ``error_sig`` by step index), test runs (``tests``),
    edits, messages, reads, created and deleted files, and the checks the agent ran, with
    lookups over them (``changed_between``, ``passes_later``, ``source_edits``, ...).

    Get it with :func:`view_of`; treat it as read-only, except ``memo``."""

    trace: Trace
    actions: list[Step] = field(default_factory=list)
    action_sig: dict[int, str] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    """What each action was given (its command, or its input as JSON), by step index."""
    _obs_sig: dict[int, str] = field(default_factory=dict)
    error_sig: dict[int, str] = field(default_factory=dict)
    tests: list[TestRun] = field(default_factory=list)
    edits: list[EditInfo] = field(default_factory=list)
    messages: list[Step] = field(default_factory=list)
    message_positions: list[int] = field(default_factory=list)
    """Where each message sits in ``trace.steps`` (adjacent positions: nothing between)."""
    message_texts: list[str] = field(default_factory=list)
    """Each message's text (``output.text``; empty when there is none), read once."""
    message_roles: list[Any] = field(default_factory=list)
    """Each message's ``input.role``; ``"assistant"`` when none is recorded."""
    reads: list[tuple[int, str]] = field(default_factory=list)
    submit_index: int | None = None
    created: set[str] = field(default_factory=set)
    deliverables: set[str] = field(default_factory=set)
    """Files the agent created that the task names (``Save your solution as solution.py``):
    the work itself, not scratch."""
    deleted: set[str] = field(default_factory=set)
    verifications: list[int] = field(default_factory=list)
    """Indices of steps that checked the work: test runs, and scripts run with exit code 0."""
    _reads_by_name: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _created_by_name: dict[str, list[str]] = field(default_factory=dict)
    _source_edits: list[EditInfo] | None = None
    _source_edit_indices: list[int] = field(default_factory=list)
    _edit_indices: list[int] = field(default_factory=list)
    _test_indices: list[int] = field(default_factory=list)
    _test_set: frozenset[int] = frozenset()
    _action_indices: list[int] = field(default_factory=list)
    _last_ok: dict[str, int] = field(default_factory=dict)
    runs_by_target: dict[str, list[TestRun]] = field(default_factory=dict)
    _next_of_target: dict[int, TestRun] = field(default_factory=dict)
    memo: dict[str, dict[Any, Any]] = field(default_factory=dict)
    """Per-trace memos for detectors (``memo.setdefault(name, {})``): agents repeat the same
    message or command many times in a run, and the analysis of a text never changes."""

    def finish(self) -> None:
        """Build the lookup tables (called once, after the pass over the steps)."""
        by_name = self._reads_by_name
        for entry in self.reads:
            path = entry[1]
            name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
            found = by_name.get(name)
            if found is None:
                by_name[name] = [entry]
            else:
                found.append(entry)
        for path in self.created:
            self._created_by_name.setdefault(_basename(path), []).append(path)
        named = self.trace.header.task.description or ""
        self.deliverables = {p for p in self.created if _names_file(named, p)}
        self._source_edits = [e for e in self.edits if e.op not in ("delete", "revert", "failed")
                              and (not self.is_scratch(e.path) or e.path in self.deliverables)]
        self._source_edit_indices = [e.index for e in self._source_edits]
        self._edit_indices = sorted({e.index for e in self.edits if e.op != "failed"})
        self._test_indices = [t.index for t in self.tests]
        self._test_set = frozenset(self._test_indices)
        self._action_indices = list(self.texts)  # the actions' indices, in order
        for run in self.tests:
            runs = self.runs_by_target.setdefault(run.target, [])
            if runs:
                self._next_of_target[runs[-1].index] = run
            runs.append(run)
            if run.ok:
                self._last_ok[run.target] = run.index

    def obs_sig(self, step: Step) -> str:
        """The normalised observation of an action (computed on demand: only repeated actions
        need it, and observations are the long part of a trace)."""
        sig = self._obs_sig.get(step.index)
        if sig is None:
            out = normalise(output_text(step))
            sig = out if len(out) <= 4000 else out[:2000] + out[-2000:]
            self._obs_sig[step.index] = sig
        return sig

    def is_test_run(self, step: Step) -> bool:
        """A ``test`` step, or a command that ran a test suite (``trace.command("pytest")``)."""
        return step.index in self._test_set

    def next_run(self, run: TestRun) -> TestRun | None:
        """The next run of the same test command, if any."""
        return self._next_of_target.get(run.index)

    def passes_later(self, run: TestRun) -> bool:
        """True when a later run of the same test command passed."""
        return self._last_ok.get(run.target, -1) > run.index

    def changed_between(self, start: int, end: int) -> bool:
        """True when any edit (scratch files included) happened strictly between two steps."""
        position = bisect.bisect_right(self._edit_indices, start)
        return position < len(self._edit_indices) and self._edit_indices[position] < end

    def tested_between(self, start: int, end: int) -> bool:
        position = bisect.bisect_right(self._test_indices, start)
        return position < len(self._test_indices) and self._test_indices[position] < end

    def checked_between(self, start: int, end: int) -> bool:
        position = bisect.bisect_right(self.verifications, start)
        return position < len(self.verifications) and self.verifications[position] < end

    def last_source_edit_before(self, index: int) -> int | None:
        position = bisect.bisect_left(self._source_edit_indices, index)
        return self._source_edit_indices[position - 1] if position else None

    def count_tests_before(self, index: int) -> int:
        """How many test runs came before ``index`` (they are ``tests[:n]``)."""
        return bisect.bisect_left(self._test_indices, index)

    def last_judged_run_before(self, index: int) -> TestRun | None:
        """The last completed, non-baseline test run before ``index``."""
        for position in range(self.count_tests_before(index) - 1, -1, -1):
            run = self.tests[position]
            if run.completed and not run.baseline:
                return run
        return None

    def last_completed_run_before(self, index: int) -> TestRun | None:
        """The last completed test run before ``index``, baseline or not."""
        for position in range(self.count_tests_before(index) - 1, -1, -1):
            if self.tests[position].completed:
                return self.tests[position]
        return None

    def action_position(self, index: int) -> int:
        """Where the action with step index ``index`` sits in ``actions``."""
        return bisect.bisect_left(self._action_indices, index)

    def next_action_after(self, index: int) -> Step | None:
        position = bisect.bisect_right(self._action_indices, index)
        return self.actions[position] if position < len(self.actions) else None

    def edited_between(self, start: int, end: int) -> bool:
        """True when a source edit happened strictly between two step indices."""
        position = bisect.bisect_right(self._source_edit_indices, start)
        return position < len(self._source_edit_indices) and \
            self._source_edit_indices[position] < end

    def checked_after(self, index: int) -> bool:
        """True when a check (test run or successful script/build) came after ``index``."""
        return bool(self.verifications) and self.verifications[-1] > index

    def source_edits(self) -> list[EditInfo]:
        """Changes to files that existed before the run (not the agent's scratch files, not
        deletions or reverts)."""
        if self._source_edits is None:
            self.finish()
        assert self._source_edits is not None
        return self._source_edits

    def preexisting_failures(self) -> frozenset[str]:
        """Test ids shown to fail independently of the agent's change: failing in a baseline
        run made after the agent had changed something and reverted it to check.

        Failures seen before the first change are not in this set: those are what the task
        is about, and if they still fail at the end the fix is incomplete."""
        first_edit = next((e.index for e in self.source_edits()), None)
        if first_edit is None:
            return frozenset()
        ids: set[str] = set()
        for run in self.tests:
            if run.baseline and run.ok is False and run.index > first_edit:
                ids |= run.failing
        return frozenset(ids)

    def failing_before_change(self) -> frozenset[str]:
        """Test ids that failed in a run made before the agent's first change: the state it
        started from (the bug, or tests the environment breaks: on real runs the second is
        the more common reason such tests still fail at the end)."""
        first_edit = next((e.index for e in self.source_edits()), None)
        ids: set[str] = set()
        for run in self.tests:
            if first_edit is not None and run.index > first_edit:
                break
            if run.completed and run.ok is False:
                ids |= run.failing
        return frozenset(ids)

    def is_adhoc(self, run: TestRun) -> bool:
        """A test run of a script the agent wrote itself during the run (named by its path or
        its file name: ``python reproduce.py`` runs ``/repo/reproduce.py``)."""
        if not self.created:
            return False
        words = {_basename(w) for w in _WORDS.findall(run.target)}
        return any(_basename(c) in words for c in self.created
                   if c not in self.deliverables)

    def is_adhoc_path(self, path: str) -> bool:
        """A file the agent created that the task does not name: scratch (a reproduction
        script, a test of its own, notes)."""
        return path in self.created and path not in self.deliverables

    def is_scratch(self, path: str) -> bool:
        candidates = self._created_by_name.get(_basename(path)) if self._created_by_name \
            else [c for c in self.created if _basename(c) == _basename(path)]
        return any(same_path(path, c) for c in candidates or ())

    def was_read_before(self, path: str, index: int) -> bool:
        return any(i < index and same_path(path, p)
                   for i, p in self._reads_by_name.get(_basename(path), ()))


def _succeeded(step: Step) -> bool:
    """Exit code 0, or no exit code recorded and no error (Claude Code and ATIF report
    failures with an error flag and successes without a code)."""
    code = step.output.get("exit_code") if isinstance(step.output, dict) else None
    return code == 0 or (code is None and not step.error and not _is_error(step))


def _error_signature(step: Step) -> str:
    text = output_text(step)
    tail = text[-4000:]
    last = None
    for last in _ERROR_WORD.finditer(tail):  # noqa: B007 - the last match is the one we want
        pass
    if last is not None:  # the last line holding an error word
        start = tail.rfind("\n", 0, last.start()) + 1
        end = tail.find("\n", last.end())
        return normalise(tail[start:end if end >= 0 else len(tail)])[:300]
    first = next((line for line in (step.error or text).splitlines()
                  if line.strip() and not line.startswith("Exit code")), None)
    return normalise(first)[:300] if first is not None else ""


def _is_error(step: Step) -> bool:
    if step.error:
        return True
    out = step.output
    if not isinstance(out, dict):
        return False
    if out.get("timed_out"):
        return True
    if step.kind == "test":
        return out.get("ok") is False
    code = out.get("exit_code")
    return isinstance(code, int) and code not in (0,) and bool(_ERROR_WORD.search(
        output_text(step)[-4000:]))


def _added_removed(step: Step) -> tuple[str, str]:
    inp = step.input if isinstance(step.input, dict) else {}
    added: list[str] = []
    removed: list[str] = []
    for key in ("new", "content", "new_str", "file_text", "patch"):
        if isinstance(inp.get(key), str):
            added.append(inp[key])
    for key in ("old", "old_str"):
        if isinstance(inp.get(key), str):
            removed.append(inp[key])
    diff = inp.get("diff")
    if isinstance(diff, str):
        for line in diff.splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added.append(line[1:])
            elif line.startswith("-") and not line.startswith("---"):
                removed.append(line[1:])
    command = inp.get("command")
    if isinstance(command, str) and step.kind in ("edit", "test", "command"):
        added.append(command)
    if not added and not removed and step.input is not None:
        added.append(input_text(step))
    return "\n".join(added), "\n".join(removed)


def _edit_entries(step: Step, info: CommandInfo | None) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    meta_edits = step.meta.get("edits")
    if isinstance(meta_edits, list):
        for item in meta_edits:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                entries.append((item["path"], str(item.get("op", "modify"))))
    elif info is not None:
        # Recorded commands carry no pre-classified edits: read them from the command.
        entries.extend((e.path, e.op) for e in info.edits)
    if not entries and step.kind == "edit":
        inp = step.input if isinstance(step.input, dict) else {}
        path = inp.get("path") or inp.get("file_path") or "<unknown>"
        entries.append((str(path), str(inp.get("op", "modify"))))
    return entries


_WORDS = re.compile(r"[\w.-]+")
# Running a script, or building/compiling/type-checking: what counts as a check.
_CHECK_RUN = re.compile(
    r"(?:^|\s)(?:python[\d.]*|node|bash|sh|ruby|go run)\s+\S+"
    r"|(?:^|[\s;&|(])(?:make|cmake|gcc|g\+\+|clang|cc|javac|tsc|coqc|ghc|rustc|"
    r"cargo\s+(?:build|check|run)|go\s+(?:build|vet|run)|mvn\s+\w+|gradle\s+\w+|"
    r"npm\s+run\s+\w+|mypy|ruff|flake8|pylint)\b")


def build_view(trace: Trace) -> TraceView:
    """A new view of ``trace``, in one pass over its steps (:func:`view_of` shares it)."""
    view = TraceView(trace=trace)
    first_op: dict[str, str] = {}
    in_effect: set[str] = set()  # source files the agent changed and has not reverted
    in_effect_names: set[str] = set()
    stashed: set[str] | None = None  # what ``git stash`` took out of effect
    messages, actions, texts = view.messages, view.actions, view.texts
    action_sig, error_sig, reads = view.action_sig, view.error_sig, view.reads
    norm_memo: dict[str, str] = {}  # agents repeat commands: read each text once
    check_memo: dict[str, tuple[bool, frozenset[str]]] = {}
    message_positions = view.message_positions
    message_texts, message_roles = view.message_texts, view.message_roles
    for position, step in enumerate(trace.steps):
        kind = step.kind
        if kind == "message":
            messages.append(step)
            message_positions.append(position)
            out = step.output
            message_texts.append(str(out.get("text", "")) if isinstance(out, dict) else "")
            inp = step.input
            message_roles.append(inp.get("role", "assistant") if isinstance(inp, dict)
                                 else "assistant")
            continue
        if kind not in ACTION_KINDS:
            continue
        meta = step.meta
        if meta and (meta.get("unanswered") or meta.get("harness")):
            continue  # a call that never ran, or the harness's bookkeeping: not the agent's
        index = step.index
        actions.append(step)
        # The small helpers are inlined here: this loop runs once per step of every trace,
        # and it was most of the detectors' time.
        inp = step.input
        out = step.output
        command = inp.get("command") if isinstance(inp, dict) else None
        editor = command is not None and kind in ("read", "edit") and not (
            isinstance(out, dict) and "exit_code" in out) and not (meta and meta.get("edits"))
        if editor:
            # An editor's sub-command (``str_replace``, SWE-agent's ``edit 3:5`` text), not a
            # shell line: the action is the whole input, and its text is no command to parse.
            command = None
        if isinstance(inp, str):
            text = inp
        elif isinstance(command, str) and command:
            text = command
        elif editor:
            text = _CANONICAL.encode(inp)
        else:
            text = input_text(step)
        texts[index] = text
        key = text[:2000]
        normalised = norm_memo.get(key)
        if normalised is None:
            normalised = norm_memo[key] = normalise(key)
        action_sig[index] = f"{kind}:{step.name}:{normalised}"
        failed = bool(step.error) or (isinstance(out, dict) and _is_error(step))
        if failed:
            error_sig[index] = _error_signature(step) or "error"
        if kind == "submit" and view.submit_index is None:
            view.submit_index = index
        info = classify_command(command) if isinstance(command, str) and command and \
            kind in _COMMAND_KINDS else None
        if kind == "read" and isinstance(inp, dict) and isinstance(inp.get("path"), str):
            reads.append((index, inp["path"]))
        if info is not None and info.reads:
            reads.extend((index, path) for path in info.reads)
        meta_edits = meta.get("edits") if meta else None
        if isinstance(meta_edits, list) or (info is not None and info.edits) or \
                kind == "edit":
            entries = _edit_entries(step, info)
        else:
            entries = []
        before_stash = set(in_effect) if "stash" in text else None
        if entries:
            added, removed = _added_removed(step)
            if kind == "edit" and command is None and (step.error or meta.get("rejected")):
                # A tool's edit that was refused (no match for the text to replace, a linter
                # rejecting it, a patch that did not apply): nothing changed.
                entries = [(path, "failed") for path, _ in entries]
            elif kind == "edit" and isinstance(inp, dict) and isinstance(inp.get("content"), str):
                entries = [(path, "revert" if op == "modify" and _restores(
                    view.edits, path, inp["content"]) else op) for path, op in entries]
        for path, op in entries:
            if not path or not _plausible_path(path):
                continue
            view.edits.append(EditInfo(index, path, op, added, removed))
            if op == "failed":
                continue
            first_op.setdefault(path, op)
            if op == "delete":
                view.deleted.add(path)
            if op == "revert":
                if path == "<all>":
                    in_effect.clear()
                else:
                    in_effect.difference_update({p for p in in_effect if same_path(p, path)})
                in_effect_names = {_basename(p) for p in in_effect}
            elif first_op.get(path) != "create" and path != "<all>":
                in_effect.add(path)
                in_effect_names.add(_basename(path))
        if kind == "test" and isinstance(out, dict):
            ok = out.get("ok")
            failed_count = out.get("failed")
            timed_out = bool(out.get("timed_out"))
            no_counts = not isinstance(failed_count, int) and out.get("passed") is None
            if (no_counts and never_started(output_text(step))) or (
                    failed_count == 0 and not out.get("passed")
                    and environment_stopped(output_text(step))):
                ok = None  # the runner did not start: it says nothing of the code
            view.tests.append(TestRun(
                index=index,
                target=test_target(text, normalised),
                baseline=not in_effect,
                ok=ok if isinstance(ok, bool) else None,
                failed=failed_count if isinstance(failed_count, int) else None,
                failing=frozenset(str(f) for f in out.get("failing") or ()),
                timed_out=timed_out,
                completed=not timed_out and isinstance(ok, bool),
            ))
            if isinstance(ok, bool) or not (step.error or timed_out):
                view.verifications.append(index)  # a run that never started checks nothing
        elif kind == "command" and info is not None and info.kind == "test" and \
                isinstance(out, dict):
            run = _command_test_run(step, out, test_target(text, normalised), not in_effect)
            view.tests.append(run)
            if run.ok is not None:
                view.verifications.append(index)
        elif kind == "command" and not failed and isinstance(out, dict) and \
                out.get("exit_code") in (0, None):
            check = check_memo.get(text)
            if check is None:
                check = check_memo[text] = (bool(_CHECK_RUN.search(text)),
                                            frozenset(_WORDS.findall(text)))
            if check[0] or (in_effect_names and not in_effect_names.isdisjoint(check[1])):
                # A check: running a script, building, or running what was changed.
                view.verifications.append(index)
        if stashed is not None and _STASH_POP.search(text):
            # ``git stash pop``: the changes the stash took away are back in effect.
            in_effect |= stashed
            in_effect_names = {_basename(p) for p in in_effect}
            stashed = None
        elif before_stash and _STASH_PUSH.search(text):
            stashed = before_stash
            in_effect.clear()
            in_effect_names = set()
            if _STASH_POP.search(text):  # `git stash && pytest && git stash pop`: one step
                in_effect |= stashed
                in_effect_names = {_basename(p) for p in in_effect}
                stashed = None
    view.created = {p for p, op in first_op.items() if op == "create"}
    view.finish()
    return view


def _restores(edits: list[EditInfo], path: str, content: str) -> bool:
    """True when writing ``content`` to ``path`` undoes the last change to it: the content
    holds every line that change removed and none it added. An edit that restores a file's
    earlier content is a revert, whatever the agent called it."""
    previous = next((e for e in reversed(edits) if same_path(e.path, path)
                     and e.op not in ("failed", "revert")), None)
    if previous is None or not previous.removed.strip():
        return False
    lines = {line.strip() for line in content.splitlines()}
    removed = {line.strip() for line in previous.removed.splitlines() if line.strip()}
    added = {line.strip() for line in previous.added.splitlines() if line.strip()} - removed
    return removed <= lines and not (added & lines)


def _command_test_run(step: Step, out: dict[str, Any], target: str, baseline: bool) -> TestRun:
    """A test suite run as a plain command (what ``trace.command("pytest -q", ...)`` records,
    or a writer that does not classify commands), read from its output as the importers read
    a shell command: counts and failing ids when the runner's summary is there, else the exit
    code."""
    parsed = parse_test_output(output_text(step))
    timed_out = bool(out.get("timed_out"))
    code = out.get("exit_code")
    ok: bool | None
    if parsed is not None and not (parsed.failed == 0 and not parsed.passed
                                   and environment_stopped(output_text(step))):
        ok, failed, failing = parsed.ok, parsed.failed, frozenset(parsed.failing)
    elif never_started(output_text(step)):
        ok, failed, failing = None, None, frozenset()
    else:
        known = isinstance(code, int) and not isinstance(code, bool)
        ok, failed, failing = (code == 0 if known else None), None, frozenset()
    if timed_out:
        ok = False
    return TestRun(index=step.index, target=target, baseline=baseline, ok=ok, failed=failed,
                   failing=failing, timed_out=timed_out,
                   completed=not timed_out and ok is not None)


# What a test runner prints when it never got to run a test: it says nothing of the code.
_NEVER_STARTED = re.compile(
    r"No module named '?(?:pytest|nose|django|sympy)\b|: (?:pytest|py\.test|tox|mvn|gradle|"
    r"npm|go|cargo|jest|node|javac|java): (?:command )?not found|command not found|"
    r"No such file or directory|can't open file|is not recognized as|JAVA_HOME is not|"
    r"Interrupted: \d+ errors? during collection|unrecognized arguments:|"
    r"ERROR: file or directory not found|no tests ran|ERROR: not found:|"
    r"ModuleNotFoundError|ImportError while loading conftest|"
    r"ImproperlyConfigured: Requested setting")
# Of those, what the environment (not the change) stopped: a missing module or settings. A
# collection error alone may be the change's own (a syntax error it introduced) and counts.
_ENVIRONMENT_STOPPED = re.compile(
    r"ModuleNotFoundError: No module named|ImproperlyConfigured: Requested setting|"
    r"command not found|ImportError while loading conftest")


def never_started(text: str) -> bool:
    """True when a test command's output shows the runner stopped before running a test (no
    runner, an import error, a bad argument, Django without settings): the run is no evidence
    about the change."""
    return bool(_NEVER_STARTED.search(text[-6000:]))


def environment_stopped(text: str) -> bool:
    """True when a run in which no test passed or failed (only errors) was stopped by the
    environment: a module that is not installed, Django without settings. Such a run says
    nothing of the change; one stopped by a collection error of the code itself does."""
    return bool(_ENVIRONMENT_STOPPED.search(text[-6000:]))


_STASH_PUSH = re.compile(
    r"\bgit\s+stash(?:\s+(?:push|save|-u|--include-untracked)\b|\s*(?:$|[;&|)]))", re.M)
_STASH_POP = re.compile(r"\bgit\s+stash\s+(?:pop|apply)\b")
_TEST_ID = re.compile(
    r"[\w./-]*(?:tests?|spec)[\w./-]*\.(?:py|js|ts|go|rb|java|rs)(?:::[\w\[\]:.-]+)?"
    r"|\b[\w]+(?:\.[\w]+)*\.tests?(?:\.[\w]+)*\b")


def test_target(text: str, normalised: str) -> str:
    """What a test run tests, to compare runs of the same tests: the test files or ids the
    command names (``cd x && PYTHONPATH=. python test_y.py`` and ``python test_y.py`` are the
    same target), else the whole normalised command."""
    named = sorted(set(_TEST_ID.findall(text)))
    if named:
        return "tests:" + " ".join(_basename(n) if "/" in n and "::" not in n else n
                                   for n in named)
    return normalised


_JUNK_PATH = re.compile(r"^[<>|&;]+$|[\s(),=:{}\[\]\"'`$]|^self\.|^\w+(?:\.\w+){2,}$")


def _plausible_path(path: str) -> bool:
    """A file path, not a shell word taken for one (``<`` from ``patch -p1 < fix.patch``, a
    dotted name from code in a heredoc)."""
    return path in ("<all>", "<unknown>") or not _JUNK_PATH.search(path)


# Views by ``id(trace)``, held weakly: a live view holds its trace, so the id cannot have been
# reused by another trace while the entry exists. Traces are pydantic models (not hashable), so
# a WeakKeyDictionary on the trace itself is not possible; and its values, which refer to their
# keys, would keep every trace alive.
_VIEWS: weakref.WeakValueDictionary[int, TraceView] = weakref.WeakValueDictionary()


def view_of(trace: Trace) -> TraceView:
    """The view of ``trace``: the one in use if anyone holds it, else a new one.

    Keep the returned view for as long as more passes over the same trace may ask for it
    (the detector runner does, for all detectors of a trace); once nobody holds it, it is
    freed with its trace and the next call builds it again."""
    view = _VIEWS.get(id(trace))
    if view is not None and view.trace is trace:
        return view
    with paused_gc():
        view = build_view(trace)
    _VIEWS[id(trace)] = view
    return view
