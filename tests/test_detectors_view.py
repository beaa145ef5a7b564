"""What third-party detectors get as the built-ins do: the public trace view (shared while the
detectors run, never keeping a trace alive), one documented way to receive thresholds, and the
worked example of ``docs/hooks.md``, run as it is written through the CLI and through pytest."""

from __future__ import annotations

import ast
import gc
import json
import os
import re
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

import pytest_tracebench
from pytest_tracebench import ConfigError, Settings, Trace, dump_trace
from pytest_tracebench.detectors import (
    Detector,
    TraceView,
    describe_thresholds,
    detect,
    load_detectors,
    tune,
    view_of,
)
from pytest_tracebench.manager import get_plugin_manager

from ._traces import edit, green, make

REPO = Path(__file__).parent.parent
EXAMPLE_MODULE = "late_tests"


def _example_code() -> str:
    """The first Python block of the ``tracebench_detectors`` section of docs/hooks.md."""
    text = (REPO / "docs" / "hooks.md").read_text()
    section = text[text.index("## `tracebench_detectors("):]
    section = section[:section.index("\n## ", 1)]
    assert f"`{EXAMPLE_MODULE}.py`" in section  # the name the docs give the module
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def _late_trace() -> Trace:
    """Two source edits, then the first test run."""
    return make(lambda rec: (edit(rec), edit(rec, old="a = 2", new="a = 3"), green(rec)))


class _Recording:
    """Asks for the view as a third-party detector does, and keeps only a weak reference to
    it: whether the next one gets the same view is then up to the runner."""

    category = "test"

    def __init__(self, name: str, seen: list[weakref.ref[TraceView]], same: list[bool]) -> None:
        self.name = name
        self.seen = seen
        self.same = same

    def detect(self, trace: Trace) -> list[Any]:
        view = view_of(trace)
        if self.seen:
            self.same.append(self.seen[-1]() is view)
        self.seen.append(weakref.ref(view))
        return []


def test_every_detector_gets_the_same_view_while_they_run() -> None:
    trace = _late_trace()
    seen: list[weakref.ref[TraceView]] = []
    same: list[bool] = []
    detectors = [_Recording("first", seen, same),
                 *load_detectors(get_plugin_manager(), Settings()),
                 _Recording("last", seen, same)]
    detect(trace, detectors)
    assert same == [True]
    gc.collect()
    assert seen[0]() is None  # let go once the detectors are done
    assert isinstance(view_of(trace), pytest_tracebench.TraceView)


def test_the_view_keeps_no_trace_alive() -> None:
    traces = [_late_trace() for _ in range(3)]
    detectors = load_detectors(get_plugin_manager(), Settings())
    for trace in traces:
        detect(trace, detectors)
    refs = [weakref.ref(t) for t in traces]
    del trace, traces
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_a_held_view_is_shared_and_a_dropped_one_rebuilt() -> None:
    trace, other = _late_trace(), _late_trace()
    view = view_of(trace)
    assert view_of(trace) is view and view_of(other) is not view
    before = weakref.ref(view)
    del view
    gc.collect()
    assert before() is None  # nothing held it: the cache let it go
    assert view_of(trace).trace is trace


class _DuckTyped:
    """A detector that does not subclass Detector: the contract alone."""

    name = "duck"
    category = "test"
    thresholds = {"limit": 2}

    def __init__(self, limit: int = 2) -> None:
        self.options = {"limit": limit}

    def detect(self, trace: Trace) -> list[Any]:
        return []


class _Undeclared(_DuckTyped):
    name = "undeclared"
    thresholds: dict[str, Any] = {}


def test_thresholds_reach_every_detector_the_same_way() -> None:
    tuned = tune(_DuckTyped(), {"limit": 5})
    assert type(tuned) is _DuckTyped and tuned.options == {"limit": 5}
    # A name the detector does not declare is refused by the runner, whatever its constructor
    # would accept, with the message the built-ins give.
    with pytest.raises(ConfigError, match="detector 'undeclared' has no threshold 'limit'; "
                                          "known: none"):
        tune(_Undeclared(), {"limit": 5})
    with pytest.raises(ConfigError, match="detector 'budget' has no threshold 'stepz'"):
        load_detectors(get_plugin_manager(), Settings(thresholds={"budget": {"stepz": 3}}))
    untouched = _DuckTyped()
    assert tune(untouched, {}) is untouched


