"""``tracebench analyze``: the pipeline over files, in parallel processes.

Each worker process builds its pipeline once and analyses whole files; results come back as
plain data. The parent reports every file (imported, skipped, failed), drops a run it already
has from another format (the same agent session id), builds the report and applies the gates.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .config import Settings
from .models import TraceResult

_WORKER: dict[str, Any] = {}


def _init_worker(settings_json: str) -> None:
    from .importers import get_importers
    from .pipeline import Pipeline

    pipeline = Pipeline.from_settings(Settings.model_validate_json(settings_json))
    _WORKER["pipeline"] = pipeline
    _WORKER["importers"] = get_importers(pipeline.pm)


def _analyze_file(job: tuple[str, str | None]) -> tuple[str, list[str], str | None, list[str]]:
    """(path, result JSON documents, error line, warnings) for one input."""
    from .importers import import_path
    from .storage import TraceLoadError

    path, fmt = job
    if "pipeline" not in _WORKER:
        _init_worker(Settings().model_dump_json(by_alias=True))
    pipeline = _WORKER["pipeline"]
    try:
        traces = import_path(path, format=fmt, importers=_WORKER["importers"])
    except TraceLoadError as exc:
        return path, [], str(exc), []
    warnings = [w for trace in traces for w in trace.warnings]
    return path, [pipeline.analyze(t, path=path).model_dump_json() for t in traces], None, \
        warnings


class Progress:
    """A one-line progress counter on a terminal (stderr); silent when not a tty."""

    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.enabled = total > 1 and hasattr(stream, "isatty") and stream.isatty()
        self.done = 0
        self.started = time.monotonic()

    def step(self) -> None:
        self.done += 1
        if self.enabled and (self.done == self.total or self.done % 10 == 0):
            rate = self.done / max(time.monotonic() - self.started, 1e-9)
            self.stream.write(f"\ranalyzing: {self.done}/{self.total} files "
                              f"({rate:.0f}/s)")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def analyze_paths(paths: Sequence[str], settings: Settings, *, fmt: str | None = None,
                  jobs: int = 1, errors: list[str] | None = None) -> list[TraceResult]:
    """Analyse every input under ``paths``; problems go to stderr and into ``errors``."""
    from .importers import iter_trace_inputs

    errors = errors if errors is not None else []
    inputs: list[str] = []
    for found, skip in iter_trace_inputs(paths):
        if skip is not None:
            print(f"{found}: skipped: {skip}", file=sys.stderr)
        else:
            inputs.append(str(found))
    if not inputs:
        message = "tracebench: error: no input files found in " + ", ".join(map(str, paths))
        print(message, file=sys.stderr)
        errors.append(message)
        return []
    progress = Progress(len(inputs))
    results: list[TraceResult] = []
    seen_sessions: dict[tuple[str, str], str] = {}
    for path, documents, error, warnings in _run(inputs, fmt, settings, jobs):
        progress.step()
        if error is not None:
            print(("\n" if progress.enabled else "") + error, file=sys.stderr)
            errors.append(error)
            continue
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for document in documents:
            result = TraceResult.model_validate_json(document)
            if result.session_id:
                key = (result.agent, result.session_id)
                if key in seen_sessions:
                    print(f"{path}: skipped: the same run as {seen_sessions[key]} (session "
                          f"{result.session_id})", file=sys.stderr)
                    continue
                seen_sessions[key] = str(path)
            results.append(result)
    progress.close()
    return results


def _run(inputs: list[str], fmt: str | None, settings: Settings, jobs: int
         ) -> Iterator[tuple[str, list[str], str | None, list[str]]]:
    jobs = max(1, min(jobs, len(inputs), os.cpu_count() or 1)) if jobs > 0 else \
        max(1, min(len(inputs), os.cpu_count() or 1))
    work = [(path, fmt) for path in inputs]
    if jobs == 1:
        _init_worker(settings.model_dump_json(by_alias=True))
        yield from map(_analyze_file, work)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                             initargs=(settings.model_dump_json(by_alias=True),)) as pool:
        yield from pool.map(_analyze_file, work, chunksize=max(1, len(work) // (jobs * 8)))
