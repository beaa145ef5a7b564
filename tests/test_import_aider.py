"""aider chat histories: one edit step per applied edit, aider's test fixture detected, ``/test``
output read whole. Expected counts come from :func:`count_edits`, a reader of the raw Markdown
written apart from the importer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_tracebench.importers import detect_importer, get_importers, import_path
from pytest_tracebench.record.trace_file import TraceLoadError

from ._corpus import NATIVE_SHARED

DATA = Path(__file__).parent / "data" / "native" / "aider"
MONO = DATA / "Monochromatic__.aider.chat.history.md"
WHOLE = DATA / "mozgoslav__.aider.chat.history.md"
FIXTURE = NATIVE_SHARED / "aider" / "aider__chat-history.md"
needs_fixture = pytest.mark.skipif(not FIXTURE.is_file(), reason=f"no {FIXTURE}")
_FENCE = re.compile(r"^(```|~~~|<(source|code|pre)>)")


def count_edits(path: Path) -> int:
    """Edits aider made: a SEARCH/REPLACE block of the model's reply whose file aider then says
    it edited (``Applied edit to``), every block of a reply aider reports as failing (those
    named) or partly applied (``The other N ... were applied``), and an ``Applied edit to`` for
    a file the reply has no block for (whole-file edits). Blocks quoted in aider's failure report
    and blocks aider skipped are not edits."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    edits = 0
    blocks: list[str] = []
    applied: set[str] = set()
    failed = 0
    others = False

    def norm(p: str) -> str:
        return p.replace("\\", "/").strip().strip("`*#:").strip()

    def settle() -> None:
        nonlocal edits, blocks, applied, failed, others
        edits += (len(blocks) if others else failed) if failed else \
            sum(1 for b in blocks if b in applied)
        edits += len(applied - set(blocks))
        blocks, applied, failed, others = [], set(), 0, False

    in_report = run_on = reply_started = False
    previous = ""
    for i, line in enumerate(lines):
        marked = line.startswith("> ") or line == ">" or (
            run_on and bool(line.strip()) and not line.startswith("#### "))
        run_on = marked and bool(line.strip()) and not in_report
        body = line[2:].strip() if line.startswith("> ") else line.strip()
        if line.startswith(("#### ", "# aider chat started at")):
            settle()
            in_report = reply_started = False
        elif marked:
            reply_started = False
            in_report = "failed to match!" in body
            if body.startswith("Applied edit to "):
                applied.add(norm(body[len("Applied edit to "):]))
            if in_report:
                failed += int(body.split()[1])
            if re.match(r"# The other \d+ SEARCH/REPLACE", body):
                others = True
        else:
            if re.match(r"# The other \d+ SEARCH/REPLACE", body):
                others = True
            if in_report and (body.startswith("Just reply with fixed versions") or (
                    previous.startswith("The SEARCH section must exactly") and body
                    and not body.startswith("# The other"))):
                in_report = False
            if not in_report and body and not reply_started:
                settle()
                reply_started = True
            if not in_report and re.match(r"^<{5,9} SEARCH", line):
                j = i - 1
                while _FENCE.match(lines[j]) or not lines[j].strip():
                    j -= 1
                blocks.append(norm(lines[j]))
        if body:
            previous = body
    settle()
    return edits


def _edits(path: Path, fmt: str | None = None) -> list:
    return [s for t in import_path(path, format=fmt) for s in t.steps if s.kind == "edit"]


def test_one_step_per_applied_edit_search_replace() -> None:
    text = MONO.read_text()
    # before: 49 blocks the old reader matched (some quoted in aider's failure reports) and
    # the 20 "Applied edit to" lines became 69 edit steps
    assert text.count("<<<<<<< SEARCH") == 57 and text.count("Applied edit to") == 20
    edits = _edits(MONO)
    assert len(edits) == count_edits(MONO) == 37
    assert all(e.name == "search_replace" and "old" in e.input for e in edits)
    failed = [e for e in edits if e.error]
    assert len(failed) == text.count("SEARCH/REPLACE block failed to match!") == 7
    assert all("failed to exactly match" in (e.error or "") for e in failed)