def test_thresholds_are_listed_from_what_the_detector_declares() -> None:
    class Long(Detector):
        name = "long"
        thresholds = {"count": 3, "patterns": [f"pattern-{i}" for i in range(9)],
                      "roles": ["assistant"]}

    assert describe_thresholds(Long(count="4")) == \
        "count=4, patterns=[9 items], roles=['assistant']"
    assert describe_thresholds(_DuckTyped(limit=7)) == "limit=7"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_replay_stage_does_not_reach_up_for_text_helpers() -> None:
    package = REPO / "pytest_tracebench"
    for module in ("rerun.py", "viewer.py"):
        upper = {m for m in _imports(package / "replay" / module)
                 if m.startswith(("pytest_tracebench.detectors", "pytest_tracebench.report"))}
        assert not upper, (module, upper)
    assert not {m for m in _imports(package / "text.py") if m.startswith("pytest_tracebench")}


@pytest.fixture
def example_plugin(tmp_path: Path) -> Path:
    """The docs' example, written as the module the docs name, in its own directory."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / f"{EXAMPLE_MODULE}.py").write_text(_example_code())
    return folder


def _cli(*args: str, plugins: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(plugins), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_docs_example_detector_through_the_cli(example_plugin: Path, tmp_path: Path) -> None:
    path = dump_trace(_late_trace(), tmp_path / "late.jsonl")
    listed = _cli("detectors", "--plugins", EXAMPLE_MODULE, plugins=example_plugin, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(i for i, text in enumerate(listed.stdout.splitlines())
                if text.startswith("late_first_test "))
    assert listed.stdout.splitlines()[line + 1].split() == ["thresholds:", "edits=3"]

    default = _cli("analyze", str(path), "--plugins", EXAMPLE_MODULE, "--json", "d.json",
                   plugins=example_plugin, cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    findings = json.loads((tmp_path / "d.json").read_text())["results"][0]["findings"]
    assert "late_first_test" not in {f["detector"] for f in findings}  # 2 edits, limit 3

    tuned = _cli("analyze", str(path), "--plugins", EXAMPLE_MODULE, "--thresholds",
                 "late_first_test.edits=1", "--json", "t.json", plugins=example_plugin,
                 cwd=tmp_path)
    assert tuned.returncode == 0, tuned.stderr
    # The line the docs show.
    assert "- Step 1: late_first_test -> 2 source edits before the first test run" in \
        tuned.stdout
    findings = json.loads((tmp_path / "t.json").read_text())["results"][0]["findings"]
    (late,) = [f for f in findings if f["detector"] == "late_first_test"]
    assert late["steps"] == [0, 1] and late["evidence"] == {"edits": 2, "limit": 1}
    assert late["category"] == "incomplete_reasoning" and late["severity"] == "low"


def test_the_docs_example_detector_through_pytest(example_plugin: Path,
                                                  pytester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(example_plugin))
    monkeypatch.delitem(sys.modules, EXAMPLE_MODULE, raising=False)
    pytester.makeini(f"[pytest]\ntracebench_plugins = {EXAMPLE_MODULE}\n")
    pytester.makepyfile(test_agent="""
        def test_edits_first(trace):
            trace.edit("src/app.py", old="a = 1", new="a = 2")
            trace.edit("src/app.py", old="a = 2", new="a = 3")
            trace.test_run(passed=4, command="pytest -q tests")

        def test_tests_first(trace):
            trace.test_run(passed=4, command="pytest -q tests")
            trace.edit("src/app.py", old="a = 1", new="a = 2")
            trace.edit("src/app.py", old="a = 2", new="a = 3")
        """)
    reprec = pytester.inline_run("--tracebench", "--tracebench-thresholds=late_first_test.edits=1",
                                 "--tracebench-json=report.json", "-p", "no:cacheprovider")
    reprec.assertoutcome(passed=2)
    results = json.loads((pytester.path / "report.json").read_text())["results"]
    found = {r["nodeid"].split("::")[-1]: [f for f in r["findings"]
                                           if f["detector"] == "late_first_test"]
             for r in results}
    assert found["test_tests_first"] == []
    (late,) = found["test_edits_first"]
    assert late["message"] == "2 source edits before the first test run"
    assert late["steps"] == [0, 1]
    monkeypatch.delitem(sys.modules, EXAMPLE_MODULE, raising=False)
