"""pytest glue: options, the ``trace`` fixture, the ``tracebench`` marker, report hooks.

Kept thin on purpose: the work happens in ``record`` (recording) and ``pipeline`` (analysis);
session-wide collection lives in ``session``, the end of the run in ``finish``.

pytest imports this module in every session of every project where the package is installed,
so with ``--tracebench`` off it must cost nothing: it imports only pytest and the option table
at import time, and when no tracebench setting is given at all the settings (pydantic) are
built only if a test asks for ``trace`` or ``agent`` (issue 17).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_tracebench._options import MARKER_FIELDS, OPTIONS, add_options
from pytest_tracebench._pytest_keys import RECORDER_KEY, STATE_KEY, TEST_SETTINGS_KEY

if TYPE_CHECKING:
    from pytest_tracebench.models import TraceResult
    from pytest_tracebench.record.recorder import TraceRecorder
    from pytest_tracebench.replay.cassette import Cassette
    from pytest_tracebench.session import TracebenchState
    from pytest_tracebench.settings import Settings

# Deferred imports: the package's other modules are imported inside the hooks that need them,
# never here: they import pydantic and the models, which every pytest session would pay for
# (issue 17; benchmarks/perf/test_perf_plugin_cost.py measures it).

_OPTIONS = tuple(opt for opt in OPTIONS if not opt.cli_only)
#: What the marker takes besides the settings it overrides: the trace's task metadata.
_MARKER_TASK_FIELDS = ("task", "agent", "budget")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tracebench", "record and analyse AI agent traces")
    add_options(group.addoption, "--tracebench-", pytest=True)
    for opt in _OPTIONS:
        parser.addini(opt.ini_name, help=opt.help, type="string", default="")


def _configured(config: pytest.Config) -> bool:
    """Whether any tracebench setting is given: an option, an ini key or a ``[tool.tracebench]``
    table (looked for as text; the file is parsed only when it names tracebench)."""
    if any(config.getoption(f"tracebench_{opt.key}") is not None for opt in _OPTIONS):
        return True
    if any(config.getini(opt.ini_name) for opt in _OPTIONS):
        return True
    candidate = config.rootpath / "pyproject.toml"
    try:
        return "tracebench" in candidate.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    fields = ", ".join(f"{name}=None" for name in (*_MARKER_TASK_FIELDS, *MARKER_FIELDS))
    config.addinivalue_line(
        "markers", f"tracebench({fields}, **meta): per-test tracebench settings and gates")
    if not _configured(config):
        return  # off, with defaults: nothing is built unless a test uses `trace` or `agent`
    state = _build_state(config)
    config.stash[STATE_KEY] = state
    settings = state.settings
    if settings.enabled:
        from pytest_tracebench.session import TracebenchSession

        # Scores are needed while tests run by per-test gates, pytest-html columns, JUnit
        # properties and xdist (results travel on the workers' reports); else at the end.
        state.defer = not (settings.min_score is not None or settings.fail_on
                           or getattr(config.option, "htmlpath", None)
                           or getattr(config.option, "xmlpath", None)
                           or hasattr(config, "workerinput"))
        state.keep_traces = settings.html is not None and not hasattr(config, "workerinput")

        config.pluginmanager.register(TracebenchSession(state, config), "tracebench-session")
        if config.pluginmanager.hasplugin("html"):
            from pytest_tracebench.report.pytest_html import PytestHtmlIntegration

            dashboard = None if settings.html is None else \
                config.invocation_params.dir / settings.html  # where the session writes it
            config.pluginmanager.register(PytestHtmlIntegration(dashboard), "tracebench-html")
        if settings.otel:
            from pytest_tracebench.record import otel_capture
            otel_capture.install()


def _build_state(config: pytest.Config) -> TracebenchState:
    from pytest_tracebench.session import TracebenchState
    from pytest_tracebench.settings import (
        ConfigError,
        build_settings,
        read_pyproject,
        recording_for_gates,
    )

    ini = {opt.key: (config.getini(opt.ini_name) or None) for opt in _OPTIONS}
    cli = {opt.key: config.getoption(f"tracebench_{opt.key}") for opt in _OPTIONS}
    try:
        candidate = config.rootpath / "pyproject.toml"
        pyproject_path = candidate if candidate.is_file() else None
        pyproject_name = f"{pyproject_path} [tool.tracebench]"
        pyproject = read_pyproject(pyproject_path)
        settings = build_settings(pyproject, ini, cli, pyproject_name=pyproject_name)
        settings = recording_for_gates(settings, [(pyproject_name, pyproject),
                                                  ("ini file", ini), ("command line", cli)])
        from pytest_tracebench.manager import get_plugin_manager

        pm = get_plugin_manager(settings.plugins)
        state = TracebenchState(settings, pm, config.invocation_params.dir)
        if settings.enabled:
            _ = state.pipeline  # loads the detectors now: a misnamed one fails at the start
            try:
                state.trace_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"tracebench: cannot create the trace directory "
                                  f"{state.trace_dir}: {exc.strerror or exc}") from None
    except (ConfigError, ValueError, ImportError) as exc:
        raise pytest.UsageError(str(exc)) from None
    return state


def _state(config: pytest.Config) -> TracebenchState:
    """The session's state, built on first use when ``pytest_configure`` had no need to."""
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        state = config.stash[STATE_KEY] = _build_state(config)
    return state


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``agent`` runs once per configured agent (``--tracebench-agent``)."""
    if "agent" not in metafunc.fixturenames and "trace" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    if "agent" in metafunc.fixturenames:
        metafunc.parametrize("agent", state.settings.agent, indirect=True,
                             ids=[a.rsplit(":", 1)[-1] for a in state.settings.agent])
    if "trace" in metafunc.fixturenames and state.settings.repeat > 1:
        metafunc.fixturenames.append("tracebench_repeat")
        metafunc.parametrize("tracebench_repeat", range(state.settings.repeat),
                             indirect=True,
                             ids=[f"run{i + 1}" for i in range(state.settings.repeat)])


@pytest.fixture
def tracebench_repeat(request: pytest.FixtureRequest) -> int:
    """Which of the ``--tracebench-repeat`` runs this is (from 0)."""
    return int(getattr(request, "param", 0))


@pytest.fixture
def agent(request: pytest.FixtureRequest) -> Any:
    """The agent under test (see ``--tracebench-agent``)."""
    from pytest_tracebench.agents import AgentLoadError, load_agent

    try:
        return load_agent(request.param)
    except AgentLoadError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture
def trace(request: pytest.FixtureRequest) -> Iterator[TraceRecorder]:
    """Record the agent's run. Writes a trace file only under ``--tracebench``."""
    from pytest_tracebench.models import TaskInfo
    from pytest_tracebench.record.recorder import TraceRecorder

    state = _state(request.config)
    node = request.node
    marker = node.get_closest_marker("tracebench")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    for key in MARKER_FIELDS:
        options.pop(key, None)  # settings of the test (see _test_settings), not trace metadata
    repeat = node.callspec.params.get("tracebench_repeat") if hasattr(node, "callspec") \
        else None
    if repeat is not None:
        options["repeat"] = repeat
    task = TaskInfo(
        id=str(options.pop("task", None) or _without_repeat(node.nodeid)),
        nodeid=node.nodeid,
        budget=dict(options.pop("budget", None) or {}),
    )
    settings = _test_settings(node)[0]
    path = state.trace_path(node.nodeid) if settings.enabled else None
    cassette = None
    if settings.replay is not None:
        cassette, path = _cassette(state, node.nodeid, settings, path)
    recorder = TraceRecorder(
        path,
        task=task,
        agent=options.pop("agent", None),
        redactor=state.redactor,
        redact=settings.redact,
        max_output_chars=settings.max_output_chars,
        meta=options,
        on_finish=state.notify_finished,
        cassette=cassette,
    )
    node.stash[RECORDER_KEY] = recorder
    capture = settings.enabled and settings.otel
    if capture:
        from pytest_tracebench.record import otel_capture
        otel_capture.set_active(recorder)
    try:
        yield recorder
    finally:
        if capture:
            otel_capture.set_active(None)
    if not recorder.finished:
        recorder.end("error", {"reason": "the test ended before its call phase"})


