"""The self-contained HTML dashboard: a page, its assets, and one data file per trace.

``index.html`` loads ``<name>_files/report.js`` (the report without the steps) and the app;
opening a trace loads ``<name>_files/traces/<n>.js`` on demand, so a suite of 1,000 traces is a
small page plus files read only when looked at. Everything loads from disk with no network
(script files, not fetch, so ``file://`` works). Agent-provided text reaches the page only
through ``textContent``; the data files escape ``<``, ``>``, ``&`` and U+2028/2029 so no string can
end a script or inject markup.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from ..models import EvaluationReport, Trace
from ..redaction import Redactor, redact_json

_STRING_LIMIT = 20_000  # per string in the page's data; the full text stays in the trace file


def _js_literal(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=True, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _trim(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > _STRING_LIMIT:
            cut = len(value) - _STRING_LIMIT
            return value[:_STRING_LIMIT] + f"\n…[{cut} more characters in the trace file]"
        return value
    if isinstance(value, dict):
        return {str(k): _trim(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trim(v) for v in value[:2000]]
    return value


def trace_payload(trace: Trace) -> dict[str, Any]:
    """What the trace view needs: the steps (long strings trimmed)."""
    return {
        "trace_id": trace.trace_id,
        "header": trace.header.model_dump(mode="json"),
        "end": trace.end.model_dump(mode="json") if trace.end is not None else None,
        "steps": [
            {"i": s.index, "k": s.kind, "n": s.name, "in": _trim(s.input), "out": _trim(s.output),
             "err": _trim(s.error), "t0": s.started_at, "t1": s.ended_at, "p": s.parent}
            for s in trace.steps
        ],
    }


def _load(result_path: str | None, trace_id: str) -> Trace | None:
    if not result_path:
        return None
    from ..importers import import_path
    from ..storage import TraceLoadError

    try:
        traces = import_path(result_path)
    except TraceLoadError:
        return None
    return next((t for t in traces if t.trace_id == trace_id), traces[0] if traces else None)


def write_dashboard(report: EvaluationReport, out: Path,
                    traces: dict[str, Trace] | None = None,
                    redactor: Redactor | None = None) -> Path:
    """Write the dashboard to ``out`` (an ``.html`` file; assets go beside it). Traces come
    from ``traces`` by id, else are read again from each result's ``path``.

    ``redactor`` is applied to every trace's steps and to the report: an imported trajectory
    was never redacted, and a dashboard is made to be shared."""
    out = out if out.suffix in (".html", ".htm") else out / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    assets = out.parent / f"{out.stem}_files"
    if assets.exists():
        shutil.rmtree(assets)
    (assets / "traces").mkdir(parents=True)
    static = resources.files("pytest_tracebench.report") / "static"
    for name in ("app.js", "app.css"):
        (assets / name).write_text(static.joinpath(name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    files: dict[str, str] = {}
    for number, result in enumerate(report.results):
        trace = (traces or {}).get(result.trace_id) or _load(result.path, result.trace_id)
        if trace is None:
            continue
        name = f"t{number:05d}.js"
        files[result.trace_id] = name
        (assets / "traces" / name).write_text(
            f"window.__tracebenchTrace({_js_literal(result.trace_id)},"
            f"{_js_literal(redact_json(trace_payload(trace), redactor))});\n",
            encoding="utf-8")
    data = redact_json(report.model_dump(mode="json"), redactor)
    data["trace_files"] = files
    (assets / "report.js").write_text(f"window.TRACEBENCH_REPORT={_js_literal(data)};\n",
                                      encoding="utf-8")
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    out.write_text(page.replace("{{assets}}", assets.name), encoding="utf-8")
    return out
