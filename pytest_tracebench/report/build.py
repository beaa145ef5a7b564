"""Building the evaluation report: environment, settings, results, clusters, summary."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_tracebench import __version__
from pytest_tracebench.models import EvaluationReport, TraceResult
from pytest_tracebench.record.redaction import redact_json, redactor_from_settings
from pytest_tracebench.score.clusters import cluster
from pytest_tracebench.score.summary import summarize_results
from pytest_tracebench.settings import Settings


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit checked out in ``cwd`` (``None`` outside a git work tree)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment(cwd: Path | None = None) -> dict[str, Any]:
    return {
        "tracebench": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_commit": git_commit(cwd),
        "argv": sys.argv[1:],
    }


def build_report(results: Sequence[TraceResult], settings: Settings,
                 *, cwd: Path | None = None, redactor: Any = True) -> EvaluationReport:
    """The versioned report of ``results`` (gates are added by the caller).

    Everything in it is redacted (``redactor``; by default the settings' one): the
    environment's ``argv`` can hold a token given on the command line, a result's path a
    pre-signed URL."""
    if redactor is True:
        redactor = redactor_from_settings(settings)
    ordered = sorted(results, key=lambda r: (r.nodeid or r.task_id, r.agent, r.trace_id))
    report = EvaluationReport(
        created_at=time.time(),
        environment=environment(cwd),
        config=settings.model_dump(mode="json", by_alias=True),
        results=list(ordered),
        clusters=cluster(ordered),
        summary=summarize_results(ordered),
    )
    data = report.model_dump(mode="json")
    clean = redact_json(data, redactor)
    return report if clean is data else EvaluationReport.model_validate(clean)
