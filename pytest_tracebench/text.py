"""Text helpers that several stages share, below all of them.

``normalise`` masks what varies between two tries of the same thing (the detectors' signatures,
the rerun's comparison of outputs); ``clean`` makes a string from a trace safe to print on a
terminal (every report, the replay viewer, the CLI). They live here, importing nothing of the
package, so that a lower stage (replay) does not reach up into the detectors or the report.
"""

from __future__ import annotations

import re

__all__ = ["clean", "normalise"]

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]{8,}\b", re.I)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_TMP = re.compile(r"/tmp/[\w.-]+")
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|sec|seconds)\b")
_SPACE = re.compile(r"\s+")
# Anything the masks above could change (5 digits, 8 hex, /tmp/, a date, a duration); the
# alternatives that start with a digit share one branch, which halves the search time.
_MAYBE_VARIABLE = re.compile(r"\d(?:\d{4}|\d{3}-\d\d-\d\d|\s?(?:s|ms|sec)\b)|[0-9a-fA-F]{8}|/tmp/")

# C0/C1 controls (ESC starts every terminal escape sequence; a newline would forge a report
# line, as every use is one line) and the bidirectional overrides that can make a line read
# differently from what it holds ("Trojan source").
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def normalise(text: str) -> str:
    """Mask what varies between two tries of the same thing: ids, pids, times, temp paths."""
    if not _MAYBE_VARIABLE.search(text):
        return " ".join(text.split())  # the common case: nothing to mask
    text = _UUID.sub("<uuid>", text)
    text = _ISO.sub("<time>", text)
    text = _TMP.sub("/tmp/<tmp>", text)
    text = _HEX.sub("<hex>", text)
    text = _LONG_NUMBER.sub("<n>", text)
    text = _DURATION.sub("<dur>", text)
    return _SPACE.sub(" ", text).strip()


def clean(text: str) -> str:
    """``text`` with terminal control characters (ESC, BEL, CR, ...) shown as ``\\xNN`` and
    bidirectional overrides as ``\\uNNNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)
