"""The self-contained HTML dashboard: a page, its assets, and one data file per trace.

``index.html`` loads ``<name>_files/report.js`` (the report without the steps) and the app;
opening a trace loads ``<name>_files/traces/<n>.js`` on demand, so a suite of 1,000 traces is a
small page plus files read only when looked at. Everything loads from disk with no network
(script files, not fetch, so ``file://`` works). Agent-provided text reaches the page only
through ``textContent``; the data files escape ``<``, ``>``, ``&`` and U+2028/2029 so no string can
end a script or inject markup.

``single_file=True`` writes one file instead (like pytest-html's ``--self-contained-html``), to
attach to a CI run or send: the app, its style and the report are inline, allowed by their
hashes in the Content-Security-Policy, and each trace is an inert ``application/json`` block
parsed only when the trace is opened.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import urllib.parse
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_tracebench._atomic import named, new_folder, remove_folder, replace_folder, write_text
from pytest_tracebench._jsonsafe import plain
from pytest_tracebench.importers import import_path
from pytest_tracebench.models import EvaluationReport, Trace
from pytest_tracebench.record.redaction import Redactor, redact_json
from pytest_tracebench.record.trace_file import TraceLoadError

_STRING_LIMIT = 20_000  # per string in the page's data; the full text stays in the trace file
_PROTO_KEY = re.compile(r'([{,])"__proto__":')


def _js_literal(value: Any, *, strict: bool = False) -> str:
    """``value`` as a JavaScript literal that cannot end a script; ``strict``: also valid
    JSON for ``JSON.parse`` (no ``NaN``: such values are made plain, as ``null``)."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=True, separators=(",", ":"),
                          allow_nan=not strict)
    except ValueError:
        text = json.dumps(plain(value, str), default=str, ensure_ascii=True,
                          separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # In a JavaScript object literal (unlike JSON.parse), a "__proto__" key sets the object's
    # prototype instead of making a key: write it as a computed key, which is an own key. Only
    # keys follow "{" or ","; inside a string every quote is escaped.
    return text if strict else _PROTO_KEY.sub(r'\1["__proto__"]:', text)


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
        "header": _trim(trace.header.model_dump(mode="json")),
        "end": trace.end.model_dump(mode="json") if trace.end is not None else None,
        "steps": [
            {"i": s.index, "k": s.kind, "n": s.name, "in": _trim(s.input), "out": _trim(s.output),
             "err": _trim(s.error), "t0": s.started_at, "t1": s.ended_at, "p": s.parent}
            for s in trace.steps
        ],
    }


def _load(result_path: str | None, trace_id: str) -> Trace | None:
    """A result's trace read from its file: for a report without the run's traces in memory
    (``tracebench report`` of a saved run, results from pytest-xdist workers)."""
    if not result_path:
        return None
    try:
        traces = import_path(result_path)
    except TraceLoadError:
        return None
    return next((t for t in traces if t.trace_id == trace_id), traces[0] if traces else None)


