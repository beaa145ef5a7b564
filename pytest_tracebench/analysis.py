"""Analysis as data: pandas tables of runs, findings and steps, for notebooks.

The convention is Inspect's (``evals_df`` / ``samples_df`` / ``events_df``): a function per
table, each taking one or more sources, one row per run (:func:`results_df`), per finding
(:func:`findings_df`) or per step (:func:`steps_df`), with the stable columns listed in
:data:`RESULT_COLUMNS`, :data:`FINDING_COLUMNS` and :data:`STEP_COLUMNS` (``docs/analysis.md``).
A source is a JSON report (``report.json``, a saved run) or trace files and folders in any
importable format, which are analysed with the project's settings first.

Structured values (a run's outcome, a finding's evidence, a step's input and output) are JSON
text, so that every column has one type and the tables write to Parquet as they are
(``tracebench export --to parquet``). pandas is an optional extra
(``pip install 'pytest-tracebench[analysis]'``); nothing else in the package imports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.importers import import_path, iter_trace_inputs
from pytest_tracebench.report.saved_runs import ReportLoadError, load_report
from pytest_tracebench.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from pytest_tracebench.models import Trace, TraceResult
    from pytest_tracebench.settings import Settings

__all__ = [
    "FINDING_COLUMNS",
    "INSTALL_HINT",
    "RESULT_COLUMNS",
    "STEP_COLUMNS",
    "AnalysisUnavailable",
    "export",
    "findings_df",
    "iter_results",
    "results_df",
    "steps_df",
    "tables",
]

INSTALL_HINT = ("the analysis tables need pandas (and pyarrow for Parquet): "
                "pip install 'pytest-tracebench[analysis]'")

#: One row per analysed run.
RESULT_COLUMNS: tuple[str, ...] = (
    "source", "trace_id", "task_id", "agent", "nodeid", "format", "session_id", "status",
    "passed", "score", "reward", "score_model", "findings", "step_count", "tokens",
    "duration", "path", "outcome",
)
#: One row per finding; ``step`` is the first step it points at (0-based, as in traces).
FINDING_COLUMNS: tuple[str, ...] = (
    "source", "trace_id", "task_id", "agent", "detector", "category", "severity", "message",
    "step", "steps", "step_kind", "evidence",
)
#: One row per step of a run whose trace can be read (reports keep only the trace's path).
STEP_COLUMNS: tuple[str, ...] = (
    "source", "trace_id", "task_id", "agent", "index", "kind", "name", "parent",
    "started_at", "ended_at", "duration", "error", "input", "output", "meta",
)


class AnalysisUnavailable(ImportError):
    """pandas (or pyarrow) is not installed; the message says what to install."""


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise AnalysisUnavailable(INSTALL_HINT) from None
    return pandas


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str,
                                                 sort_keys=True)


def _as_list(sources: str | Path | Iterable[str | Path]) -> list[str]:
    if isinstance(sources, (str, Path)):
        return [str(sources)]
    return [str(s) for s in sources]


def _report_results(path: str) -> list[TraceResult] | None:
    """The results of a JSON report, or ``None`` when ``path`` is not one (a trace)."""
    if not path.endswith(".json") or not Path(path).is_file():
        return None
    try:
        return list(load_report(Path(path)).results)
    except ReportLoadError as exc:
        if "not a tracebench report" in str(exc):
            return None
        raise


def iter_results(sources: str | Path | Iterable[str | Path], settings: Settings | None = None,
                 *, jobs: int = 1, errors: list[str] | None = None
                 ) -> Iterator[tuple[str, TraceResult]]:
    """``(source, result)`` for every run in ``sources``: reports read as they are, trace
    files and folders analysed (problems go to stderr and into ``errors``)."""
    traces: list[str] = []
    for source in _as_list(sources):
        results = _report_results(source)
        if results is None:
            traces.append(source)
            continue
        for result in results:
            yield source, result
    if traces:
        for result in analyze_paths(traces, settings or Settings(), jobs=jobs, errors=errors):
            yield result.path or "", result


def _result_row(source: str, r: TraceResult) -> dict[str, Any]:
    passed = r.outcome.get("passed")
    return {
        "source": source, "trace_id": r.trace_id, "task_id": r.task_id, "agent": r.agent,
        "nodeid": r.nodeid, "format": r.format, "session_id": r.session_id,
        "status": r.status, "passed": passed if isinstance(passed, bool) else None,
        "score": r.score.value if r.score is not None else None,
        "reward": r.score.reward if r.score is not None else None,
        "score_model": r.score.model if r.score is not None else None,
        "findings": len(r.findings), "step_count": r.step_count, "tokens": r.tokens,
        "duration": r.duration, "path": r.path, "outcome": _json(r.outcome),
    }


def _finding_rows(source: str, r: TraceResult) -> Iterator[dict[str, Any]]:
    for f in r.findings:
        yield {
            "source": source, "trace_id": r.trace_id, "task_id": r.task_id, "agent": r.agent,
            "detector": f.detector, "category": f.category, "severity": f.severity,
            "message": f.message, "step": f.steps[0] if f.steps else None,
            "steps": list(f.steps), "step_kind": f.step_kind, "evidence": _json(f.evidence),
        }


def _step_rows(source: str, trace: Trace) -> Iterator[dict[str, Any]]:
    for s in trace.steps:
        duration = s.ended_at - s.started_at if s.ended_at is not None and \
            s.started_at is not None else None
        yield {
            "source": source, "trace_id": trace.trace_id, "task_id": trace.header.task.id,
            "agent": trace.header.agent.name, "index": s.index, "kind": s.kind,
            "name": s.name, "parent": s.parent, "started_at": s.started_at,
            "ended_at": s.ended_at, "duration": duration, "error": s.error,
            "input": _json(s.input), "output": _json(s.output), "meta": _json(s.meta or None),
        }


def _frame(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    pandas = _pandas()
    frame = pandas.DataFrame(list(rows), columns=list(columns))
    for column in ("steps",):
        if column in frame:  # lists stay lists (Parquet list<int64>)
            frame[column] = frame[column].astype(object)
    return frame


def results_df(sources: str | Path | Iterable[str | Path], settings: Settings | None = None,
               *, jobs: int = 1) -> pd.DataFrame:
    """One row per run: identity, outcome, score and counts (:data:`RESULT_COLUMNS`)."""
    _pandas()
    return _frame((_result_row(src, r) for src, r in iter_results(sources, settings, jobs=jobs)),
                  RESULT_COLUMNS)


def findings_df(sources: str | Path | Iterable[str | Path], settings: Settings | None = None,
                *, jobs: int = 1) -> pd.DataFrame:
    """One row per finding, with its run's identity (:data:`FINDING_COLUMNS`)."""
    _pandas()
    return _frame((row for src, r in iter_results(sources, settings, jobs=jobs)
                   for row in _finding_rows(src, r)), FINDING_COLUMNS)