def _without_repeat(nodeid: str) -> str:
    """The node id without its ``runN`` repeat parameter, so repeats share a task id."""
    import re

    return re.sub(r"\[run\d+\]$", "", re.sub(r"-run\d+\]$", "]", nodeid))


def _cassette(state: TracebenchState, nodeid: str, settings: Settings,
              path: Path | None) -> tuple[Cassette, Path | None]:
    """The recorded calls of this test's previous trace, and where the new trace goes
    (beside the recording in ``none`` mode; see :func:`~.replay.cassette.open_cassette`)."""
    from pytest_tracebench.replay.cassette import CassetteError, open_cassette

    assert settings.replay is not None
    try:
        cassette, target = open_cassette(settings.replay, state.trace_path(nodeid),
                                         settings.replay_match, label=nodeid)
    except CassetteError as exc:
        raise pytest.UsageError(str(exc)) from None
    return cassette, target if settings.replay == "none" else path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is None or report.when != "call":
        return report
    # The run ends here; what the session needs of it is handed on below, so the item (kept
    # to the session's end) no longer holds the recorder, its lines and its trace.
    del item.stash[RECORDER_KEY]
    if not recorder.finished:
        if report.passed:
            status = "completed"
        elif report.skipped:
            status = "skipped"
        elif call.excinfo is not None and not call.excinfo.errisinstance(AssertionError):
            status = "error"
        else:
            status = "failed"
        from pytest_tracebench.session import outcome_of_test

        recorder.end(status, outcome_of_test(report))  # type: ignore[arg-type]
    state = item.config.stash[STATE_KEY]  # a recorder was made: the state exists
    gated = _marker_gates(item)
    if state.settings.enabled or gated:
        if state.settings.enabled and state.defer and not gated:
            from pytest_tracebench.session import Deferred

            state.results.append(Deferred.of(recorder))  # analysed at the session's end
            return report
        path = str(recorder.path) if recorder.path is not None else None
        trace = recorder.to_trace()  # built once: the finished hook had it from here too
        result = state.pipeline.analyze(trace, path=path, redacted=True)
        state.keep(trace)
        report.tracebench = result.model_dump(mode="json")  # type: ignore[attr-defined]
        _record_properties(item, report, result)
        _apply_test_gates(item, report, result)
    return report


