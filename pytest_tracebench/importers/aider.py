"""aider chat histories (``.aider.chat.history.md``).

The file appends one section per session (``# aider chat started at ...``); each session with
user input becomes a trace (text before the first such line, as in a history whose start was cut
off, is a session of its own). ``#### `` lines are the user's input (``/run`` and ``/test``
become commands with their output, or without when the session holds none: ``/run aider ...``
starts an aider that writes its own session line first), ``> `` lines are aider's own output,
everything else is the model's reply.

Edits: the model proposes SEARCH/REPLACE blocks (or whole files); aider applies them and says
``Applied edit to PATH`` once per file it wrote. So each applied block is one ``edit`` step
(with its old and new text), and an ``Applied edit to`` line with no block for that file (the
``whole`` edit format) is one. A block aider reports as failing to match is an ``edit`` step
with that error (also one no reply holds, as ``aider --apply FILE`` reads the edits from FILE:
the block as aider's report quotes it); a block aider skipped (the user declined, ``--dry-run``)
or never answered changed nothing and is no step. A linter aider ran on what it edited (or on
``/lint``) and that failed is a command: aider reports ``## Running: CMD`` and the linter's
output (a linter that passes leaves no line). So is a test run aider starts after the edits of a
reply in a session started with ``--auto-test --test-cmd CMD`` (on the command line aider writes
first; 0.4x prints its output as a ``/run``'s). aider writes only the first line of a multi-line
message of its own with ``> `` (0.4x-0.8x): the lines that follow it without a blank line (the
model's reply always comes after one), the rest of its "failed to match" report and of a
``/run`` output are read as aider's, not as the model's reply.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, to_epoch
from pytest_tracebench.models import AgentInfo, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_SESSION_LINE = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$")
_APPLIED = re.compile(r"^Applied edit to (.+?)\s*$")
_NOT_APPLIED = re.compile(r"^(?:Skipping edits to (.+?)|Did not apply edit to (.+?) "
                          r"\(--dry-run\))\s*$")
_FAILED = re.compile(r"^# \d+ SEARCH/REPLACE blocks? failed to match!")
_FAILED_BLOCK = re.compile(r"^## SearchReplaceNoExactMatch: This SEARCH block failed to exactly "
                           r"match lines in (.+?)\s*$")
_OTHERS_APPLIED = re.compile(r"^# The other \d+ SEARCH/REPLACE blocks? w(?:ere|as) applied")
#: aider's report of a linter it ran on an edited file (or on /lint), printed only when the
#: linter failed; the report goes on to the lines it marks in the file and its question
_LINT = re.compile(r"^## Running: (.+?)\s*$")
_LINT_END = re.compile(r"^(?:## Running: |## See relevant lines? below|"
                       r"Attempt to fix lint errors\?|Fix lint errors in )")
_MODEL = re.compile(r"^(?:Main model|Model): (\S+)")
_VERSION = re.compile(r"^Aider v(\S+)")
_HEAD = re.compile(r"^<{5,9} SEARCH>?\s*$")
_DIVIDER = re.compile(r"^={5,9}\s*$")
_UPDATED = re.compile(r"^>{5,9} REPLACE\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,}|<(?:source|code|pre|codeblock|sourcecode)>)")
#: pytest's marker of the failing source line (``>       assert x``) inside a command's output:
#: aider strips what it marks, so its own ``> `` is never followed by more blanks and text.
_SOURCE_MARK = re.compile(r"^> {2,}\S")
_SHAPED = re.compile(r"^(?:> |>$|#### |-\*- .* -\*-\s*$|\s*$)")


@dataclass
class _Block:
    path: str
    old: str
    new: str
    failed: bool = False


def _same(path: str) -> str:
    """A file name as compared: aider on Windows names ``a\\b.ts`` what the model called
    ``a/b.ts``."""
    name = path.replace("\\", "/")
    return name[2:] if name.startswith("./") else name


def _strip_path(line: str) -> str:
    return line.strip().strip("`*#:").strip()


def parse_blocks(lines: list[str]) -> list[_Block]:
    """The SEARCH/REPLACE blocks in a reply, each with the file named on a line just before
    it (inside or outside the code fence; none: the previous block's file, as aider reads)."""
    blocks: list[_Block] = []
    n = 0
    while n < len(lines):
        if not _HEAD.match(lines[n]):
            n += 1
            continue
        path = ""
        for back in range(n - 1, max(-1, n - 4), -1):
            candidate = lines[back]
            if _FENCE.match(candidate.strip()) or not candidate.strip():
                continue
            path = _strip_path(candidate)
            break
        if not path and blocks:
            path = blocks[-1].path
        old: list[str] = []
        new: list[str] = []
        target = old
        n += 1
        while n < len(lines) and not _UPDATED.match(lines[n]):
            if target is old and _DIVIDER.match(lines[n]):
                target = new
            else:
                target.append(lines[n])
            n += 1
        if target is new:
            blocks.append(_Block(path, "\n".join(old), "\n".join(new)))
        n += 1
    return blocks


def _kinds(lines: list[str], auto_test: bool = False) -> tuple[list[str], set[int]]:
    """``U`` (user), ``T`` (aider's output, also the unmarked rest of its multi-line messages)
    or ``R`` (the model's reply) for each line; and, in a session with ``--auto-test``, the
    lines where the output of a test run aider started after its edits begins."""
    kinds: list[str] = []
    tests: set[int] = set()
    failure = False  # inside aider's "failed to match" report
    report_end = False  # its last sentence seen unless "# The other ..." follows
    command = False  # a /run or /test waits for its output
    continued = False  # that output goes on past its first, marked line
    edited = False  # aider has applied an edit since the model's reply (auto-test runs next)
    for n, line in enumerate(lines):
        if line.startswith("#### "):
            kinds.append("U")
            failure = continued = edited = False
            command = line[5:].startswith(("/run ", "/test "))
            continue
        if continued and _SOURCE_MARK.match(line):
            kinds.append("T")
            continue
        if line.startswith("> ") or line == ">":
            kinds.append("T")
            body = line[2:]
            failure, report_end = bool(_FAILED.match(body)), False
            following = lines[n + 1] if n + 1 < len(lines) else ""
            unmarked = bool(following.strip()) and not _SHAPED.match(following)
            if command:
                command = False
                continued = unmarked
            elif auto_test and edited and unmarked and not _APPLIED.match(body.rstrip()):
                # aider 0.4x prints a test run's output as it does a /run's: its first line
                # marked, the rest not (a notice of its own is one marked line)
                tests.add(n)
                continued, edited = True, False
            else:
                continued = False
            edited = edited or bool(_APPLIED.match(body.rstrip()))
            continue
        if continued or (line.strip() and n and kinds[-1] == "T" and lines[n - 1].strip()):
            # a /run output, or the rest of one message of aider's: its lines follow the
            # marked one without the blank line aider puts before each reply of the model
            kinds.append("T")
            continue
        edited = False
        if failure:
            if report_end and line.strip():
                if _OTHERS_APPLIED.match(line):
                    report_end = False
                    kinds.append("T")
                    continue
                failure = False
            else:
                kinds.append("T")
                if line.startswith("The SEARCH section must exactly match"):
                    report_end = True
                elif line.startswith("Just reply with fixed versions of the"):
                    failure = False
                continue
        kinds.append("R")
    return kinds, tests


class AiderImporter:
    name = "aider"
    description = "aider chat history (.aider.chat.history.md)"

    def sniff(self, path: Path, head: bytes) -> bool:
        """A line ``# aider chat started at <date time>``, with only aider's own lines before
        it (an Emacs mode line, as aider's test fixture has, ``> `` and ``#### `` lines, the
        model's reply after a user turn): a Markdown file that quotes such a line elsewhere is
        not a chat history."""
        text = head.decode("utf-8", "replace")
        lines = text.split("\n")
        seen_user = False
        for line in lines[:5000]:
            if _SESSION_LINE.match(line):
                return True
            if line.startswith("#### "):
                seen_user = True
            elif not _SHAPED.match(line) and not seen_user:
                return False
        return False

    def load(self, path: Path) -> list[Trace]:
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        starts = [n for n, line in enumerate(lines) if _SESSION_LINE.match(line)]
        sections: list[tuple[str | None, int, int]] = []
        if not starts or starts[0] > 0:
            sections.append((None, 0, starts[0] if starts else len(lines)))
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines)
            header = _SESSION_LINE.match(lines[start])
            sections.append((header.group(1) if header else None, start + 1, end))
        traces = []
        for number, (started, begin, end) in enumerate(sections):
            trace = _Session(path, number, started).read(lines[begin:end])
            if trace is not None:
                traces.append(trace)
        return traces