def steps_df(sources: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """One row per step (:data:`STEP_COLUMNS`). Trace inputs are read as they are; a report
    contributes the steps of each run whose trace file (``path``) still exists."""
    _pandas()
    return _frame(_all_steps(_as_list(sources)), STEP_COLUMNS)


def _all_steps(sources: list[str]) -> Iterator[dict[str, Any]]:
    for source in sources:
        results = _report_results(source)
        if results is not None:
            base = Path(source).parent
            for result in results:
                if not result.path:
                    continue
                trace_path = Path(result.path)
                if not trace_path.is_absolute() and not trace_path.exists():
                    trace_path = base / trace_path
                if trace_path.is_file():
                    for trace in import_path(trace_path):
                        yield from _step_rows(source, trace)
            continue
        for found, skip in iter_trace_inputs([source]):
            if skip is None:
                for trace in import_path(found):
                    yield from _step_rows(str(found), trace)


def tables(sources: str | Path | Iterable[str | Path], settings: Settings | None = None,
           *, jobs: int = 1, errors: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """The three tables at once (the runs are read or analysed once)."""
    _pandas()
    runs = list(iter_results(sources, settings, jobs=jobs, errors=errors))
    return {
        "results": _frame((_result_row(s, r) for s, r in runs), RESULT_COLUMNS),
        "findings": _frame((row for s, r in runs for row in _finding_rows(s, r)),
                           FINDING_COLUMNS),
        "steps": steps_df(sources),
    }


def export(sources: str | Path | Iterable[str | Path], out_dir: str | Path,
           settings: Settings | None = None, *, to: str = "parquet", jobs: int = 1,
           errors: list[str] | None = None) -> list[Path]:
    """Write ``results``, ``findings`` and ``steps`` to ``out_dir`` as Parquet (pyarrow) or
    CSV files; return their paths."""
    _pandas()
    if to == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise AnalysisUnavailable(INSTALL_HINT) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables(sources, settings, jobs=jobs, errors=errors).items():
        target = out / f"{name}.{to}"
        if to == "parquet":
            frame.to_parquet(target, index=False)
        else:
            frame.to_csv(target, index=False)
        written.append(target)
    return written
