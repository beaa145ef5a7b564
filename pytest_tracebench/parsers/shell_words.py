"""Shell words of a command line, the way :mod:`.commands` needs them: the simple commands of
a compound command, each as its words with the wrappers taken off.

Not a shell: compound commands are split on ``&&``, ``||``, ``;``, ``|``, ``&`` and new lines
outside quotes (a quoted string spanning lines stays one word); heredoc bodies, SWE-agent
``edit N:M`` ... ``end_of_edit`` blocks and comment lines are data, not commands; wrappers
(``sudo``, ``timeout 60``, ``env X=1``, ``nice``, ``xargs``, ``npx``), environment launchers
(``uv run``, ``poetry run``, ``conda run -n env``, ``bundle exec``), shell keywords (``if``,
``do``, ``then``) and subshell parentheses are taken off, and ``bash -lc '...'`` /
``sh -c "..."`` yields the commands of its quoted string in its place.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

#: Programs that run the rest of the line, with their options that take a value.
_WRAPPERS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"}),
    "time": frozenset({"-f", "-o"}), "timeout": frozenset({"-s", "-k", "--signal",
                                                           "--kill-after"}),
    "nice": frozenset({"-n", "--adjustment"}), "ionice": frozenset({"-c", "-n", "-p"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "command": frozenset(), "exec": frozenset({"-a"}), "nohup": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}), "unbuffer": frozenset(),
    "xargs": frozenset({"-I", "-n", "-P", "-d", "-a", "-L", "-s", "-E", "--max-args",
                        "--max-procs", "--delimiter", "--arg-file", "--replace"}),
    "xvfb-run": frozenset({"-s", "-n", "--server-args", "--server-num", "-e", "-f"}),
    "npx": frozenset({"-p", "--package", "-c", "--call"}), "bunx": frozenset({"-p"}),
    "pnpx": frozenset(),
}
#: ``tool run CMD`` launchers (the environment managers), with their value options.
_LAUNCHERS: dict[tuple[str, str], frozenset[str]] = {
    ("uv", "run"): frozenset({"-p", "--python", "--with", "--with-requirements", "--directory",
                              "--project", "--package", "--extra", "--group", "--env-file",
                              "--index", "--index-url", "--extra-index-url"}),
    ("poetry", "run"): frozenset({"-C", "--directory", "-P", "--project"}),
    ("pipenv", "run"): frozenset(), ("pdm", "run"): frozenset({"-p", "--project"}),
    ("rye", "run"): frozenset(), ("hatch", "run"): frozenset(), ("pixi", "run"): frozenset(
        {"-e", "--environment", "--manifest-path"}),
    ("conda", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("mamba", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("micromamba", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("bundle", "exec"): frozenset(),
}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh"}
_SHELL_VALUE_FLAGS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "(", "time"}
_DURATION = re.compile(r"^\d+(?:\.\d+)?[smhd]?$")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
_SWE_BLOCK = re.compile(r"^(edit|insert|append)\b[^\n]*$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MAX_DEPTH = 4  # bash -c 'sh -c "..."': nesting deeper than this is not unwrapped


def split_segments(command: str) -> list[str]:
    """The simple commands of a compound command: heredoc bodies, SWE-agent ``edit`` blocks
    and comment lines left out, quoted strings kept whole even across lines."""
    return [s.strip() for s in _split_line(_drop_bodies(command)) if s.strip()]


def _drop_bodies(command: str) -> str:
    """The command's own lines: a heredoc's body (up to its terminator) and the text of a
    SWE-agent ``edit N:M`` ... ``end_of_edit`` block are data, not commands. A marker whose
    terminator never comes is left as it is."""
    if "\n" not in command:
        return command
    command = command.replace("\\\n", " ")  # a backslash-continued line is one line
    lines = command.split("\n")
    where: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        where.setdefault(line.strip(), []).append(index)
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        block = _SWE_BLOCK.match(stripped)
        heredoc = None if block else _HEREDOC.search(line)
        terminator = f"end_of_{block.group(1)}" if block else heredoc.group(2) if heredoc else ""
        kept.append(line)
        if terminator:
            ends = where.get(terminator, [])
            after = bisect.bisect_left(ends, i)
            if after < len(ends):
                i = ends[after] + 1
    return "\n".join(kept)


# One pass of C-level matching instead of a per-character loop: quoted strings are kept whole,
# so operators inside quotes do not split. ``&`` inside ``2>&1`` or ``&>`` is a redirection.
_PIECES = re.compile(
    r"""'[^']*'?|"(?:\\.|[^"\\])*"?|\d?>&\d?|&>|&&|\|\||[;|&\n]|[^'";|&>\n]+|>""")