def _test_settings(item: pytest.Item) -> tuple[Settings, frozenset[str]]:
    """The session's settings with the test's marker overrides (``min_score``, ``fail_on``,
    ``replay``), checked like any other source: ``min_score="abc"`` is a usage error naming
    the test. Parsed once per test (at collection, see ``pytest_collection_modifyitems``)."""
    cached = item.stash.get(TEST_SETTINGS_KEY, None)
    if cached is not None:
        return cached
    from pytest_tracebench.settings import ConfigError, override

    settings = _state(item.config).settings
    marker = item.get_closest_marker("tracebench")
    given = {key: marker.kwargs[key] for key in MARKER_FIELDS
             if marker is not None and key in marker.kwargs}
    try:
        cached = (override(settings, given, f"{item.nodeid}: @pytest.mark.tracebench"),
                  frozenset(given))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    item.stash[TEST_SETTINGS_KEY] = cached
    return cached


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test's marker overrides are checked before any test runs: a wrong one stops the
    session as a usage error (found at report time it could only fail its own test)."""
    if STATE_KEY not in config.stash:
        return  # no test takes `trace` or `agent`: no marker has anything to override
    for item in items:
        if "trace" in getattr(item, "fixturenames", ()) and \
                item.get_closest_marker("tracebench") is not None:
            _test_settings(item)


def _marker_gates(item: pytest.Item) -> bool:
    """The test's marker sets a gate (``min_score``, ``fail_on``): its trace is analysed and
    judged even without ``--tracebench`` (nothing is written), as a gate is never ignored."""
    settings, given = _test_settings(item)
    return ("min_score" in given and settings.min_score is not None) or \
        ("fail_on" in given and bool(settings.fail_on))


def _record_properties(item: pytest.Item, report: pytest.TestReport,
                       result: TraceResult) -> None:
    """JUnit XML ``<property>`` entries (``--junit-xml``). The JUnit writer reads them from the
    teardown report, which copies the item's list; the call report gets them too."""
    from pytest_tracebench.report.junit import junit_properties

    props = junit_properties(result)
    item.user_properties.extend(props)
    if report.user_properties is not item.user_properties:
        report.user_properties.extend(props)


def _apply_test_gates(item: pytest.Item, report: pytest.TestReport,
                      result: TraceResult) -> None:
    from pytest_tracebench.score.gates import test_failure

    settings = _test_settings(item)[0]  # the session's, with the marker's overrides
    reason = test_failure(result, settings.min_score, list(settings.fail_on))
    if reason is None or report.failed:
        return
    report.outcome = "failed"
    report.longrepr = f"tracebench: {reason}"
    # The result says so too: the summary's pass rate is the test's own verdict, and a reader
    # must see that a gate failed the test beside it.
    report.tracebench["gate"] = reason.splitlines()[0]
