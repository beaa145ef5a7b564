"""Classify shell commands the way a reviewer reads them: a read, an edit, a test run, a
submission, or some other command, with the files they touch.

Importers use it to give a shell command its step kind (``sed -i`` is an ``edit`` of a path,
``python -m pytest tests/`` a ``test``); detectors use it to find edits hidden inside commands
(``cat > tests/test_x.py``) and test runs whatever the agent's tool vocabulary.

It is a reading of the command text, not a shell parser: :mod:`.shell_words` splits a compound
command into simple commands and takes the wrappers off (``sudo``, ``timeout 60``, ``env X=1``,
``uv run``, ``bash -lc '...'``), so the inner command decides: ``bash -lc 'cd repo && pytest
-q'`` is a test run, ``timeout 60 pip install pytest`` is not. Each simple command is then
judged by its program and arguments; which ones run tests is :mod:`.runner_commands`'s
business. A command is a ``test`` when any of its parts runs tests, else an ``edit`` when any
part writes a file, else a ``read``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pytest_tracebench.parsers.runner_commands import test_runner
from pytest_tracebench.parsers.shell_words import pieces, simple_commands, split_segments

__all__ = ["CommandInfo", "FileEdit", "classify_command", "split_segments"]

SUBMIT_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")

_READ_PROGRAMS = {
    "cat", "head", "tail", "less", "more", "nl", "awk", "grep", "egrep", "fgrep", "rg", "ag",
    "find", "ls", "tree", "wc", "file", "stat", "bat", "view", "open", "diff", "cmp", "xxd",
    "od", "strings", "realpath", "readlink", "pwd", "which", "locate", "fd",
}
_GIT_READ = {"status", "diff", "log", "show", "grep", "blame", "ls-files", "branch"}
_NEUTRAL = {"cd", "pushd", "popd", "source", ".", "export", "set", "echo", "printf", "true",
            ":", "fi", "done", "esac", "}", ")", "unset", "alias", "wait", "sleep"}


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
    runner: str = ""
    """For a ``test``: the runner (``pytest``, ``unittest``, ``django``, ``npm``, ``maven``,
    ``script`` for a test-named script, ...; see :mod:`.runner_commands`)."""


def _redirect_targets(segment: str) -> list[FileEdit]:
    """Files written by ``>``/``>>`` outside quotes (``python -c "print(a > b)"`` writes
    nothing); ``2>&1``, ``&>`` to ``/dev/...`` and ``>&2`` are not files."""
    if ">" not in segment:
        return []
    edits = []
    parts = pieces(segment)
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in (">", "&>"):
            append = part == ">" and i + 1 < len(parts) and parts[i + 1] == ">"
            j = i + (2 if append else 1)
            target = _first_word(parts[j]) if j < len(parts) else ""
            if target and not target.startswith("/dev/"):
                edits.append(FileEdit(target, "modify" if append else "create"))
            i = j + 1
            continue
        i += 1
    return edits


def _first_word(piece: str) -> str:
    if piece[:1] in ("'", '"'):
        return piece.strip("'\"")
    words = piece.split()
    return words[0] if words else ""


def _segment_edits(words: list[str], redirects: list[FileEdit]) -> list[FileEdit]:
    edits = list(redirects)
    if not words:
        return edits
    program = words[0].rsplit("/", 1)[-1]
    args = [w for w in words[1:] if not w.startswith(("-", "<"))]  # "<<EOF", "< in.txt": input
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
    """A file name or path. Route folders of web frameworks (Next.js ``app/(group)/[id]/``,
    ``@scope``) are paths too when the word has a ``/``; ``f(x).y`` alone is not."""
    if re.match(r"^[\w./~-]+$", word):
        return "/" in word or "." in word
    return "/" in word and bool(re.match(r"^[\w./~@+()\[\]-]+$", word))


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
    test_program = runner = ""
    read_program = ""
    first_program = ""
    for segment, words in simple_commands(command):
        program = words[0].rsplit("/", 1)[-1] if words else ""
        redirects = _redirect_targets(segment)
        if (not program or program in _NEUTRAL) and not redirects:
            continue
        first_program = first_program or program
        if program in _READ_PROGRAMS and _is_read(words) and not redirects:
            read_program = read_program or program
            reads.extend(w for w in words[1:] if _looks_like_path(w))
            continue
        found = test_runner(words)
        if found:
            test_program = test_program or program
            runner = runner or found
            edits.extend(redirects)
            continue
        seg_edits = _segment_edits(words, redirects)
        if seg_edits:
            edits.extend(seg_edits)
            continue
        if _is_read(words):
            read_program = read_program or program
            reads.extend(w for w in words[1:] if _looks_like_path(w))
    if test_program:
        return CommandInfo("test", test_program, edits, reads, runner)
    if edits:
        return CommandInfo("edit", first_program, edits, reads)
    if read_program:
        return CommandInfo("read", read_program, edits, reads)
    return CommandInfo("command", first_program, edits, reads)