_OPERATORS = {"&&", "||", ";", "|", "&", "\n"}
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


def command_words(segment: str) -> list[str]:
    """Shell words of a simple command, quotes removed, wrappers taken off (good enough to
    classify; not a shell)."""
    words = []
    for single, double, bare in _WORD.findall(segment):
        words.append(single or double or bare)
    return _unwrap(words)


def _unwrap(words: list[str]) -> list[str]:
    """The command a wrapper runs: ``sudo -u x timeout 60 env A=1 uv run pytest`` is
    ``pytest``. Leading ``(``/``{`` and a program's trailing ``)`` are subshell syntax."""
    i = 0
    while i < len(words):
        word = words[i].lstrip("({")
        if not word or word in _KEYWORDS or _ASSIGNMENT.match(word):
            i += 1
            continue
        name = word.rsplit("/", 1)[-1]
        if name in _WRAPPERS:
            i = _after_options(words, i + 1, _WRAPPERS[name])
            if name == "timeout" and i < len(words) and _DURATION.match(words[i]):
                i += 1
            continue
        launcher = _LAUNCHERS.get((name, words[i + 1] if i + 1 < len(words) else ""))
        if launcher is not None:
            i = _after_options(words, i + 2, launcher)
            continue
        break
    rest = words[i:]
    if rest:
        rest = [rest[0].lstrip("({").rstrip(");"), *rest[1:]]
    return rest


def _after_options(words: list[str], i: int, takes_value: frozenset[str]) -> int:
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        if words[i] == "--":
            return i + 1
        i += 2 if words[i] in takes_value else 1
    return i


def _shell_script(words: list[str]) -> tuple[str | None, list[str]]:
    """For ``bash -lc 'CMD'``: (``CMD``, []). For ``bash script.sh args``: (None, the script's
    words). Otherwise (None, ``words``)."""
    if not words or words[0].rsplit("/", 1)[-1] not in _SHELLS:
        return None, words
    i = 1
    while i < len(words) and words[i][:1] in ("-", "+") and words[i] != "--":
        flag = words[i]
        if flag in _SHELL_VALUE_FLAGS:
            i += 2
            continue
        if flag.startswith("-") and not flag.startswith("--") and "c" in flag:
            # More than one word after -c is an argv list an importer joined unquoted
            # (["bash", "-lc", "sed -n '1,200p' f.py"]): the words are the command.
            return " ".join(words[i + 1:]), []
        i += 1
    if i < len(words) and words[i] == "--":
        i += 1
    return None, words[i:] if i < len(words) else words


def simple_commands(command: str, depth: int = 0) -> Iterator[tuple[str, list[str]]]:
    """(segment text, words) of each simple command, the commands inside ``sh -c '...'``
    included in their place."""
    for segment in split_segments(command):
        words = command_words(segment)
        inner, words = _shell_script(words)
        if inner is not None and depth < _MAX_DEPTH:
            yield from simple_commands(inner, depth + 1)
            continue
        yield segment, words


def pieces(segment: str) -> list[str]:
    """The quoting-aware pieces of a simple command: quoted strings, operators and
    redirections (``>``, ``&>``, ``2>&1``), and the bare text between them."""
    return _PIECES.findall(segment)
