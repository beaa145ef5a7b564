"""Regenerate the example score breakdown in docs/scoring.md from the command it shows.

The block is ``tracebench analyze examples/trace.json -v``'s "Trace Score" section; it moves
whenever the shipped score model does, so scripts/calibrate.sh runs this after writing the
model (tests/test_docs.py checks the block against the command).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    out = subprocess.run([sys.executable, "-m", "pytest_tracebench", "analyze",
                          str(REPO / "examples" / "trace.json"), "-v"], capture_output=True,
                         text=True, check=False).stdout
    start = out.index("=== Trace Score ===")
    block = out[start:out.index("\n\n", start)]
    doc = REPO / "docs" / "scoring.md"
    text = doc.read_text(encoding="utf-8")
    begin = text.index("```\n=== Trace Score ===")
    end = text.index("\n```", begin + 4)
    doc.write_text(text[:begin] + "```\n" + block + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