class _Session:
    def __init__(self, path: Path, number: int, started: str | None) -> None:
        self.path = path
        task = f"{path.parent.name or path.stem}#{number}"
        self.builder = TraceBuilder(
            format="aider", path=path, trace_id=stable_id("aider", str(path), number, started),
            task=TaskInfo(id=task), agent=AgentInfo(name="aider"),
            started_at=to_epoch(started.replace(" ", "T")) if started else None,
            meta={} if started else {"start": "before the first session line (cut off)"})
        self.pending: list[_Block] = []
        self.applied: list[str] = []
        self.skipped: set[str] = set()
        #: blocks aider reports as failing to match: (path, old, new) as its report quotes them
        self.failed: list[tuple[str, str, str]] = []
        self.others_applied = False
        self.command: str | None = None
        self.test_command: str | None = None  # --auto-test: aider runs it after its edits

    def read(self, lines: list[str]) -> Trace | None:
        self.test_command = _auto_test(lines)
        kinds, tests = _kinds(lines, self.test_command is not None)
        n = 0
        while n < len(lines):
            kind = kinds[n]
            end = n
            while end < len(lines) and (kinds[end] == kind or (
                    kind != "U" and not lines[end].strip() and end + 1 < len(lines)
                    and kinds[end + 1] == kind)):
                end += 1
            segment = lines[n:end]
            if kind == "U":
                self.user([line[5:].rstrip() for line in segment])
            elif kind == "T":
                self.tool(segment, {k - n for k in tests if n <= k < end})
            elif any(line.strip() for line in segment):
                self.reply(segment)
            n = end
        self.settle()
        self.unanswered_command()
        if not any(s.kind != "message" or s.input.get("role") == "user"
                   for s in self.builder.steps):
            return None  # start-up noise only: no user turn, nothing done
        return self.builder.build("completed")

    def user(self, segment: list[str]) -> None:
        self.settle()
        text = "\n".join(segment).strip()
        if not text:
            return
        self.unanswered_command()
        if text.startswith(("/run ", "/test ")):
            self.command = text.split(" ", 1)[1].strip()
            return
        if self.builder.header.task.description is None:
            self.builder.header.task.description = clip(text, 4000)
        self.builder.message(text, role="user")

    def unanswered_command(self) -> None:
        """A ``/run`` or ``/test`` whose output the session does not hold still ran: one that
        started aider itself (the new aider writes its own session line into the same history
        before the command's output comes), or a session cut off while it ran."""
        if self.command is not None:
            self.builder.shell(self.command, None, meta={"output_recorded": False})
            self.command = None

    def reply(self, segment: list[str]) -> None:
        self.settle()
        text = "\n".join(segment).strip()
        self.builder.message(text)
        self.pending = parse_blocks(segment)

    def tool(self, segment: list[str], tests: Collection[int] = ()) -> None:
        bodies = [_body(line) for line in segment]
        command = self.command is not None
        if self.command is not None:
            self.builder.shell(self.command, "\n".join(_command_output(segment, bodies)))
            self.command = None
        failed_path: str | None = None
        for n, body in enumerate(bodies):
            if n in tests and self.test_command is not None:
                self.settle()  # the run tests the edits aider has just applied
                self.builder.shell(self.test_command,
                                   "\n".join(_command_output(segment[n:], bodies[n:])),
                                   meta={"started_by": "aider", "why": "auto-test"})
            lint = None if command else _LINT.match(body)
            if lint:
                self.settle()  # aider lints what it has just edited: the edits come first
                report = []
                for later in bodies[n + 1:]:
                    if _LINT_END.match(later):
                        break
                    report.append(later)
                self.builder.shell(lint.group(1), "\n".join(report).strip("\n"),
                                   meta={"started_by": "aider", "why": "lint"})
            applied = _APPLIED.match(body)
            if applied:
                self.applied.append(applied.group(1))
            skipped = _NOT_APPLIED.match(body)
            if skipped:
                self.skipped.add(skipped.group(1) or skipped.group(2))
            failed = _FAILED_BLOCK.match(body)
            if failed:
                failed_path = failed.group(1)
            elif failed_path is not None and _HEAD.match(body):
                old: list[str] = []
                new: list[str] = []
                target = old
                for later in bodies[n + 1:]:
                    if _UPDATED.match(later):
                        break
                    if target is old and _DIVIDER.match(later):
                        target = new
                    else:
                        target.append(later)
                self.failed.append((failed_path, "\n".join(old), "\n".join(new)))
                failed_path = None
            if _OTHERS_APPLIED.match(body):
                self.others_applied = True
            model = _MODEL.match(body)
            if model and self.builder.header.agent.model is None:
                self.builder.header.agent.model = model.group(1)
            version = _VERSION.match(body)
            if version and self.builder.header.agent.version is None:
                self.builder.header.agent.version = version.group(1)

    def settle(self) -> None:
        """The edit steps of the last reply, now that aider has said what it did with it."""
        failures = list(self.failed)
        for block in self.pending:
            match = next((f for f in failures if _same(f[0]) == _same(block.path) and
                          f[1].strip() == block.old.strip()), None)
            if match is not None:
                failures.remove(match)
                block.failed = True
        unmatched: list[_Block] = []
        if failures:  # reported, but not found verbatim: the first blocks of those files
            for path, old, new in failures:
                left = next((b for b in self.pending if _same(b.path) == _same(path)
                             and not b.failed), None) or \
                    next((b for b in self.pending if not b.failed), None)
                if left is not None:
                    left.failed = True
                else:  # no reply holds it (`aider --apply FILE`): the block as aider quotes it
                    unmatched.append(_Block(path, old, new, failed=True))
        applied = {_same(p) for p in self.applied}
        for block in [*self.pending, *unmatched]:
            if block.failed:
                self.builder.add("edit", "search_replace",
                                 input={"path": block.path, "old": block.old, "new": block.new},
                                 error=f"SEARCH block failed to exactly match lines in "
                                       f"{block.path}")
            elif _same(block.path) in applied or (self.failed and self.others_applied):
                self.builder.add("edit", "search_replace",
                                 input={"path": block.path, "old": block.old, "new": block.new},
                                 output=f"Applied edit to {block.path}")
        with_blocks = {_same(b.path) for b in self.pending}
        for path in dict.fromkeys(self.applied):
            if _same(path) not in with_blocks:
                self.builder.add("edit", "apply_edit", input={"path": path},
                                 output=f"Applied edit to {path}")
        self.pending, self.applied, self.failed = [], [], []
        self.skipped = set()
        self.others_applied = False


