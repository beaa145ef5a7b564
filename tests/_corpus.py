"""Where the development corpus lives: 752 real runs with the verifier's verdict.

The runs are read in place from ``../shared/data/dev`` (beside the repository; their licenses
differ, so they are never copied into it). ``TRACEBENCH_DEV_CORPUS`` names another place.
Tests that need the corpus use :data:`needs_corpus`; without it they skip and say why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("TRACEBENCH_DEV_CORPUS") or REPO.parent / "shared" / "data" / "dev")
NATIVE_SHARED = DEV.parent / "native"

needs_corpus = pytest.mark.skipif(not (DEV / "corpus_index.csv").is_file(),
                                  reason=f"the development corpus is not at {DEV}")


def source(name: str) -> Path:
    """The folder of one source of the corpus (``openhands-codeact-v0.15-...``)."""
    return DEV / name


def runs(name: str) -> list[Path]:
    """The run folders of one source, sorted (``_source`` and files left out)."""
    folder = source(name)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))
