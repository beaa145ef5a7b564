"""Coverage-guided fuzz targets (atheris/libFuzzer) for the readers of untrusted input.

Run one target::

    python tests/atheris_targets.py TARGET CORPUS_DIR -runs=N -timeout=10 -rss_limit_mb=2048

TARGET is ``loader`` (any bytes as a trace file, through format detection and every
importer, then the whole analysis), ``parsers`` (test-runner output, shell commands, unified
diffs), ``config`` (a pyproject.toml) or ``cli`` (an argument vector). An input may end in a
result or in the component's one-line error; any other exception is a crash and libFuzzer
stops with the input saved as ``crash-*``. ``-timeout`` (seconds per input) and
``-rss_limit_mb`` turn hangs and unbounded memory into failures too. ``tests/test_atheris.py``
runs each target with a short budget in CI; docs/reliability.md gives the long runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["pytest_tracebench"]):
    # Every module now, inside the block: the package imports many of them lazily, and only
    # modules imported here are instrumented for coverage feedback.
    import importlib
    import pkgutil

    import pytest_tracebench

    for _module in pkgutil.walk_packages(pytest_tracebench.__path__, "pytest_tracebench."):
        if not _module.name.endswith(("__main__", "_ray_engine", "otel_capture", "plugin",
                                      "html_integration")):
            importlib.import_module(_module.name)
    from pytest_tracebench import TraceLoadError
    from pytest_tracebench.cli import main as cli_main
    from pytest_tracebench.importers import import_path
    from pytest_tracebench.parsers import classify_command, parse_test_output
    from pytest_tracebench.pipeline import Pipeline
    from pytest_tracebench.replay.rerun import apply_unified_diff
    from pytest_tracebench.settings import ConfigError, build_settings, read_pyproject

_WORK = Path(tempfile.mkdtemp(prefix="tb-atheris-"))
_PIPELINE: Any = None
# File names decide format detection as much as content does: try the input under each.
_NAMES = ("trace.jsonl", "run.traj.json", "trajectory.json", "session.jsonl", "run.json",
          "chat.md", "log.eval")


def loader(data: bytes) -> None:
    global _PIPELINE
    if _PIPELINE is None:
        _PIPELINE = Pipeline.from_settings()
    name = _NAMES[data[0] % len(_NAMES)] if data else _NAMES[0]
    path = _WORK / name
    path.write_bytes(data[1:])
    try:
        traces = import_path(path)
    except TraceLoadError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"multi-line error: {exc!r}") from None
        return
    for trace in traces:
        _PIPELINE.analyze(trace)


def parsers(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 4096))
    rest = fdp.ConsumeUnicodeNoSurrogates(4096)
    parse_test_output(text)
    classify_command.__wrapped__(text)
    try:
        apply_unified_diff(rest, text)
    except ValueError:
        pass


def config(data: bytes) -> None:
    path = _WORK / "pyproject.toml"
    path.write_bytes(data)
    try:
        build_settings(pyproject=read_pyproject(path))
    except ConfigError:
        pass


def cli(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    command = ["schema", "validate", "formats", "convert", "analyze", "report", "compare",
               "replay", "rerun", "detectors"][fdp.ConsumeIntInRange(0, 9)]
    words = [fdp.ConsumeUnicodeNoSurrogates(16) for _ in range(fdp.ConsumeIntInRange(0, 5))]
    # Options that wait for input or start services are not what this target is about.
    if any(w.startswith(("-i", "--i", "--fo", "--en", "--ad")) for w in words):
        return
    # Nor are paths outside the scratch folder: `validate /` walks the whole filesystem.
    if any(w.startswith(("/", "~")) or ".." in w for w in words):
        return
    # In a scratch directory for the call only: libFuzzer writes its corpus and crash files
    # relative to the directory it started in.
    home = os.getcwd()
    os.chdir(_WORK)
    sys.stdin = io.StringIO("")
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            cli_main([command, *words])
    except SystemExit:
        pass  # argparse's usage errors and --help
    finally:
        os.chdir(home)


TARGETS = {"loader": loader, "parsers": parsers, "config": config, "cli": cli}

if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
