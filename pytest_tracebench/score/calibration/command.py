"""The ``tracebench calibrate`` command: collect, measure, write (kept out of ``cli.py``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.score.calibration.labels import (
    LabelsError,
    measure_labels,
    read_labels,
    render_labels,
)
from pytest_tracebench.score.calibration.model import ModelError, load_model
from pytest_tracebench.score.calibration.runs import collect
from pytest_tracebench.settings import Settings

# Deferred imports: fitting, the calibration report, its Markdown and its dashboard need
# scikit-learn (the optional `calibrate` extra); a labels-only run works without it.


def run(paths: Sequence[str], settings: Settings, *, jobs: int = 1, fmt: str | None = None,
        json_path: str | None = None, write_model: str | None = None,
        html: str | None = None, c: float | None = None, command: str = "",
        markdown: str | None = None, labels: str | None = None) -> int:
    """Exit status 0 when the runs were measured, 1 when nothing could be (or an input
    failed to load), 2 when scikit-learn is missing or the labels file is not one.

    With ``labels`` (a reviewer's labels file, :mod:`.labels`), each detector's precision
    against the reviewer is measured too; that needs no verdict and no scikit-learn, so
    without them it is measured alone."""
    try:
        reviewed = read_labels(Path(labels)) if labels is not None else None
    except LabelsError as exc:
        print(f"tracebench: error: {exc}", file=sys.stderr)
        return 2
    try:
        from pytest_tracebench.score.calibration.fit import DEFAULT_C
        from pytest_tracebench.score.calibration.report import calibrate, render
    except ImportError as exc:
        if reviewed is None:
            print(f"tracebench: error: {exc}", file=sys.stderr)
            return 2
        missing: str | None = f"{exc} (install the extra calibrate)"
    else:
        missing = None
    try:
        current = load_model(settings.calibration)
    except ModelError as exc:
        print(f"tracebench: error: {exc}", file=sys.stderr)
        return 2
    loaded = Pipeline.from_settings(settings).detectors
    detectors = [d.name for d in loaded]
    thresholds = {d.name: dict(getattr(d, "options", {})) for d in loaded}
    collection = collect(paths, settings, jobs=jobs, fmt=fmt)
    against = measure_labels(reviewed, collection.results, str(labels)) \
        if reviewed is not None else None
    runs = collection.runs
    if missing is None and (len({r.resolved for r in runs}) < 2 or
                            len({r.source for r in runs}) < 2):
        missing = (f"calibration needs resolved and unresolved runs from at "
                   f"least two sources; found {len(runs)} verified run(s) "
                   f"({sum(r.resolved for r in runs)} resolved) in "
                   f"{len({r.source for r in runs})} source(s), "
                   f"{len(collection.unverified)} without a verdict")
    to_stdout = json_path == "-"
    out = sys.stderr if to_stdout else sys.stdout
    if missing is not None:
        if against is None:
            print(f"tracebench: error: {missing}", file=sys.stderr)
            return 1
        # The reviewer's labels are measured without verdicts: say what was not.
        if to_stdout:
            print(json.dumps({"labels": against.model_dump(mode="json")}, indent=2))
        else:
            print(render_labels(against))
        print(f"tracebench: note: no measures against verdicts: {missing}", file=sys.stderr)
        if json_path and not to_stdout:
            _write(Path(json_path), json.dumps({"labels": against.model_dump(mode="json")},
                                               indent=2) + "\n")
            print(f"JSON: {json_path}", file=out)
        return 1 if collection.errors else 0
    # Writing the model the score uses makes "the score now" the model fitted here.
    installing = bool(write_model) and _is_configured(str(write_model), settings)
    report = calibrate(collection, detectors, None if installing else current,
                       c=c if c is not None else DEFAULT_C, command=command,
                       thresholds=thresholds)
    if against is None:
        text = report.model_dump_json(indent=2)
    else:
        text = json.dumps({**report.model_dump(mode="json"),
                           "labels": against.model_dump(mode="json")}, indent=2,
                          ensure_ascii=False)
    if to_stdout:
        print(text)
    else:
        print(render(report))
        if against is not None:
            print()
            print(render_labels(against))
    if json_path and not to_stdout:
        _write(Path(json_path), text + "\n")
        print(f"JSON: {json_path}", file=out)
    if write_model:
        _write(Path(write_model), json.dumps(report.model.model_dump(mode="json"), indent=2)
               + "\n")
        print(f"score model: {write_model} (use it with [tool.tracebench] calibration = "
              f"\"{write_model}\")", file=out)
    if markdown:
        from pytest_tracebench.score.calibration.markdown import write_markdown

        write_markdown(report, Path(markdown))
        print(f"Markdown tables: {markdown}", file=out)
    if html:
        from pytest_tracebench.score.calibration.dashboard import write_calibration_dashboard

        page = write_calibration_dashboard(collection, report, Path(html), settings)
        print(f"HTML dashboard: {page}", file=out)
    return 1 if collection.errors else 0


def _is_configured(path: str, settings: Settings) -> bool:
    """True when ``path`` is the score model the settings load (the built-in one when none
    is configured)."""
    configured = Path(settings.calibration) if settings.calibration else \
        Path(__file__).resolve().parent.parent / "score_model.json"
    try:
        return Path(path).resolve() == configured.resolve()
    except OSError:
        return False


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
