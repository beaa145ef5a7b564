"""Our own formats: TraceBench JSON Lines, the single JSON document, and the seed's list."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_tracebench.importers._registry import _HEAD_BYTES
from pytest_tracebench.models import Trace
from pytest_tracebench.record.trace_file import header_line, load_trace


class TracebenchImporter:
    name = "tracebench"
    description = "TraceBench trace (JSON Lines, JSON document, or the seed's action list)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        text = head.lstrip()
        first_line = text.split(b"\n", 1)[0]
        if len(first_line) >= _HEAD_BYTES:  # cut by the head: a header line longer than it
            with open(path, "rb") as fh:
                first_line = header_line(fh, first_line) or first_line
        try:
            first = json.loads(first_line)
        except ValueError:
            first = None
        if isinstance(first, dict) and first.get("type") == "trace":
            return True
        if text.startswith(b"{") and b'"header"' in head[:4096] and b'"steps"' in head:
            return True
        # The seed shape: a list of records with an "action" key.
        return text.startswith(b"[") and b'"action"' in head[:4096] and \
            b'"source"' not in head[:4096]

    def load(self, path: Path) -> list[Trace]:
        return [load_trace(path)]
