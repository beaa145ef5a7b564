"""Plain text from a terminal capture: what a reader would have seen on the screen.

Terminal-Bench records the agent's tmux pane as a byte stream (``sessions/agent.log``) or an
asciinema recording (``sessions/agent.cast``). That stream holds colour codes, cursor moves,
carriage returns that redraw spinners and progress bars in place, and line erases. Stripping
the escape codes alone would leave every frame of every spinner in the text (a single
``Waiting for the LM to respond...`` line becomes hundreds), and would glue the frames of a
progress bar together; the markers an agent's console prints would then be hard to find and
the outputs it shows would not be what it saw. So the stream is *replayed* on a small model of
a terminal (lines of text, a cursor) and the final text is read back, as a terminal would show
it after scrolling, with nothing lost off the top.

Only what changes the text is modelled: printable text (overwriting at the cursor), CR, LF,
backspace, erase in line/display, cursor moves (up/down/left/right, column, position), save and
restore, insert/delete characters. Colours, modes, titles (OSC) and other strings are dropped.
A screen clear keeps what was on it (it scrolled into history) and starts a new page below.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

# One escape sequence or control character; the text between matches is printable.
_TOKEN = re.compile(
    r"(?P<csi>\x1b\[(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~]))"
    r"|(?P<osc>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?)"
    r"|(?P<string>\x1b[P_^X][^\x1b]*(?:\x1b\\)?)"
    r"|(?P<esc>\x1b[ -/]*[0-~]?)"
    r"|(?P<ctl>[\x00-\x08\x0a-\x1f\x7f\x9b])"
)


#: Colours and private modes (cursor visibility, bracketed paste): they change no text, so
#: removing them first lets a parser find an agent's markers in the raw stream, before the
#: stream is cut into pieces and each piece is rendered on its own.
_STYLES = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\?[0-9;]*[hl]")


def strip_styles(stream: str) -> str:
    """``stream`` without colour codes and private modes; every other byte kept."""
    return _STYLES.sub("", stream)


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK, most emoji) characters take two,
    combining marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _numbers(params: str, default: int) -> list[int]:
    values = []
    for part in params.split(";"):
        digits = part.strip()
        values.append(int(digits) if digits.isdigit() else default)
    return values


@dataclass
class _Screen:
    lines: list[str] = field(default_factory=lambda: [""])
    row: int = 0
    col: int = 0
    home: int = 0
    saved: tuple[int, int] = (0, 0)

    def _goto_row(self, row: int) -> None:
        self.row = max(0, row)
        while self.row >= len(self.lines):
            self.lines.append("")

    def write(self, text: str) -> None:
        line = self.lines[self.row]
        if self.col > len(line):
            line += " " * (self.col - len(line))
        self.lines[self.row] = line[:self.col] + text + line[self.col + len(text):]
        self.col += len(text)

    def control(self, char: str) -> None:
        if char == "\n":
            self._goto_row(self.row + 1)
            self.col = 0  # the tty's onlcr: a bare LF starts the line too
        elif char == "\r":
            self.col = 0
        elif char == "\b":
            self.col = max(0, self.col - 1)
        # BEL, SO/SI, NUL, DEL and the rest change no text

    def new_page(self) -> None:
        """A clear or a move home: the old page stays in history, the new one starts below."""
        if self.lines[-1].strip():
            self.lines.append("")
        self.row = self.home = len(self.lines) - 1
        self.col = 0

    def csi(self, params: str, final: str) -> None:
        if params.startswith(("?", ">", "<", "=")):
            return  # private modes (cursor visibility, bracketed paste, ...)
        line = self.lines[self.row]
        if final == "K":
            mode = _numbers(params, 0)[0]
            if mode == 0:
                self.lines[self.row] = line[:self.col]
            elif mode == 1:
                self.lines[self.row] = " " * min(self.col + 1, len(line)) + line[self.col + 1:]
            elif mode == 2:
                self.lines[self.row] = ""
        elif final == "J":
            mode = _numbers(params, 0)[0]
            if mode == 0:
                self.lines[self.row] = line[:self.col]
                del self.lines[self.row + 1:]
            elif mode == 2:
                self.new_page()
        elif final in "AF":
            self._goto_row(max(self.home, self.row - max(1, _numbers(params, 1)[0])))
            if final == "F":
                self.col = 0
        elif final in "BE":
            self._goto_row(self.row + max(1, _numbers(params, 1)[0]))
            if final == "E":
                self.col = 0
        elif final in "Ca":
            self.col += max(1, _numbers(params, 1)[0])
        elif final == "D":
            self.col = max(0, self.col - max(1, _numbers(params, 1)[0]))
        elif final in "G`":
            self.col = max(1, _numbers(params, 1)[0]) - 1
        elif final in "Hf":
            numbers = [*_numbers(params, 1), 1]
            row, col = max(1, numbers[0]), max(1, numbers[1])
            if row == 1 and col == 1:
                self.new_page()
            else:
                self._goto_row(self.home + row - 1)
                self.col = col - 1
        elif final == "d":
            self._goto_row(self.home + max(1, _numbers(params, 1)[0]) - 1)
        elif final == "P":
            count = max(1, _numbers(params, 1)[0])
            self.lines[self.row] = line[:self.col] + line[self.col + count:]
        elif final == "@":
            count = max(1, _numbers(params, 1)[0])
            if self.col < len(line):
                self.lines[self.row] = line[:self.col] + " " * count + line[self.col:]
        elif final == "X":
            count = max(1, _numbers(params, 1)[0])
            if self.col < len(line):
                end = min(len(line), self.col + count)
                self.lines[self.row] = line[:self.col] + " " * (end - self.col) + line[end:]
        elif final == "s":
            self.saved = (self.row, self.col)
        elif final == "u":
            self._goto_row(self.saved[0])
            self.col = self.saved[1]
        # SGR colours (m), scroll regions (r), reports (n) and the rest change no text

    def esc(self, seq: str) -> None:
        if seq == "\x1b7":
            self.saved = (self.row, self.col)
        elif seq == "\x1b8":
            self._goto_row(self.saved[0])
            self.col = self.saved[1]
        elif seq == "\x1bM":  # reverse index: up one line
            self._goto_row(max(self.home, self.row - 1))
        elif seq == "\x1bE":  # next line
            self._goto_row(self.row + 1)
            self.col = 0
        elif seq == "\x1bc":  # full reset
            self.new_page()

    def text(self, strip: bool) -> str:
        return "\n".join(line.rstrip() if strip else line for line in self.lines)


def render(stream: str, *, strip: bool = True) -> str:
    """The text a terminal shows after receiving ``stream`` (scrollback included).

    ``strip`` drops trailing blanks as a screen copy does; ``strip=False`` keeps them for a
    parser that needs to see where a console wrapped a line (see ``unwrap``)."""
    screen = _Screen()
    position = 0
    for match in _TOKEN.finditer(stream):
        if match.start() > position:
            screen.write(stream[position:match.start()])
        position = match.end()
        if match.group("csi"):
            if not match.group("inter"):
                screen.csi(match.group("params"), match.group("final"))
        elif match.group("ctl"):
            screen.control(match.group("ctl"))
        elif match.group("esc"):
            screen.esc(match.group("esc"))
        # OSC titles and DCS/APC strings are not text
    if position < len(stream):
        screen.write(stream[position:])
    return screen.text(strip)


def unwrap(text: str, width: int) -> str:
    """Undo the hard wrapping of a console that breaks long lines at ``width`` columns with a
    newline (Python's rich, which mini-swe-agent prints with), so a long command or output line
    is one line again.

    rich breaks at a space and keeps that space at the end of the line, so a line ending in a
    blank whose next word would not have fitted was wrapped; a line of exactly ``width``
    columns was wrapped too, inside a word too long for a line (no blank in it: joined as is)
    or at a space that fell on the edge and was dropped (joined with one space). Lines wider
    than ``width`` were not printed by that console and are left alone, as are rules."""
    lines = text.split("\n")
    out: list[str] = []
    previous: str | None = None
    for line in lines:
        joined = previous is not None and _wrapped(previous, line, width)
        if joined and previous is not None:
            glue = " " if cell_len(previous) == width and " " in previous.strip() and \
                not previous.endswith(" ") else ""
            out[-1] += glue + line
        else:
            out.append(line)
        previous = line
    return "\n".join(item.rstrip() for item in out)


def _wrapped(previous: str, line: str, width: int) -> bool:
    if not line or line[0].isspace() or not previous.strip():
        return False
    length = cell_len(previous)
    if length > width or set(previous.strip()) <= set("─━═-=_*#"):
        return False
    if length == width:
        return True
    if previous.endswith(" "):
        first_word = line.split(" ", 1)[0]
        return length + cell_len(first_word) > width
    return False


def cast_output(text: str) -> str:
    """The output stream of an asciinema v1/v2 recording (``agent.cast``): the ``"o"`` events'
    text joined in order. Input (``"i"``) events are keystrokes the terminal echoes anyway."""
    lines = text.splitlines()
    if not lines:
        return ""
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if isinstance(header, dict) and isinstance(header.get("stdout"), list):  # asciinema v1
        return "".join(str(frame[1]) for frame in header["stdout"]
                       if isinstance(frame, list) and len(frame) >= 2)
    out: list[str] = []
    for line in lines[1:] if isinstance(header, dict) else lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a recording cut off mid-line
        if isinstance(event, list) and len(event) >= 3 and event[1] == "o":
            out.append(str(event[2]))
    return "".join(out)


def looks_like_cast(head: bytes) -> bool:
    """True when ``head`` starts an asciinema recording (a JSON header with ``version``)."""
    first = head.lstrip().split(b"\n", 1)[0]
    try:
        header = json.loads(first)
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("version") in (1, 2, 3) and "width" in header
