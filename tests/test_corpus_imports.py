"""Every run of the development corpus is one trajectory, and what lies beside it is named.

A run folder holds the agent's trajectory (a file, or the folder itself for the formats that
spread one run over several files) and the verifier's files, patches, harness logs and notes.
`tracebench validate` on a run folder must report the trajectory as `ok` with its steps and
everything else as what it is, never as an unknown trajectory. The step counts themselves are
checked against independent readers of the raw files per source in the importer tests
(tests/test_import_*.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench.importers import detect_importer, get_importers, iter_trace_inputs
from pytest_tracebench.record.trace_file import TraceLoadError
from tests._corpus import DEV, needs_corpus, runs

SOURCES = sorted(p.name for p in DEV.iterdir() if p.is_dir()) if DEV.is_dir() else []


@needs_corpus
def test_every_run_folder_is_one_trajectory_and_its_companions() -> None:
    importers = get_importers()
    folders = [run for source in SOURCES for run in runs(source)]
    assert len(folders) == 752
    unknown: list[str] = []
    counts: dict[int, int] = {}
    for folder in folders:
        found = 0
        for path, skip in iter_trace_inputs([folder], importers):
            if skip is not None:
                continue
            try:
                detect_importer(path, importers)
            except TraceLoadError as exc:
                unknown.append(str(exc))
                continue
            found += 1
        counts[found] = counts.get(found, 0) + 1
    assert unknown == []
    assert counts == {1: 752}


@needs_corpus
@pytest.mark.parametrize("source", SOURCES)
def test_validate_names_the_trajectory_and_what_lies_beside_it(source: str) -> None:
    folder = runs(source)[0]
    run = subprocess.run([sys.executable, "-m", "pytest_tracebench", "validate", str(folder)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    ok = [line for line in run.stdout.splitlines() if ": ok: " in line]
    assert len(ok) == 1 and " steps, " in ok[0]
    assert int(ok[0].split(": ok: ")[1].split()[0]) > 0
    assert "unknown format" not in run.stdout + run.stderr
    for line in run.stderr.splitlines():
        assert ": skipped: " in line or line.startswith("warning: "), line
    inside = [p for p in folder.rglob("*") if p.is_file()]
    claimed_whole = Path(ok[0].split(": ok: ")[0]) == folder
    if not claimed_whole:  # a trajectory file: every other file is named as what it is
        assert run.stderr.count(": skipped: ") == len(inside) - 1
