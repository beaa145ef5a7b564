"""The dashboard of a calibration: the runs with their verdicts, and the calibration view."""

from __future__ import annotations

from pathlib import Path

from pytest_tracebench.record.redaction import redactor_from_settings
from pytest_tracebench.report.build import build_report
from pytest_tracebench.report.html import write_dashboard
from pytest_tracebench.score.calibration.report import CalibrationReport
from pytest_tracebench.score.calibration.runs import Collection
from pytest_tracebench.score.scoring import score
from pytest_tracebench.settings import Settings


def write_calibration_dashboard(collection: Collection, report: CalibrationReport, out: Path,
                                settings: Settings) -> Path:
    """Write the dashboard of the measured runs to ``out``. Each run shows the verifier's
    verdict as its outcome (the analysis itself never saw it) and its score as the settings
    give it now (with that outcome as its stated term); the calibration view shows
    ``report``."""
    results = []
    for run in collection.runs:
        result = run.result.model_copy(deep=True)
        result.outcome = {**result.outcome, **run.verdict.outcome()}
        results.append(result)
    evaluation = build_report(results, settings, cwd=Path.cwd())
    for result in evaluation.results:
        result.score = score(result, settings)
    evaluation.calibration = report.model_dump(mode="json")
    return write_dashboard(evaluation, out, redactor=redactor_from_settings(settings),
                           single_file=settings.self_contained_html)
