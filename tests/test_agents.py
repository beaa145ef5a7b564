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
    # A fixed score model (every run starts at 50, findings cost their severity points), so
    # the comparison does not move when the built-in model is refitted.
    (pytester.path / "model.json").write_text('{"version": 1, "intercept": 0, "terms": []}')
    result = pytester.runpytest_subprocess(
        "--tracebench", "--tracebench-agent=my_agents:Careful",
        "--tracebench-agent=my_agents:Sloppy", "--tracebench-json=report.json",
        "--tracebench-html=dash.html", "--tracebench-calibration=model.json")
    result.assert_outcomes(passed=4)
    report = json.loads((pytester.path / "report.json").read_text())
    by_agent = {}
    for r in report["results"]:
        by_agent.setdefault(r["agent"], []).append(r["score"]["value"])
    assert set(by_agent) == {"careful", "sloppy"}
    assert min(by_agent["careful"]) > max(by_agent["sloppy"])
    result.stdout.fnmatch_lines(["*test_task?Careful-a?*", "*false_success_claim*",
                                 "=== Agents ===", "careful *score 50*", "sloppy *score *"])
    assert set(report["summary"]["per_agent"]) == {"careful", "sloppy"}
    assert (pytester.path / "dash.html").exists()


FAKE_AGENT = r'''
import json, os, sys
# A stand-in external agent: it fixes the file and writes a mini-swe-agent trajectory.
text = open("config.py").read().replace("{**user, **defaults}", "{**defaults, **user}")
open("config.py", "w").write(text)
messages = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": os.environ["TRACEBENCH_ISSUE"]},
    {"role": "assistant",
     "content": "THOUGHT: swap the merge\n\n```bash\nsed -i 's/a/b/' config.py\n```"},
    {"role": "user", "content": "<returncode>0</returncode>\n<output>\n</output>"},
    {"role": "assistant", "content": "THOUGHT: done\n\n```bash\n"
     "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\n```"},
    {"role": "user", "content": "diff"},
]
json.dump({"trajectory_format": "mini-swe-agent-1", "messages": messages,
           "info": {"exit_status": "Submitted", "submission": "diff", "mini_version": "1.15.0"}},
          open(sys.argv[1], "w"))
'''


def test_command_agent_runs_an_external_agent_and_imports_its_trajectory(
        tmp_path: Path) -> None:
    from pytest_tracebench.agents.command import CommandAgent

    task = TASKS / "config_merge"
    workspace = tmp_path / "ws"
    shutil.copytree(task / "repo", workspace)
    script = tmp_path / "fake_agent.py"
    script.write_text(FAKE_AGENT)
    rec = TraceRecorder(None)
    agent = CommandAgent(command=f"{sys.executable} {script} {{trajectory}}",
                         trajectory="traj.json")
    assert agent.solve((task / "issue.md").read_text(), workspace, rec)
    rec.end()
    assert rec.header.agent.name == "mini-swe-agent"
    kinds = [s.kind for s in rec.steps]
    assert kinds == ["message", "edit", "message", "submit"]
    assert rec.steps[1].meta["imported"] == "mini-swe-agent"
    assert _hidden(workspace, task) == 0
    missing = TraceRecorder(None)
    assert not CommandAgent(command="true", trajectory="nothing.json").solve(
        "x", workspace, missing)
    assert "no readable trajectory" in (missing.steps[0].error or "")


def test_repeated_runs_give_pass_at_k_and_score_spread(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flaky="""
        import itertools
        COUNTER = itertools.count()

        def test_sometimes(trace):
            n = next(COUNTER)
            trace.test_run(passed=1, failed=n % 2, command="pytest")
            assert n % 2 == 0, "this run failed"
    """)
    result = pytester.runpytest_subprocess("--tracebench", "--tracebench-repeat=4",
                                           "--tracebench-json=r.json", "-v")
    result.assert_outcomes(passed=2, failed=2)
    summary = json.loads((pytester.path / "r.json").read_text())["summary"]
    assert summary["pass_at_k"] == {"1": 0.5, "4": 1.0}
    (spread,) = summary["score_spread"].values()
    assert spread["runs"] == 4 and spread["min"] < spread["max"]
    result.stdout.fnmatch_lines(["*pass@1 0.50, pass@4 1.00*", "*score spread*"])


def test_pass_at_k_estimator() -> None:
    from pytest_tracebench.score.summary import pass_at_k

    assert pass_at_k(5, 0, 1) == 0.0
    assert pass_at_k(5, 5, 1) == 1.0
    assert pass_at_k(4, 1, 1) == 0.25
    assert pass_at_k(4, 1, 4) == 1.0
    assert round(pass_at_k(10, 3, 5), 4) == round(1 - 21 / 252, 4)
