"""The errors a user meets: each says in one line what is wrong and where.

They live apart from the stages that raise them, so an importer, the trace file reader and
the CLI can all raise and catch them without importing one another.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "TraceLoadError",
]


class TraceLoadError(Exception):
    """A trace file cannot be loaded. ``str(error)`` is one line: ``file:line: field: problem``."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where = self.path if line is None else f"{self.path}:{line}"
        what = f"field '{field}': {message}" if field else message
        super().__init__(f"{where}: {what}")
