from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.agents import AgentLoadError, load_agent
from pytest_tracebench.agents.repair import RepairAgent

from .conftest import REPO

TASKS = REPO / "benchmarks" / "tasks"


def _hidden(workspace: Path, task: Path) -> int:
    shutil.copytree(task / "hidden", workspace / "_hidden")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "_hidden"], cwd=workspace, capture_output=True, timeout=120).returncode


@pytest.mark.parametrize(("name", "solved"), [("config_merge", True),
                                              ("unsolvable_parser", False)])
def test_repair_agent_really_repairs_or_really_fails(tmp_path: Path, name: str,
                                                    solved: bool) -> None:
    task = TASKS / name
    workspace = tmp_path / name
    shutil.copytree(task / "repo", workspace)
    rec = TraceRecorder(None)
    claimed = RepairAgent().solve((task / "issue.md").read_text(), workspace, rec)
    rec.end()
    assert claimed is solved
    assert (_hidden(workspace, task) == 0) is solved
    kinds = [s.kind for s in rec.steps]
    assert kinds[1] == "test" and kinds[-1] == "submit"
    if solved:
        assert "edit" in kinds and rec.steps[-1].input["patch"].startswith("--- a/config.py")


def test_load_agent_errors() -> None:
    assert load_agent("repair").name == "repair"
    with pytest.raises(AgentLoadError, match="unknown agent 'nope'"):
        load_agent("nope")
    with pytest.raises(AgentLoadError, match="cannot load agent 'no_module_x:Agent'"):
        load_agent("no_module_x:Agent")


def test_two_agents_in_one_session_are_compared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        my_agents="""
        class Careful:
            name = "careful"
            def solve(self, issue, workspace, trace):
                trace.set_agent("careful")
                trace.read("app.py", content="x")
                trace.edit("app.py", old="x", new="y")
                trace.test_run(passed=3, command="pytest")
                trace.submit("diff")
                return True

        class Sloppy:
            name = "sloppy"
            def solve(self, issue, workspace, trace):
                trace.set_agent("sloppy")
                trace.edit("app.py", old="x", new="y")
                trace.message("All tests pass.")
                trace.submit("diff")
                return True
        """,
        test_bench="""
        import pytest

        @pytest.mark.parametrize("task", ["a", "b"])
        def test_task(task, trace, agent, tmp_path):
            trace.set_task(id=task)
            assert agent.solve("fix it", tmp_path, trace)
        """,
    )
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(
        "--tracebench", "--tracebench-agent=my_agents:Careful",
        "--tracebench-agent=my_agents:Sloppy", "--tracebench-json=report.json",
        "--tracebench-html=dash.html")
    result.assert_outcomes(passed=4)
    report = json.loads((pytester.path / "report.json").read_text())
    by_agent = {}
    for r in report["results"]:
        by_agent.setdefault(r["agent"], []).append(r["score"]["value"])
    assert set(by_agent) == {"careful", "sloppy"}
    assert min(by_agent["careful"]) > max(by_agent["sloppy"])
    result.stdout.fnmatch_lines(["*test_task?Careful-a?*", "*false_success_claim*"])
    assert (pytester.path / "dash.html").exists()
