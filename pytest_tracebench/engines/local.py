"""``tracebench analyze``: the pipeline over files, in parallel processes or on Ray.

Each worker builds its pipeline once and analyses whole files (or URLs, fetched first);
results come back as :class:`Outcome` models, pickled when they cross a process (our own
models, not a trace file: they are not validated again), with the imported traces themselves
when the caller writes a dashboard, so no trace is imported twice (issue 18: the dashboard read
every file again, without ``--format`` or the verdicts, and lost URL inputs). The parent
reports every input (imported, skipped, failed) in input order whatever the engine, drops a
run it already has from another format (the same agent session id), builds the report and
applies the gates. The engines differ only in where ``analyze_file`` runs: this process, a
local process pool, or Ray tasks (:mod:`pytest_tracebench.engines.ray`).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pytest_tracebench.engines.ray import connect
from pytest_tracebench.engines.worker import Outcome, analyze_file, init_worker
from pytest_tracebench.importers import iter_trace_inputs
from pytest_tracebench.importers.remote import is_url
from pytest_tracebench.models import Trace, TraceResult
from pytest_tracebench.settings import Settings
from pytest_tracebench.text import clean

__all__ = ["Progress", "analyze_paths"]

class Progress:
    """The progress bar of a long analysis, on a terminal (stderr) only: tqdm's, which keeps
    rate, elapsed and remaining time right and redraws around the lines printed meanwhile.
    tqdm is the ``progress`` extra; without it a terminal gets one line saying how to add it."""

    def __init__(self, total: int, stream: Any = None) -> None:
        # sys.stderr as it is now: the CLI puts a redacting stream there (an error line holds
        # the file's path, and a path can hold a secret).
        self.stream = stream = stream if stream is not None else sys.stderr
        self.enabled = total > 1 and hasattr(stream, "isatty") and stream.isatty()
        self.bar: Any = None
        if not self.enabled:
            return
        try:
            # Deferred: an optional dependency, and only a terminal run draws a bar.
            from tqdm import tqdm
        except ImportError:
            stream.write(f"analyzing {total} files (pip install 'pytest-tracebench[progress]' "
                         "for a progress bar)\n")
            stream.flush()
            self.enabled = False
            return
        # A terminal that reports no size (a bare pseudo-terminal, some CI consoles) would get
        # a bar cut to no columns, or hidden below a screen of no rows: 80x24 there.
        try:
            size = os.get_terminal_size(stream.fileno())
        except (OSError, ValueError, AttributeError):
            size = os.terminal_size((0, 0))
        sized = size.columns > 0 and size.lines > 0
        self.bar = tqdm(total=total, file=stream, desc="analyzing", unit=" files",
                        bar_format="{desc}: {n_fmt}/{total_fmt} files |{bar}| "
                                   "{elapsed}<{remaining}, {rate_fmt}",
                        dynamic_ncols=sized, ncols=None if sized else 80,
                        nrows=None if sized else 24, leave=True)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def write(self, text: str) -> None:
        """Print a line (an error, a warning) above the bar, not through it."""
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def analyze_paths(paths: Sequence[str], settings: Settings, *, fmt: str | None = None,
                  jobs: int = 1, errors: list[str] | None = None, engine: str = "local",
                  address: str | None = None,
                  traces: dict[str, Trace] | None = None) -> list[TraceResult]:
    """Analyse every input under ``paths`` (files, folders or URLs); problems go to stderr
    and into ``errors``. ``engine`` is ``local`` (``jobs`` processes) or ``ray``.

    ``traces``: filled with each result's trace by id (as imported, with ``--format`` and the
    verdicts), for a dashboard written from them; the traces are sent back only then."""
    errors = errors if errors is not None else []
    if engine == "ray":
        run_remote = connect(address)
    inputs: list[str] = []
    for raw in paths:
        if is_url(str(raw)):
            inputs.append(str(raw))
            continue
        for found, skip in iter_trace_inputs([raw]):
            if skip is not None:
                print(clean(f"{found}: skipped: {skip}"), file=sys.stderr)
            else:
                inputs.append(str(found))
    if not inputs:
        message = "tracebench: error: no input files found in " + ", ".join(map(str, paths))
        print(clean(message), file=sys.stderr)
        errors.append(message)
        return []
    progress = Progress(len(inputs))
    results: list[TraceResult] = []
    seen_sessions: dict[tuple[str, str], str] = {}
    keep = traces is not None
    if engine == "ray":
        outcomes = run_remote(inputs, fmt, settings.model_dump_json(by_alias=True), keep)
    else:
        outcomes = _run(inputs, fmt, settings, jobs, keep)
    try:
        for path, analysed, error, warnings, runs in outcomes:
            progress.step()
            if error is not None:
                progress.write(clean(error))
                errors.append(error)
                continue
            for warning in warnings:
                progress.write(clean(f"warning: {warning}"))
            for number, result in enumerate(analysed):
                if result.session_id:
                    key = (result.agent, result.session_id)
                    if key in seen_sessions:
                        progress.write(clean(f"{path}: skipped: the same run as "
                                             f"{seen_sessions[key]} (session {result.session_id})"))
                        continue
                    seen_sessions[key] = str(path)
                results.append(result)
                if traces is not None and runs:
                    traces[result.trace_id] = runs[number]
                if len(results) % 1000 == 0:
                    # The results are kept to the end; frozen, full collections stop walking
                    # them again (30,000 traces: 519 us each with them walked, 449 without).
                    gc.freeze()
    finally:
        gc.unfreeze()
        progress.close()
    return results


def _run(inputs: list[str], fmt: str | None, settings: Settings, jobs: int,
         keep_traces: bool = False) -> Iterator[Outcome]:
    jobs = max(1, min(jobs, len(inputs), os.cpu_count() or 1)) if jobs > 0 else \
        max(1, min(len(inputs), os.cpu_count() or 1))
    work = [(path, fmt) for path in inputs]
    if jobs == 1:
        init_worker(settings.model_dump_json(by_alias=True), keep_traces)
        yield from map(analyze_file, work)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=init_worker,
                             initargs=(settings.model_dump_json(by_alias=True),
                                       keep_traces)) as pool:
        yield from pool.map(analyze_file, work, chunksize=max(1, len(work) // (jobs * 8)))
