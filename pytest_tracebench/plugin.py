"""pytest glue: options, the ``trace`` fixture, the ``tracebench`` marker, report hooks.

Kept thin on purpose: the work happens in ``tracer`` (recording) and ``pipeline`` (analysis);
session-wide collection lives in ``session``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from .config import OPTIONS, ConfigError, add_options, build_settings, read_pyproject
from .models import TaskInfo
from .session import TracebenchSession, TracebenchState
from .tracer import TraceRecorder

STATE_KEY = pytest.StashKey[TracebenchState]()
RECORDER_KEY = pytest.StashKey[TraceRecorder]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tracebench", "record and analyse AI agent traces")
    add_options(group.addoption, "--tracebench-", pytest=True)
    for opt in OPTIONS:
        parser.addini(opt.ini_name, help=opt.help, type="string", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tracebench(task=None, agent=None, budget=None, **meta): per-test tracebench settings",
    )
    ini = {opt.key: (config.getini(opt.ini_name) or None) for opt in OPTIONS}
    cli = {opt.key: config.getoption(f"tracebench_{opt.key}") for opt in OPTIONS}
    try:
        from .detectors import load_detectors

        candidate = config.rootpath / "pyproject.toml"
        pyproject_path = candidate if candidate.is_file() else None
        settings = build_settings(
            read_pyproject(pyproject_path), ini, cli,
            pyproject_name=f"{pyproject_path} [tool.tracebench]",
        )
        from ._manager import get_plugin_manager

        pm = get_plugin_manager(settings.plugins)
        state = TracebenchState(settings, pm, config.invocation_params.dir)
        if settings.enabled:
            load_detectors(pm, settings)  # a misnamed detector or threshold fails at start
    except (ConfigError, ValueError, ImportError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE_KEY] = state
    if settings.enabled:
        config.pluginmanager.register(TracebenchSession(state), "tracebench-session")
        if settings.otel:
            from . import otel_capture

            otel_capture.install()


@pytest.fixture
def trace(request: pytest.FixtureRequest) -> Iterator[TraceRecorder]:
    """Record the agent's run. Writes a trace file only under ``--tracebench``."""
    state = request.config.stash[STATE_KEY]
    node = request.node
    marker = node.get_closest_marker("tracebench")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    task = TaskInfo(
        id=str(options.pop("task", None) or node.nodeid),
        nodeid=node.nodeid,
        budget=dict(options.pop("budget", None) or {}),
    )
    settings = state.settings
    recorder = TraceRecorder(
        state.trace_path(node.nodeid) if settings.enabled else None,
        task=task,
        agent=options.pop("agent", None),
        redactor=state.redactor,
        redact=settings.redact,
        max_output_chars=settings.max_output_chars,
        meta=options,
        on_finish=state.notify_finished,
    )
    node.stash[RECORDER_KEY] = recorder
    capture = settings.enabled and settings.otel
    if capture:
        from . import otel_capture

        otel_capture.set_active(recorder)
    try:
        yield recorder
    finally:
        if capture:
            otel_capture.set_active(None)
    if not recorder.finished:
        recorder.end("error", {"reason": "the test ended before its call phase"})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is None or report.when != "call":
        return report
    if not recorder.finished:
        if report.passed:
            status = "completed"
        elif report.skipped:
            status = "skipped"
        elif call.excinfo is not None and not call.excinfo.errisinstance(AssertionError):
            status = "error"
        else:
            status = "failed"
        recorder.end(status, {"passed": report.passed, "test_outcome": report.outcome})  # type: ignore[arg-type]
    state = item.config.stash[STATE_KEY]
    if state.settings.enabled:
        path = str(recorder.path) if recorder.path is not None else None
        result = state.pipeline.analyze(recorder.to_trace(), path=path)
        report.tracebench = result.model_dump(mode="json")  # type: ignore[attr-defined]
    return report
