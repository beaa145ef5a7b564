"""Build small traces for detector tests through the real recorder (in memory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_tracebench import Finding, Trace, TraceRecorder
from pytest_tracebench.detectors import detect, load_detectors
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.settings import Settings


def make(build: Callable[[TraceRecorder], Any], *, task: Any = "task", end: bool = True
         ) -> Trace:
    rec = TraceRecorder(None, task=task, agent="test-agent", redact=False)
    build(rec)
    if end:
        rec.end()
    return rec.to_trace()


def findings(name: str, trace: Trace, **thresholds: Any) -> list[Finding]:
    settings = Settings(detectors=[name], thresholds={name: thresholds} if thresholds else {})
    return detect(trace, load_detectors(get_plugin_manager(), settings))


def patterns(name: str, trace: Trace, **thresholds: Any) -> list[str]:
    return [f.evidence.get("pattern", f.detector) for f in findings(name, trace, **thresholds)]


def fail(rec: TraceRecorder, command: str = "pytest -q tests", ids: tuple[str, ...] = (
        "tests/test_a.py::test_x",)) -> int:
    return rec.test_run(passed=3, failed=len(ids), failing=list(ids), command=command)


def green(rec: TraceRecorder, command: str = "pytest -q tests") -> int:
    return rec.test_run(passed=4, command=command)


def edit(rec: TraceRecorder, path: str = "src/app.py", old: str = "a = 1", new: str = "a = 2"
         ) -> int:
    return rec.edit(path, old=old, new=new)
