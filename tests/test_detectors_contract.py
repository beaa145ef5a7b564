"""The detector contract: registration through hooks, selection, tuning, failure isolation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import ConfigError, Settings
from pytest_tracebench.detectors import INTERNAL, detect, load_detectors
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.settings import build_settings

from ._traces import edit, fail, make

BUILTIN = ["retry_loop", "failing_tests", "incomplete_resolution", "no_change", "regression",
           "false_success_claim", "uncertain_fix", "test_tampering", "inconsistent_flow",
           "ignored_error", "runtime_instability", "budget", "aborted_run", "replay_divergence"]


def test_all_builtin_detectors_load_in_order() -> None:
    names = [d.name for d in load_detectors(get_plugin_manager(), Settings())]
    assert names == BUILTIN


def test_select_disable_and_unknown_names() -> None:
    pm = get_plugin_manager()
    only = load_detectors(pm, Settings(detectors=["retry_loop", "budget"]))
    assert [d.name for d in only] == ["retry_loop", "budget"]
    rest = load_detectors(pm, Settings(disable=["retry_loop"]))
    assert "retry_loop" not in [d.name for d in rest] and len(rest) == len(BUILTIN) - 1
    with pytest.raises(ConfigError, match="unknown detector 'retry_lop'"):
        load_detectors(pm, Settings(disable=["retry_lop"]))
    with pytest.raises(ConfigError, match="detector 'budget' has no threshold 'stepz'"):
        load_detectors(pm, Settings(thresholds={"budget": {"stepz": 3}}))


def test_thresholds_from_the_command_line_format() -> None:
    settings = build_settings({"thresholds": {"retry_loop": {"same_error": 5}}}, None,
                              {"thresholds": "retry_loop.same_observation=6,budget.steps=40"})
    assert settings.thresholds == {"retry_loop": {"same_error": 5, "same_observation": "6"},
                                   "budget": {"steps": "40"}}
    detectors = {d.name: d for d in load_detectors(get_plugin_manager(), settings)}
    assert detectors["retry_loop"].options["same_observation"] == 6
    assert detectors["retry_loop"].options["same_error"] == 5
    assert detectors["budget"].options["steps"] == 40


class Exploding:
    name = "exploding"
    category = "test"

    def detect(self, trace):
        raise ZeroDivisionError("bad plugin")


def test_a_detector_that_raises_is_reported_and_skipped() -> None:
    trace = make(lambda rec: (edit(rec), fail(rec)))
    detectors = [Exploding(), *load_detectors(get_plugin_manager(), Settings())]
    found = detect(trace, detectors)
    internal = [f for f in found if f.detector == INTERNAL]
    assert len(internal) == 1
    assert "'exploding' failed and was skipped: ZeroDivisionError: bad plugin" in \
        internal[0].message
    assert any(f.detector == "failing_tests" for f in found)


def test_third_party_detector_via_a_configured_plugin(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_detectors.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "from pytest_tracebench.detectors import Detector\n"
        "class TooManyReads(Detector):\n"
        "    name = 'too_many_reads'\n"
        "    category = 'resource_use'\n"
        "    thresholds = {'limit': 2}\n"
        "    def detect(self, trace):\n"
        "        reads = [s.index for s in trace.steps if s.kind == 'read']\n"
        "        if len(reads) > self.options['limit']:\n"
        "            yield self.finding(f'{len(reads)} reads', reads, severity='low')\n"
        "@hookimpl\n"
        "def tracebench_detectors(settings):\n"
        "    return [TooManyReads()]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = Settings(plugins=["my_detectors"], detectors=["too_many_reads"],
                        thresholds={"too_many_reads": {"limit": 1}})
    trace = make(lambda rec: [rec.read(f"f{i}.py") for i in range(3)])
    (finding,) = detect(trace, load_detectors(get_plugin_manager(settings.plugins), settings))
    assert finding.message == "3 reads" and finding.steps == [0, 1, 2]
    sys.modules.pop("my_detectors", None)


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_detectors_command_lists_every_detector_with_thresholds() -> None:
    result = _cli("detectors")
    assert result.returncode == 0
    for name in BUILTIN:
        assert name in result.stdout
    assert "same_observation=4" in result.stdout


def test_analyze_command_text_and_json(seed_trace_path: Path, tmp_path: Path) -> None:
    result = _cli("analyze", str(seed_trace_path))
    assert result.returncode == 0, result.stderr
    assert "- Step 3: failing_tests -> Tests failed after applying the fix: 1 failing " \
        "(tests/test_client.py::test_fetch_retries_on_timeout)." in result.stdout
    assert "- Step 2: retry_loop -> 2 fix attempts in a row, from step 2 to step 6" in result.stdout
    assert "=== Trace Score ===" in result.stdout and "Score: " in result.stdout
    out = tmp_path / "report.json"
    result = _cli("analyze", str(seed_trace_path), "--json", str(out),
                  "--disable", "uncertain_fix")
    assert result.returncode == 0
    report = json.loads(out.read_text())
    detectors = [f["detector"] for f in report["results"][0]["findings"]]
    assert "uncertain_fix" not in detectors and "failing_tests" in detectors
    bad = _cli("analyze", str(seed_trace_path), "--disable", "nope")
    assert bad.returncode == 2 and "unknown detector 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_seed_demo_as_the_readme_shows_it(seed_trace_path: Path) -> None:
    """The README's two commands on the seed's trace, and what it says of them: every
    detector (6 findings), and the seed demo's two detectors (a finding per failed run and the
    loop); the failing test id is read from the seed's ``FAILED ...`` line."""
    from pytest_tracebench.record.trace_file import load_trace

    steps = load_trace(seed_trace_path).steps
    assert [s.output["failing"] for s in steps if s.kind == "test"] == [
        ["tests/test_client.py::test_fetch_retries_on_timeout"]] * 2
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "tracebench analyze examples/trace.json --detectors failing_tests,retry_loop" in readme
    every = _cli("analyze", str(seed_trace_path)).stdout
    demo = _cli("analyze", str(seed_trace_path), "--detectors", "failing_tests,retry_loop").stdout
    assert "6 finding(s)" in every and "3 finding(s)" in demo
    assert [line.split(" ->")[0] for line in demo.splitlines() if line.startswith("- ")] == [
        "- Step 2: retry_loop", "- Step 3: failing_tests", "- Step 6: failing_tests"]
    for name in ("uncertain_fix", "incomplete_resolution"):
        assert name in every and f"`{name}`" in readme
