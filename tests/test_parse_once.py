"""Each trace is parsed once per process and handed on; one plugin manager per process (issue 18).

The counts are taken in this process with wrappers around where a trace is parsed: the
recorder's step lines into models (``TraceRecorder.steps``) and a trace file into models
(``trace_file._load_jsonl`` / ``_load_json``, under every importer of our own formats), and
around ``pluggy.PluginManager`` construction for the ``tracebench`` project. Before issue 18,
3 tests gave 6 parses and 4 managers, and the CLI's dashboard imported every file again.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from pytest_tracebench import cli, manager
from pytest_tracebench.record import trace_file
from pytest_tracebench.record.recorder import TraceRecorder

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "tests" / "data" / "real" / "mini-swe-agent" / "psf__requests-2317"

THREE_TESTS = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_agent(trace, n):
    trace.command("pytest -q", exit_code=1, stdout=f"FAILED test_{n}")
    trace.message("done: all tests pass")
"""

FINISHED_HOOK = """
from pytest_tracebench import hookimpl

@hookimpl
def tracebench_trace_finished(trace, path):
    assert trace.end is not None and len(trace.steps) == 2
"""


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Parses by trace id where known, and plugin managers built, in this process."""
    seen: Counter[str] = Counter()
    steps = TraceRecorder.steps

    def recorded(self: TraceRecorder) -> Any:
        seen["parse"] += 1
        return steps.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(TraceRecorder, "steps", property(recorded))
    for name in ("_load_jsonl", "_load_json"):
        loader = getattr(trace_file, name)

        def counted(path: Path, _loader: Any = loader) -> Any:
            seen["parse"] += 1
            return _loader(path)

        monkeypatch.setattr(trace_file, name, counted)
    init = pluggy.PluginManager.__init__

    def built(self: pluggy.PluginManager, project_name: str, *args: Any, **kwargs: Any
              ) -> None:
        if project_name == manager.PROJECT_NAME:
            seen["plugin managers"] += 1
        init(self, project_name, *args, **kwargs)

    monkeypatch.setattr(pluggy.PluginManager, "__init__", built)
    # As a new process starts: nothing built yet (raising=False: the counts are the point).
    monkeypatch.setattr(manager, "_CACHE", {}, raising=False)
    yield seen


def _trace_files(page: Path) -> list[dict[str, Any]]:
    """The payloads of a folder dashboard's per-trace data files."""
    payloads = []
    decoder = json.JSONDecoder()
    for path in sorted((page.parent / f"{page.stem}_files" / "traces").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        start = text.index("(") + 1
        _, end = decoder.raw_decode(text, start)
        payload, _ = decoder.raw_decode(text, end + 1)
        payloads.append(payload)
    return payloads


@pytest.mark.parametrize("mode", [
    [],  # analysed at the session's end, from the trace files
    ["--tracebench-min-score=0"],  # analysed as each test ends, from the recorder
    ["-o", "tracebench_plugins=finished_hook"],  # a finished hook reads it
])
def test_three_tests_are_three_parses_and_one_plugin_manager(
        pytester: pytest.Pytester, counts: Counter[str], mode: list[str]) -> None:
    pytester.makepyfile(test_three=THREE_TESTS, finished_hook=FINISHED_HOOK)
    pytester.syspathinsert()
    result = pytester.runpytest("--tracebench", "--tracebench-html=dash.html", *mode)
    result.assert_outcomes(passed=3)
    assert counts["parse"] == 3
    assert counts["plugin managers"] == 1
    payloads = _trace_files(pytester.path / "dash.html")
    assert len(payloads) == 3  # the dashboard still writes every trace's data file
    assert all([s["k"] for s in p["steps"]] == ["command", "message"] for p in payloads)


def _recorded(folder: Path, count: int) -> list[str]:
    """``count`` trace files of distinct runs (recording parses nothing)."""
    paths = []
    for number in range(count):
        with TraceRecorder(folder / f"run{number}.jsonl", task=f"task{number}") as rec:
            rec.command("pytest -q", exit_code=1, stdout="FAILED test_x")
            rec.message("fixed: all tests pass")
        paths.append(str(folder / f"run{number}.jsonl"))
    return paths


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cli_imports_each_file_once_and_the_dashboard_not_again(
        tmp_path: Path, counts: Counter[str], capsys: pytest.CaptureFixture[str],
        jobs: str) -> None:
    """With ``-j 2`` the files are imported in the workers: this process imports none."""
    paths = _recorded(tmp_path / "runs", 3)
    page = tmp_path / "dash.html"
    code = cli.main(["analyze", *paths, "-j", jobs, "--html", str(page),
                     "--dir", str(tmp_path / ".tracebench")])
    capsys.readouterr()
    assert code in (0, 1)  # the gates are not what is measured here
    assert counts["parse"] == (3 if jobs == "1" else 0)
    assert counts["plugin managers"] == 1
    assert len(_trace_files(page)) == 3


def test_the_cli_dashboard_shows_the_runs_as_analysed(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """The verdict beside a trajectory and a URL input reach the dashboard: it shows the
    engine's traces, where it used to import the files again without either."""
    folder = tmp_path / REAL.name
    shutil.copytree(REAL, folder)
    (trajectory,) = folder.glob("*.traj.json")
    url_input = _recorded(tmp_path / "remote", 1)[0]
    page = tmp_path / "dash.html"
    cli.main(["analyze", str(trajectory), Path(url_input).as_uri(), "--html", str(page),
              "--dir", str(tmp_path / ".tracebench")])
    capsys.readouterr()
    payloads = _trace_files(page)
    outcomes = [p["end"]["outcome"] for p in payloads if p["end"] is not None]
    assert any(outcome.get("resolved") is False and "verdict_file" in outcome
               for outcome in outcomes)
    assert len(payloads) == 2