def _auto_test(lines: list[str]) -> str | None:
    """The test command of a session aider was started in with ``--auto-test`` (it runs the
    tests after each reply whose edits it applied), from the command line aider writes first
    (``> /path/aider ARGS``; the arguments' quotes are gone: the command is what follows
    ``--test-cmd`` up to the next option)."""
    for line in lines:
        if line.startswith("#### "):
            return None
        words = _body(line).split()
        if not words or not words[0].endswith("aider") or "--auto-test" not in words:
            continue
        command: list[str] = []
        for n, word in enumerate(words):
            if word.startswith("--test-cmd="):
                command = [word.split("=", 1)[1]]
            elif word == "--test-cmd":
                command = []
            else:
                continue
            for later in words[n + 1:]:
                if later.startswith("--"):
                    break
                command.append(later)
        return " ".join(command) or None
    return None


def _body(line: str) -> str:
    """A line of aider's output without its ``> `` mark and the two spaces it ends with."""
    if line.startswith("> "):
        return line[2:].rstrip()
    return "" if line == ">" else line.rstrip()


def _command_output(segment: list[str], bodies: list[str]) -> list[str]:
    """The output of a ``/run`` or ``/test``: its first line and the unmarked lines after it
    (aider 0.4x-0.8x print it so, then mark a copy line by line, which is not read again), or
    the marked lines up to aider's question whether to add it to the chat."""
    out = [bodies[0]]
    for line, body in zip(segment[1:], bodies[1:], strict=True):
        if (line.startswith("> ") or line == ">") and not _SOURCE_MARK.match(line):
            if len(out) > 1 and not segment[1].startswith(">"):
                break  # the marked copy of what was just read
            if body.startswith(("Add the output to the chat?", "Add command output to the chat?",
                                "Added ")):
                break
        out.append(body)
    return out