def test_one_reply_three_blocks_one_applied_line_is_three_edits() -> None:
    def said(step: object) -> str:
        out = getattr(step, "output", None)
        return str(out.get("text", "")) if getattr(step, "kind", "") == "message" and \
            isinstance(out, dict) else ""

    (session,) = [t for t in import_path(MONO)
                  if any("Suggest further changes and make sure" in said(s) for s in t.steps)]
    steps = session.steps
    start = next(n for n, s in enumerate(steps) if "Suggest further changes" in said(s))
    after = [s for s in steps[start + 1:] if s.kind != "message"]
    assert [(s.kind, s.input["path"]) for s in after[:3]] == [("edit", "CONVENTIONS.md")] * 3


def test_whole_file_edits_are_one_step_each() -> None:
    assert len(_edits(WHOLE)) == count_edits(WHOLE) == WHOLE.read_text().count(
        "Applied edit to") == 3


@needs_fixture
def test_aiders_own_fixture_is_detected_and_read() -> None:
    assert detect_importer(FIXTURE, get_importers()).name == "aider"
    traces = import_path(FIXTURE)
    edits = [s for t in traces for s in t.steps if s.kind == "edit"]
    assert count_edits(FIXTURE) == len(edits) == 612
    tests = [s for t in traces for s in t.steps if s.kind == "test"
             and s.meta.get("started_by") != "aider"]
    assert len(tests) == 28
    first = tests[0]
    assert first.input["command"] == "pytest tests/basic/test_repomap.py"
    assert (first.output["passed"], first.output["failed"]) == (6, 1)
    assert first.output["failing"] == [
        "tests/basic/test_repomap.py::TestRepoMapAllLanguages::test_get_repo_map_subtree_only"]
    # the history was cut: the text before its first session line is a session of its own
    assert traces[0].header.meta.get("start")


