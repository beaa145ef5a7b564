"""Under load, no trace is lost, duplicated, interleaved or mis-attributed — checked by content.

2,000 tests under ``-n 2`` each record steps whose text names the test; afterwards every trace
file must hold exactly its own test's steps, in order, and nothing else. Separately, several
processes append to their own traces in the same directory at once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_tracebench import load_trace

pytest_plugins = ["pytester"]

TESTS = 2_000
STEPS = 6


def test_two_thousand_tests_under_xdist_keep_their_own_steps(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_many=textwrap.dedent(f"""
        import pytest

        @pytest.mark.parametrize("n", range({TESTS}))
        def test_task(trace, n):
            trace.set_task(id=f"task-{{n}}")
            for i in range({STEPS}):
                trace.command(f"echo {{n}}-{{i}}", exit_code=0, stdout=f"out {{n}}-{{i}} " * 20)
    """))
    result = pytester.runpytest_subprocess("--tracebench", "-n", "2", "-p", "no:cacheprovider",
                                           "-q")
    result.assert_outcomes(passed=TESTS)
    files = sorted((pytester.path / ".tracebench" / "traces").glob("*.jsonl"))
    assert len(files) == TESTS
    seen: set[int] = set()
    for path in files:
        trace = load_trace(path)
        assert not trace.warnings, trace.warnings
        n = int(trace.header.task.id.removeprefix("task-"))
        assert trace.header.task.nodeid is not None and trace.header.task.nodeid.endswith(
            f"[{n}]")
        assert [s.input["command"] for s in trace.steps] == [  # type: ignore[index]
            f"echo {n}-{i}" for i in range(STEPS)]
        assert all(s.output["stdout"] == f"out {n}-{s.index} " * 20  # type: ignore[index]
                   for s in trace.steps)
        assert n not in seen
        seen.add(n)
    assert seen == set(range(TESTS))


WRITER = textwrap.dedent("""
    import sys
    from pytest_tracebench import TraceRecorder

    name, count = sys.argv[1], int(sys.argv[2])
    rec = TraceRecorder(sys.argv[3], task=name, agent="writer")
    for i in range(count):
        rec.command(f"{name} {i}", exit_code=0, stdout=(name + " ") * (i % 50 + 1))
    rec.end()
""")


def test_concurrent_writers_do_not_interleave(tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{k}", "500",
                               str(tmp_path / f"w{k}.jsonl")]) for k in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    for k in range(6):
        trace = load_trace(tmp_path / f"w{k}.jsonl")
        assert not trace.warnings
        assert [s.input["command"] for s in trace.steps] == [  # type: ignore[index]
            f"w{k} {i}" for i in range(500)]
        assert all(s.output["stdout"] == f"w{k} " * (s.index % 50 + 1)  # type: ignore[index]
                   for s in trace.steps)