def _failures_to_traces(data: dict[str, Any], payloads: dict[str, tuple[str, Any]]) -> None:
    """Move each result's failure text (``outcome.failure``: pytest's, or the verifier's) from
    the page's report into its trace's file: the suite view never shows it, and a thousand
    failed tests would make a page of megabytes to load before anything is seen."""
    for result in data.get("results", []):
        outcome = result.get("outcome")
        entry = payloads.get(result.get("trace_id"))
        if entry is None or not isinstance(outcome, dict) or \
                not isinstance(outcome.get("failure"), str):
            continue
        entry[1]["failure"] = _trim(outcome.pop("failure"))


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def write_dashboard(report: EvaluationReport, out: Path,
                    traces: dict[str, Trace] | None = None,
                    redactor: Redactor | None = None, *, single_file: bool = False) -> Path:
    """Write the dashboard to ``out`` (an ``.html`` file; assets go beside it, or inside it
    with ``single_file``). Traces come from ``traces`` by id — the runs as the caller analysed
    them, which is what the pytest session and ``tracebench analyze`` pass — else are read
    again from each result's ``path``.

    ``redactor`` is applied to every trace's steps and to the report: an imported trajectory
    was never redacted, and a dashboard is made to be shared."""
    out = out if out.suffix in (".html", ".htm") else out / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    assets = out.parent / f"{out.stem}_files"
    static = resources.files("pytest_tracebench.report") / "static"
    app_js, app_css = (static.joinpath(name).read_text(encoding="utf-8")
                       for name in ("app.js", "app.css"))
    payloads: dict[str, tuple[str, Any]] = {}  # trace id -> (name, payload)
    for number, result in enumerate(report.results):
        trace = (traces or {}).get(result.trace_id) or _load(result.path, result.trace_id)
        if trace is not None:
            payloads[result.trace_id] = (f"t{number:05d}",
                                         redact_json(trace_payload(trace), redactor))
    data = redact_json(report.model_dump(mode="json"), redactor)
    _failures_to_traces(data, payloads)
    if single_file:
        data["trace_files"] = {trace_id: name for trace_id, (name, _) in payloads.items()}
        data["embedded"] = True
        write_text(out, _single_page(static.joinpath("index.html").read_text(encoding="utf-8"),
                                     app_js, app_css, data, payloads))
        if (assets / "report.js").exists():
            remove_folder(assets)  # an earlier folder dashboard's assets: they no longer match
        return out
    # Written in a folder of its own, then moved in place: another run writing the same
    # dashboard at the same time replaces it whole, and a failed write leaves the old one.
    new = new_folder(assets)
    try:
        (new / "traces").mkdir()
        (new / "app.js").write_text(app_js, encoding="utf-8")
        (new / "app.css").write_text(app_css, encoding="utf-8")
        for trace_id, (name, payload) in payloads.items():
            (new / "traces" / f"{name}.js").write_text(
                f"window.__tracebenchTrace({_js_literal(trace_id)},{_js_literal(payload)});\n",
                encoding="utf-8")
        data["trace_files"] = {trace_id: f"{name}.js" for trace_id, (name, _) in
                               payloads.items()}
        (new / "report.js").write_text(f"window.TRACEBENCH_REPORT={_js_literal(data)};\n",
                                       encoding="utf-8")
        replace_folder(new, assets)
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise named(exc, assets) from None
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    write_text(out, _asset_page(page, assets.name))
    return out


def _asset_page(template: str, assets: str) -> str:
    """``index.html`` loading its assets from the folder ``assets``, whatever its name holds:
    the name is the page's own (``--html 'x"><script src=evil.js>.html'``), so it is written
    as a relative URL with every character but letters, digits and ``-._~`` percent-encoded
    (a ``"`` cannot end the attribute, a ``#`` or ``?`` cannot cut the URL)."""
    return template.replace("{{assets}}", urllib.parse.quote(assets, safe=""))


def _single_page(template: str, app_js: str, app_css: str, data: dict[str, Any],
                 payloads: dict[str, tuple[str, Any]]) -> str:
    """The page of ``index.html`` with everything it loads written into it."""
    report_js = f"window.TRACEBENCH_REPORT={_js_literal(data)};"
    csp = (f"default-src 'none'; script-src {_csp_hash(report_js)} {_csp_hash(app_js)}; "
           f"style-src {_csp_hash(app_css)}; img-src data:")
    blocks = "".join(f'<script type="application/json" id="tb-{name}">'
                     f"{_js_literal(payload, strict=True)}</script>\n"
                     for name, payload in payloads.values())
    head, _, rest = template.partition('<meta http-equiv="Content-Security-Policy"')
    rest = rest[rest.index(">") + 1:]
    page = f'{head}<meta http-equiv="Content-Security-Policy" content="{csp}">{rest}'
    page = page.replace('<link rel="stylesheet" href="{{assets}}/app.css">',
                        f"<style>{app_css}</style>")
    page = page.replace('<script src="{{assets}}/report.js"></script>',
                        f"{blocks}<script>{report_js}</script>")
    page = page.replace('<script src="{{assets}}/app.js" data-assets="{{assets}}"></script>',
                        f"<script>{app_js}</script>")
    if "{{assets}}" in page:  # the template changed under us: fail here, not in a browser
        raise RuntimeError("index.html has a reference to an asset the single page lacks")
    return page
