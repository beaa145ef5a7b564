"""Write what is generated from the settings model: the option table in
``pytest_tracebench/_options.py`` and the settings table in ``docs/configuration.md``.

Run after changing a field of ``pytest_tracebench.settings.Settings``; ``tests/test_settings.py``
fails while either file differs from what the model gives. ``--check`` only compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pytest_tracebench.settings import docs_table, options_source

ROOT = Path(__file__).resolve().parent.parent
TARGETS = (
    (ROOT / "pytest_tracebench/_options.py",
     "# -- generated from pytest_tracebench.settings.Settings by scripts/gen_settings.py: "
     "do not edit\n", "# -- end of the generated part\n", options_source),
    (ROOT / "docs/configuration.md", "<!-- settings:begin (scripts/gen_settings.py) -->\n",
     "<!-- settings:end -->\n", docs_table),
)


def replaced(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with what lies between ``begin`` and ``end`` replaced by ``body``."""
    head, found, rest = text.partition(begin)
    if not found or end not in rest:
        raise SystemExit(f"markers {begin.strip()!r} ... {end.strip()!r} not found")
    return head + begin + body + end + rest.partition(end)[2]


def main(argv: list[str]) -> int:
    stale = []
    for path, begin, end, generate in TARGETS:
        text = path.read_text(encoding="utf-8")
        new = replaced(text, begin, end, generate())
        if new != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if '--check' in argv else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