def _sessions(path: Path) -> dict[str, str]:
    """The raw text of each session, by the time on its session line."""
    parts = re.split(r"^# aider chat started at (.+?)\s*$", path.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _trace_at(traces: list, started: str) -> object | None:
    from pytest_tracebench.importers.builder import to_epoch

    return next((t for t in traces if t.header.started_at == to_epoch(started.replace(" ", "T"))),
                None)


@needs_fixture
def test_aider_apply_sessions_keep_the_edits_aider_reports() -> None:
    """`aider --apply FILE` applies the edits in FILE, which the history does not hold: there
    is no reply, only what aider says. Two such runs (with --dry-run) reported the block failing
    to match, quoting it; they were no trace at all (no user turn), now each is one failed
    edit, as a failing block of a reply is."""
    traces = import_path(FIXTURE)
    applies = {at: text for at, text in _sessions(FIXTURE).items()
               if re.search(r"^> \S*aider --apply ", text, re.M)}
    assert len(applies) == 7
    for at, text in applies.items():
        failing = sum(int(n) for n in re.findall(r"^> # (\d+) SEARCH/REPLACE blocks? failed",
                                                 text, re.M))
        applied = len(re.findall(r"^> Applied edit to ", text, re.M))
        trace = _trace_at(traces, at)
        steps = [s for s in trace.steps if s.kind == "edit"] if trace else []
        assert (sum(bool(s.error) for s in steps), sum(not s.error for s in steps)) == \
            (failing, applied), at
    quoted = [s for t in traces for s in t.steps if s.kind == "edit" and s.error and
              'subject="Suggested Shell Command"' in s.input["new"]]
    assert len(quoted) == 2 and all(
        s.input["path"] == "aider/coders/editblock_coder.py" and
        s.input["old"].startswith("                self.io.tool_output()\n") for s in quoted)


@needs_fixture
def test_every_run_and_test_the_user_typed_is_a_step() -> None:
    """A `/run` or `/test` the user typed (the first line of a turn) is one shell step, also
    `/run aider ...`: the aider it started wrote its own session line before the command's
    output, and the step was lost with the session's end. A `/run` pasted inside a longer
    message (aider's docs, pasted into a question) is no command."""
    lines = FIXTURE.read_text().split("\n")
    typed = [line[5:].split(" ", 1)[1].strip() for n, line in enumerate(lines)
             if re.match(r"#### /(run|test) ", line) and not lines[n - 1].startswith("####")]
    pasted = [line for n, line in enumerate(lines)
              if re.match(r"#### /(run|test) ", line) and lines[n - 1].startswith("####")]
    assert (len(typed), len(pasted)) == (36, 11)
    traces = import_path(FIXTURE)
    shell = [s for t in traces for s in t.steps if s.kind in ("command", "read", "test")
             and s.meta.get("started_by") != "aider"]
    assert [s.input["command"] for s in shell] == typed
    (nested,) = [s for s in shell if s.meta.get("output_recorded") is False]
    assert nested.input["command"] == "aider ~/tmp/foo.txt README.me"


@needs_fixture
def test_the_linter_runs_aider_reports_are_commands() -> None:
    """aider lints each file it edits (and on /lint, or --lint) and, when the linter fails,
    reports `## Running: CMD` and its output: a command aider ran, after the edits it checks.
    These were aider's notices, no step."""
    reported = [line[len("> ## Running: "):].strip() for line in FIXTURE.read_text().split("\n")
                if line.startswith("> ## Running: ")]
    assert len(reported) == 54
    traces = import_path(FIXTURE)
    lints = [s for t in traces for s in t.steps if s.meta.get("why") == "lint"]
    assert [s.input["command"] for s in lints] == reported
    assert all(s.kind == "command" and s.output["stdout"].startswith("isort....") and
               "flake8....." in s.output["stdout"] and "## See relevant" not in s.output["stdout"]
               for s in lints)
    first = next(t for t in traces if lints[0] in t.steps)
    done = [s for s in first.steps[:first.steps.index(lints[0])] if s.kind != "message"]
    assert (done[-1].kind, done[-1].input["path"]) == ("edit", "tests/basic/test_repomap.py")


@needs_fixture
def test_the_test_runs_of_auto_test_are_test_steps() -> None:
    """Sessions started with `--auto-test --test-cmd CMD`: aider ran CMD after each reply it
    applied and printed the output as a /run's (first line marked). Those lines were read as
    replies of the model (9 messages of pytest output); now each run is a test step with the
    counts of its summary line, the marked copy of a failing run not read again."""
    summary = re.compile(r"^=+ (?:(\d+) failed, )?(\d+) passed in [\d.]+s =+\s*$", re.M)
    counts = []
    for text in _sessions(FIXTURE).values():
        if re.search(r"^> \S*aider .*--test-cmd .*--auto-test", text, re.M):
            counts += [(int(p), int(f or 0)) for f, p in summary.findall(text)]  # unmarked
    assert counts == [(18, 2), (20, 0), (18, 0), (29, 0), (11, 0)]
    traces = import_path(FIXTURE)
    runs = [s for t in traces for s in t.steps if s.meta.get("why") == "auto-test"]
    assert [(s.output["passed"], s.output["failed"]) for s in runs] == counts
    assert [s.input["command"] for s in runs] == ["pytest test_coder.py"] * 2 + [
        "pytest test_editblock.py", "pytest test_main.py", "pytest test_wholefile.py"]
    sessions = [t for t in traces if any(s in t.steps for s in runs)]
    assert not [s for t in sessions for s in t.steps if s.kind == "message" and
                re.search(r"passed in [\d.]+s|test session starts", s.output["text"])]
    for trace in sessions:  # each run follows the edits it tests
        acts = [s for s in trace.steps if s.kind != "message"]
        assert all(acts[n - 1].kind == "edit" for n, s in enumerate(acts) if s in runs)


def test_markdown_that_quotes_aider_is_not_a_history(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes on aider\n\nA history starts like this:\n\n```\n"
                     "# aider chat started at 2024-08-05 19:33:02\n#### hi\n```\n")
    with pytest.raises(TraceLoadError, match="unknown format"):
        detect_importer(notes, get_importers())
    readme = Path(__file__).parent.parent / "README.md"
    with pytest.raises(TraceLoadError, match="unknown format"):
        detect_importer(readme, get_importers())
