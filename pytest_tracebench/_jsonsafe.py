"""JSON data that every strict parser accepts, shared by the recorder and the loader.

Python's ``json`` writes and reads things that strict parsers (pydantic's, which our loader
uses, and most others) reject: lone surrogates as ``\\ud800`` escapes, ``NaN`` and
``Infinity``. The recorder cleans values this way before its slow serialiser writes them, and
the loader cleans lines written that way by older versions before validating them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100


def plain(value: Any, fallback: Callable[[Any], Any] = repr, depth: int = 0) -> Any:
    """``value`` as plain JSON data: lone surrogates become U+FFFD, NaN and infinities
    ``null`` (as the fast serialiser writes them), other objects ``fallback(value)``, and a
    structure nested deeper than ``MAX_DEPTH`` (a circular one) ends in a marker instead of
    failing the agent's step."""
    if depth > MAX_DEPTH:
        return "[tracebench: nested too deep]"
    if isinstance(value, str):
        if value.isascii():
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, dict):
        return {plain(k if isinstance(k, str) else str(k), fallback, depth + 1):
                plain(v, fallback, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, fallback, depth + 1) for item in value]
    return plain(fallback(value), fallback, depth + 1)
