"""Every verdict of the development corpus is read from the files beside its run.

The corpus's ``corpus_index.csv`` states each run's verdict; the readers must find the same
from the verifier's own files (SWE-bench reports and harness logs, Terminal-Bench results,
restated verdicts), with per-test detail where the verifier gives it.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from pytest_tracebench.importers.verdicts import read_verdict
from pytest_tracebench.models import TaskInfo, Trace, TraceHeader
from tests._corpus import DEV, needs_corpus


def _trajectory(run: Path, row: dict[str, str]) -> Path:
    first = (row.get("trajectory_file") or "").split(";")[0].strip()
    return run / first if first and (run / first).is_file() else run


@needs_corpus
def test_the_readers_agree_with_the_corpus_index() -> None:
    readers: Counter[tuple[str, str]] = Counter()
    per_test: Counter[str] = Counter()
    wrong = []
    rows = list(csv.DictReader(open(DEV / "corpus_index.csv", encoding="utf-8")))
    assert len(rows) == 752
    for row in rows:
        source = DEV / row["source"]
        local = {r["run_id"]: r for r in csv.DictReader(open(source / "index.csv",
                                                               encoding="utf-8"))}
        facts = local[row["run_id"]]
        task = facts.get("instance_id") or facts.get("task_id") or row["run_id"]
        trace = Trace(header=TraceHeader(trace_id="t", task=TaskInfo(id=task)))
        verdict = read_verdict(_trajectory(source / row["run_id"], facts), trace)
        assert verdict is not None, row
        readers[(row["source"], verdict.reader)] += 1
        if verdict.fail_to_pass_failed is not None or verdict.tests_failed is not None:
            per_test[row["source"]] += 1
        if verdict.resolved != (row["resolved"] == "True"):
            wrong.append(row["run_id"])
    assert wrong == []
    # The verifier's own files decide wherever they exist; the run table only fills in runs
    # with no file of their own (empty patches the harness never ran, a cut-off eval log).
    assert readers[("sweagent-0.x-swebench-java-5models", "run-table")] == 16
    assert readers[("openhands-codeact-v0.15-claude35sonnet-swebv", "run-table")] == 2
    assert sum(n for (_, reader), n in readers.items() if reader == "run-table") == 18
    assert per_test == {"live-swe-agent-gpt5mini-swebv-subset": 33,
                        "minisweagent-2.2.7-deepseekchat-swebench-lite": 60,
                        "openhands-codeact-v0.15-claude35sonnet-swebv": 48,
                        "sweagent-0.x-swebench-java-5models": 134,
                        "codex-o4mini-usaco-terminalbench-adapter": 120,
                        "minisweagent-1.x-claudesonnet4-terminalbench-core": 59}


@needs_corpus
def test_a_harness_log_gives_the_failing_hidden_tests() -> None:
    run = DEV / "sweagent-0.x-swebench-java-5models" / "deepseek-chat-v2__apache__dubbo-11781"
    trace = Trace(header=TraceHeader(trace_id="t", task=TaskInfo(id="apache__dubbo-11781")))
    verdict = read_verdict(run / "apache__dubbo-11781.traj", trace)
    assert verdict is not None and verdict.reader == "harness-log"
    assert verdict.resolved is False
    assert verdict.fail_to_pass_failed == ("dubbo-common:org.apache.dubbo.common.URLTest",)
    assert verdict.pass_to_pass_failed == ()
