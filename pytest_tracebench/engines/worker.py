"""The work of one engine worker: import one input, analyse its runs, hand back an Outcome.

The same functions run in this process, in a local process pool (:mod:`.local`) and in Ray
tasks (:mod:`.ray`); each worker builds its pipeline once (:func:`init_worker`) and keeps it.
Results cross a process pickled: they are our own models, not a trace file, so they are not
validated again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from pytest_tracebench.importers import get_importers, import_path
from pytest_tracebench.importers.remote import fetched, is_url
from pytest_tracebench.importers.verdicts import with_verdict
from pytest_tracebench.models import Trace, TraceResult
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.trace_file import TraceLoadError, out_of_memory
from pytest_tracebench.settings import Settings

__all__ = ["Outcome", "analyze_file", "init_worker"]

_WORKER: dict[str, Any] = {}


class Outcome(NamedTuple):
    """What one input gave, in the worker, for the parent."""

    path: str
    """The input as given (a path or a URL)."""
    results: list[TraceResult]
    """One result per run in the input, in the input's order."""
    error: str | None
    """Why the input could not be read (one line); ``None`` when it was."""
    warnings: list[str]
    """Load warnings of its runs, with the path as given."""
    traces: list[Trace]
    """The runs themselves, beside ``results``, when the parent keeps them (a dashboard);
    else empty: a corpus's report is bounded by its results, not its traces."""


def init_worker(settings_json: str, keep_traces: bool = False) -> None:
    _WORKER["keep_traces"] = keep_traces
    if _WORKER.get("settings") == settings_json:
        return
    pipeline = Pipeline.from_settings(Settings.model_validate_json(settings_json))
    _WORKER["pipeline"] = pipeline
    _WORKER["importers"] = get_importers(pipeline.pm)
    _WORKER["settings"] = settings_json


def analyze_file(job: tuple[str, str | None], base: str | None = None) -> Outcome:
    """The :class:`Outcome` of one input.

    ``base`` is the directory a relative path is read from when this runs in a process whose
    working directory is not the caller's (a Ray worker); messages keep the path as given.
    """
    path, fmt = job
    if "pipeline" not in _WORKER:
        init_worker(Settings().model_dump_json(by_alias=True))
    pipeline = _WORKER["pipeline"]
    if is_url(path):
        try:
            with fetched(path) as local:
                return _import_and_analyze(path, str(local), fmt, pipeline, beside=False)
        except TraceLoadError as exc:
            return Outcome(path, [], str(exc), [], [])
    source = os.path.join(base, path) if base else path
    return _import_and_analyze(path, source, fmt, pipeline)


def _import_and_analyze(path: str, source: str, fmt: str | None, pipeline: Any,
                        beside: bool = True) -> Outcome:
    """``beside``: ``source`` is where the user's file is (not a fetched copy), so verdict
    files beside it are the run's."""
    def shown(text: str) -> str:
        return text.replace(source, path) if source != path else text

    traces: list[Any] = []
    try:
        traces = import_path(source, format=fmt, importers=_WORKER["importers"])
        if beside and pipeline.settings.verdicts:
            traces = [with_verdict(Path(source), trace, Path(path)) for trace in traces]
        warnings = [shown(w) for trace in traces for w in trace.warnings]
        results = [pipeline.analyze(t, path=path) for t in traces]
    except TraceLoadError as exc:
        return Outcome(path, [], shown(str(exc)), [], [])
    except MemoryError:
        pass  # reported below: until the handler ends, its traceback holds what was built
    else:
        return Outcome(path, results, None, warnings,
                       traces if _WORKER.get("keep_traces") else [])
    traces.clear()
    return Outcome(path, [], shown(str(out_of_memory(source))), [], [])
