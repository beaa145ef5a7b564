"""What the installed plugin does when ``--tracebench`` is off (nothing), and that analysis
deferred to the session's end reports what per-test analysis does (issue 17).

Behaviour only: the timings are in ``benchmarks/perf/test_perf_pytest_overhead.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = """
def test_plain():
    assert 1 + 1 == 2

def test_other():
    pass
"""

TRACED = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_agent(trace, n):
    trace.read("src/a.py", content="x = 1")
    trace.edit("src/a.py", old="x = 1", new="x = 2")
    trace.test_run(passed=1, failed=n % 2, failing=["t::x"] if n % 2 else [])
    trace.message("All tests pass now.")
"""

PROBE = """
import sys

def pytest_sessionfinish(session):
    heavy = sorted(m for m in sys.modules
                   if m.startswith(("pytest_tracebench.", "pydantic"))
                   and m not in ("pytest_tracebench.plugin", "pytest_tracebench._options",
                                 "pytest_tracebench._pytest_keys"))
    session.config._probe = heavy
    registered = session.config.pluginmanager.get_plugin("tracebench-session") is not None
    print(f"\\nPROBE heavy={heavy} session={registered}")
"""


def test_off_writes_no_files_and_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(PROBE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["PROBE heavy=[] session=False"])
    assert not (pytester.path / ".tracebench").exists()
    assert [p for p in pytester.path.rglob("*") if "tracebench" in p.name] == []


def test_off_trace_fixture_still_records_in_memory_and_writes_nothing(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_traced=TRACED + """
def test_steps(trace):
    trace.message("hello")
    assert [s.kind for s in trace.steps] == ["message"]
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert [p for p in pytester.path.rglob("*") if "tracebench" in p.name] == []


def test_off_adds_no_pytest_html_columns(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html")
    pytester.makepyfile(test_traced=TRACED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--html=report.html")
    result.assert_outcomes(passed=3)
    page = (pytester.path / "report.html").read_text()
    # pytest-metadata lists the plugin among the installed ones; no column or cell names it.
    assert "tracebench-score" not in page and "tracebench-findings" not in page
    assert '<th class="sortable" data-column-type="tracebench' not in page
    assert not (pytester.path / ".tracebench").exists()


def test_importing_the_plugin_builds_no_model() -> None:
    """What pytest imports in every session: no pydantic, no settings, no models."""
    code = ("import sys, pytest, pytest_tracebench.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('pydantic', "
            "'pytest_tracebench.')) and m not in ('pytest_tracebench.plugin', "
            "'pytest_tracebench._options', 'pytest_tracebench._pytest_keys')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def _results(path: Path) -> list[tuple[str, float, list[str]]]:
    report = json.loads(path.read_text())
    return sorted((r["nodeid"], r["score"]["value"], sorted(f["detector"] for f in r["findings"]))
                  for r in report["results"])


def test_deferred_analysis_reports_what_per_test_analysis_does(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_traced=TRACED)
    pytester.makeconftest("""
def pytest_runtest_logreport(report):
    if report.when == "call":
        print(f"\\nON-REPORT {report.nodeid} {hasattr(report, 'tracebench')}")
""")
    deferred = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--tracebench",
                                             "--tracebench-json=deferred.json")
    deferred.assert_outcomes(passed=3)
    # Nothing asked for a score while the tests ran: none was computed then.
    deferred.stdout.fnmatch_lines(["ON-REPORT test_traced.py::test_agent[[]0[]] False"])
    per_test = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--tracebench",
                                             "--tracebench-min-score=0",
                                             "--tracebench-json=per_test.json")
    per_test.assert_outcomes(passed=3)
    per_test.stdout.fnmatch_lines(["ON-REPORT test_traced.py::test_agent[[]0[]] True"])
    first = _results(pytester.path / "deferred.json")
    assert len(first) == 3
    assert first == _results(pytester.path / "per_test.json")
    assert any(findings for _, _, findings in first)
