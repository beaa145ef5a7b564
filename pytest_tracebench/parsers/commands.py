"""Classify shell commands the way a reviewer reads them: a read, an edit, a test run, a
submission, or some other command, with the files they touch.

Importers use it to give a shell command its step kind (``sed -i`` is an ``edit`` of a path,
``python -m pytest tests/`` a ``test``); detectors use it to find edits hidden inside commands
(``cat > tests/test_x.py``) and test runs whatever the agent's tool vocabulary.

It is a reading of the command text, not a shell parser: compound commands are split on ``&&``,
``||``, ``;``, ``|`` and new lines outside quotes, heredoc bodies are skipped, and each part is
judged by its program and arguments.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

SUBMIT_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")

_TEST_PATTERNS = re.compile("|".join(f"(?:{p})" for p in (
    r"(?:^|[\s/])(?:py\.test|pytest)(?:\s|$)",
    r"-m\s+(?:pytest|unittest|nose2?|tox)\b",
    r"(?:^|\s)(?:tox|nox)(?:\s|$)",
    r"(?:^|\s)(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?test\b",
    r"(?:^|\s)(?:go|cargo|dotnet|mix|swift|deno)\s+test\b",
    r"(?:^|\s)(?:mvn|gradle|\./gradlew|\./mvnw)\b.*\btest\b",
    r"(?:^|\s)make\s+(?:\S+\s+)*(?:test|check|tests)\b",
    r"runtests\.py\b",
    r"(?:^|[\s/])bin/test\b",
    r"setup\.py\s+test\b",
    r"(?:^|\s)(?:jest|vitest|mocha|rspec|phpunit|ctest|prove)(?:\s|$)",
    r"(?:^|\s)python[\d.]*\s+(?:-\w+\s+)*\S*(?:test_\w*|\w*_test|tests?)\.py\b",
    r"(?:^|\s)python[\d.]*\s+(?:-\w+\s+)*\S*/tests?/\S+\.py\b",
)))

_READ_PROGRAMS = {
    "cat", "head", "tail", "less", "more", "nl", "awk", "grep", "egrep", "fgrep", "rg", "ag",
    "find", "ls", "tree", "wc", "file", "stat", "bat", "view", "open", "diff", "cmp", "xxd",
    "od", "strings", "realpath", "readlink", "pwd", "which", "locate", "fd",
}
_GIT_READ = {"status", "diff", "log", "show", "grep", "blame", "ls-files", "branch"}
_WRAPPERS = {"sudo", "time", "timeout", "nice", "env", "command", "exec", "xargs", "stdbuf"}
_REDIRECT = re.compile(r"(?<![0-9&<>])(>>?)\s*(?!&)([^\s&|;<>()]+)")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")


@dataclass
class FileEdit:
    """One file change found in a command: ``modify``, ``create``, ``delete``, ``revert``."""

    path: str
    op: str = "modify"


@dataclass
class CommandInfo:
    """What a shell command does, as far as its text tells."""

    kind: str
    """``test``, ``edit``, ``read``, ``submit`` or ``command``."""
    program: str = ""
    """The first program of the most significant part (``pytest``, ``sed``, ...)."""
    edits: list[FileEdit] = field(default_factory=list)
    """Files the command writes, deletes or reverts."""
    reads: list[str] = field(default_factory=list)
    """Files or patterns the command reads."""


def split_segments(command: str) -> list[str]:
    """The simple commands of a compound command, heredoc bodies left out."""
    segments: list[str] = []
    lines = command.split("\n")
    i = 0
    current = ""
    while i < len(lines):
        line = lines[i]
        heredoc = _HEREDOC.search(line)
        current_line = line
        i += 1
        if heredoc:
            terminator = heredoc.group(2)
            while i < len(lines) and lines[i].strip() != terminator:
                i += 1
            i += 1  # skip the terminator line
        current = current_line
        segments.extend(_split_line(current))
    return [s.strip() for s in segments if s.strip()]


# One pass of C-level matching instead of a per-character loop: quoted strings are kept whole,
# so operators inside quotes do not split. ``&`` inside ``2>&1`` or ``&>`` is a redirection.
_PIECES = re.compile(r"""'[^']*'?|"(?:\\.|[^"\\])*"?|\d?>&\d?|&>|&&|\|\||[;|&]|[^'";|&>]+|>""")
_OPERATORS = {"&&", "||", ";", "|", "&"}
_WORD = re.compile(r"""'([^']*)'?|"((?:\\.|[^"\\])*)"?|(\S+)""")


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    for piece in _PIECES.findall(line):
        if piece in _OPERATORS:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(piece)
    parts.append("".join(buf))
    return parts


def _words(segment: str) -> list[str]:
    """Shell words of a simple command, quotes removed (good enough to classify; not a shell)."""
    words = []
    for single, double, bare in _WORD.findall(segment):
        words.append(single or double or bare)
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _WRAPPERS):
        head = words.pop(0)
        if head == "timeout" and words and re.match(r"^[\d.]+[smhd]?$", words[0]):
            words.pop(0)
    return words


def _is_test(segment: str) -> bool:
    return _TEST_PATTERNS.search(segment) is not None


def _redirect_targets(segment: str) -> list[FileEdit]:
    edits = []
    for op, target in _REDIRECT.findall(segment):
        target = target.strip("'\"")
        if target.startswith("/dev/") or target.startswith("&") or not target:
            continue
        edits.append(FileEdit(target, "modify" if op == ">>" else "create"))
    return edits


def _segment_edits(words: list[str], segment: str) -> list[FileEdit]:
    edits = _redirect_targets(segment)
    if not words:
        return edits
    program = words[0].rsplit("/", 1)[-1]
    args = [w for w in words[1:] if not w.startswith("-")]
    if program in ("sed", "perl") and any(w.startswith("-i") or w.startswith("-pi")
                                         for w in words[1:]):
        edits.extend(FileEdit(a) for a in _inplace_targets(words[1:]) if _looks_like_path(a))
    elif program == "tee":
        edits.extend(FileEdit(a, "create") for a in args)
    elif program in ("rm", "unlink"):
        edits.extend(FileEdit(a, "delete") for a in args)
    elif program in ("mv", "cp", "install") and len(args) >= 2:
        edits.append(FileEdit(args[-1], "create"))
        if program == "mv":
            edits.extend(FileEdit(a, "delete") for a in args[:-1])
    elif program == "touch":
        edits.extend(FileEdit(a, "create") for a in args)
    elif program in ("patch", "apply_patch"):
        edits.append(FileEdit(args[0] if args else "<patch>"))
    elif program == "git" and len(words) > 1:
        sub = words[1]
        if sub == "apply":
            edits.append(FileEdit(args[1] if len(args) > 1 else "<patch>"))
        elif sub in ("checkout", "restore"):
            # `git checkout -- f`, `git restore f`, and `git checkout f` when f looks like a
            # file (not a branch name): the file goes back to its committed content.
            after = words[words.index("--") + 1:] if "--" in words else args[1:]
            edits.extend(FileEdit(a, "revert") for a in after if not a.startswith("-")
                         and ("--" in words or sub == "restore" or _looks_like_path(a)))
        elif sub == "stash" and (len(words) == 2 or words[2] in ("push", "save", "-u")):
            edits.append(FileEdit("<all>", "revert"))
        elif sub == "rm":
            edits.extend(FileEdit(a, "delete") for a in args[1:])
    return edits


def _inplace_targets(words: list[str]) -> list[str]:
    """The files of ``sed -i``/``perl -pi``: positional words, less the script when no
    ``-e``/``-f`` gave it."""
    positional: list[str] = []
    script_given = False
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("-e", "-f", "--expression", "--file"):
            script_given = True
            skip = True
        elif not word.startswith("-"):
            positional.append(word)
    return positional if script_given else positional[1:]


def _looks_like_path(word: str) -> bool:
    return bool(re.match(r"^[\w./~-]+$", word)) and ("/" in word or "." in word)


def _is_read(words: list[str]) -> bool:
    if not words:
        return False
    program = words[0].rsplit("/", 1)[-1]
    if program == "sed":
        return not any(w.startswith("-i") for w in words[1:])
    if program == "git":
        return len(words) > 1 and words[1] in _GIT_READ
    return program in _READ_PROGRAMS


@functools.lru_cache(maxsize=4096)
def classify_command(command: str) -> CommandInfo:
    """Classify a shell command (see the module docstring).

    Cached: agents repeat commands, and importers and detectors both classify them. The
    returned object is shared; do not change it."""
    if any(marker in command for marker in SUBMIT_MARKERS):
        return CommandInfo("submit", program="submit")
    edits: list[FileEdit] = []
    reads: list[str] = []
    test_program = ""
    read_program = ""
    first_program = ""
    for segment in split_segments(command):
        words = _words(segment)
        program = words[0].rsplit("/", 1)[-1] if words else ""
        if program in ("cd", "pushd", "popd", "source", ".", "export", "set", "echo") and \
                not _redirect_targets(segment):
            continue
        first_program = first_program or program
        if program in _READ_PROGRAMS and _is_read(words) and not _redirect_targets(segment):
            read_program = read_program or program
            reads.extend(w for w in words[1:] if _looks_like_path(w))
            continue
        if _is_test(segment):
            test_program = test_program or program
            continue
        seg_edits = _segment_edits(words, segment)
        if seg_edits:
            edits.extend(seg_edits)
            continue
        if _is_read(words):
            read_program = read_program or program
            reads.extend(w for w in words[1:] if _looks_like_path(w))
    if test_program:
        return CommandInfo("test", test_program, edits, reads)
    if edits:
        return CommandInfo("edit", first_program, edits, reads)
    if read_program:
        return CommandInfo("read", read_program, edits, reads)
    return CommandInfo("command", first_program, edits, reads)
