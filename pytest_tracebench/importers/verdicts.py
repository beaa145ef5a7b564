"""Verifier verdicts found beside imported trajectories, taken as the run's outcome.

A benchmark harness judges a run with tests the agent never saw and writes its verdict next to
the trajectory: SWE-bench's ``report.json`` (``resolved``, per-test results), the harness's own log
(``run_instance.log``, OpenHands' ``output.swebench_eval.logs/``: its ``report: {...}`` line),
Terminal-Bench 1's ``results.json`` (``is_resolved``, per-test results), Harbor's
``result.json`` (the verifier's reward), a ``verdict.json``/``DERIVED_verdict.json`` that
restates a run's ``resolved``, and, last, a table of runs (``index.csv`` with ``run_id`` and
``resolved`` columns) in a folder above. ``tracebench analyze`` and ``tracebench calibrate``
read them, so that the pass rate and the outcome
part of the score come from the verifier, as a pytest test's outcome does under
``pytest --tracebench``. The detectors never see them: findings are judged from the trajectory
alone, which is what makes their agreement with the verdicts a measurement.

A verdict is taken only when it says whose it is: a SWE-bench report of one instance in the
folder named after that instance (the harness's layout, and mini-swe-agent's), or keyed by the
trace's instance id; a Harbor ``result.json`` whose ``trial_name`` is its folder's name (the
trajectory in that folder or in its ``agent/``). A trajectory that already carries a verdict of
its own keeps it.
"""

from __future__ import annotations

import ast
import csv
import functools
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_tracebench.models import Trace

#: Outcome keys that already say how the run went: a trace with one keeps its own verdict.
_VERDICT_KEYS = ("passed", "reward", "resolved")
_MAX_BYTES = 64 << 20  # a verdict file is small; a larger one is not read


def _read_json(path: Path) -> Any:
    """The file's JSON value, or ``None``. Several trajectories of one folder share its
    verdict file (a report keyed by instance id), so it is parsed once per version of it."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_BYTES:
        return None
    return _parse(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _parse(path: str, mtime_ns: int, size: int) -> Any:
    """(``mtime_ns`` and ``size`` are the cache key: a rewritten file is read again.) Callers
    only read the value."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _harbor_result(path: Path) -> dict[str, Any] | None:
    """Harbor's ``result.json``: ``verifier_result.rewards.reward`` of the trial whose folder
    it is in."""
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("trial_name") != path.parent.name or \
            not isinstance(data.get("verifier_result"), dict):
        return None
    rewards = data["verifier_result"].get("rewards")
    value = rewards.get("reward") if isinstance(rewards, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        return None
    return {"passed": value >= 1.0, "reward": float(value)}


@dataclass(frozen=True)
class Verdict:
    """What a verifier decided about one run, and, where it says, about each hidden test."""

    resolved: bool
    file: str
    """The file the verdict was read from."""
    reader: str
    """Which shape it was read as (``swe-bench-report``, ``harness-log``, ``terminal-bench``,
    ``harbor``, ``verdict-file``, ``run-table``)."""
    reward: float | None = None
    fail_to_pass_failed: tuple[str, ...] | None = None
    """The FAIL_TO_PASS tests (the ones the fix must make pass) that still failed; ``None``
    when the verifier gives no per-test detail."""
    pass_to_pass_failed: tuple[str, ...] | None = None
    """The PASS_TO_PASS tests (passing before the change) that failed after it."""
    tests_failed: tuple[str, ...] | None = None
    """Hidden tests that failed, where the verifier does not split them (Terminal-Bench)."""
    ctrf_failed: tuple[str, ...] | None = None
    """The failed tests of Harbor's ``ctrf.json``: shown with the verdict (as the outcome's
    ``tests_failed``), not yet part of what ``tracebench calibrate`` measures."""
    failure: str | None = None
    """The failed hidden tests' own failure text, where the verifier keeps it (CTRF's
    ``trace``)."""

    def outcome(self) -> dict[str, Any]:
        """The outcome keys a trace's end record takes."""
        keys: dict[str, Any] = {"passed": self.resolved}
        if self.reader == "harbor" and self.reward is not None:
            keys["reward"] = self.reward
        else:
            keys["resolved"] = self.resolved
        keys["verdict_file"] = self.file
        # What decided it, where the verifier says: the hidden tests that failed (shown in
        # the dashboard; no detector reads them).
        for key, tests in (("fail_to_pass_failed", self.fail_to_pass_failed),
                           ("pass_to_pass_failed", self.pass_to_pass_failed),
                           ("tests_failed", self.tests_failed or self.ctrf_failed)):
            if tests:
                keys[key] = list(tests)
        if self.failure:
            keys["failure"] = self.failure
        return keys


_FAILURE_CHARS = 8_000


def _ctrf(path: Path) -> tuple[tuple[str, ...], str | None] | None:
    """The failed tests of a CTRF report (Harbor's ``ctrf.json`` beside its ``result.json``)
    and their failure text (each test's ``trace``, cut at ``_FAILURE_CHARS``)."""
    data = _read_json(path) if path.is_file() else None
    results = data.get("results") if isinstance(data, dict) else None
    tests = results.get("tests") if isinstance(results, dict) else None
    if not isinstance(tests, list):
        return None
    failed = [t for t in tests if isinstance(t, dict) and t.get("status") == "failed"]
    names = tuple(str(t.get("name")) for t in failed)
    text = "\n\n".join(f"{t.get('name')}\n{t['trace']}" for t in failed
                        if isinstance(t.get("trace"), str) and t["trace"])
    return names, (text[:_FAILURE_CHARS] or None)


def _tests_status(report: dict[str, Any]) -> tuple[tuple[str, ...] | None,
                                                    tuple[str, ...] | None]:
    status = report.get("tests_status")
    if not isinstance(status, dict):
        return None, None

    def failed(key: str) -> tuple[str, ...] | None:
        group = status.get(key)
        if not isinstance(group, dict) or not isinstance(group.get("failure"), list):
            return None
        return tuple(str(t) for t in group["failure"])

    return failed("FAIL_TO_PASS"), failed("PASS_TO_PASS")


def _report_verdict(report: Any, file: Path, reader: str) -> Verdict | None:
    if not isinstance(report, dict) or not isinstance(report.get("resolved"), bool) or \
            not ("tests_status" in report or "patch_exists" in report):
        return None
    f2p, p2p = _tests_status(report)
    return Verdict(report["resolved"], str(file), reader, fail_to_pass_failed=f2p,
                   pass_to_pass_failed=p2p)


def _swe_bench_verdict(path: Path, names: set[str]) -> Verdict | None:
    data = _read_json(path)
    if not isinstance(data, dict):
        return None
    report: Any = data if path.parent.name in names else None
    if not isinstance(data.get("resolved"), bool):
        matches = [data[key] for key in names if key in data]
        report = matches[0] if len(matches) == 1 else None
    return _report_verdict(report, path, "swe-bench-report")


_REPORT_LINE = re.compile(r"(?:\[(?P<who>[^\]]+)\] )?report: (?P<report>\{.*\})\s*$", re.M)
_RESULT_LINE = re.compile(r"Result for (?P<who>\S+): resolved: (?P<resolved>True|False)")
_LOG_BYTES = 16 << 20


def _harness_log(path: Path, names: set[str]) -> Verdict | None:
    """The SWE-bench harness's own log of one instance: its ``report: {...}`` line (a Python
    literal, read with ``ast.literal_eval``, which evaluates no code) or, failing that, its
    ``Result for ID: resolved: BOOL`` line."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > _LOG_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for match in reversed(list(_REPORT_LINE.finditer(text))):
        try:
            value = ast.literal_eval(match.group("report"))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        who = match.group("who")
        if isinstance(value, dict) and not isinstance(value.get("resolved"), bool):
            keyed = [value[key] for key in names if key in value]
            value = keyed[0] if len(keyed) == 1 else None
        elif who is not None and who not in names:
            continue
        verdict = _report_verdict(value, path, "harness-log")
        if verdict is not None:
            return verdict
    for match in reversed(list(_RESULT_LINE.finditer(text))):
        if match.group("who") in names:
            return Verdict(match.group("resolved") == "True", str(path), "harness-log")
    return None


def _terminal_bench(path: Path) -> Verdict | None:
    """Terminal-Bench 1's per-trial ``results.json``: ``is_resolved`` and ``parser_results``
    (each hidden test's ``passed``/``failed``), for the trial whose folder it is in."""
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("trial_name") != path.parent.name or \
            not isinstance(data.get("is_resolved"), bool):
        return None
    tests = data.get("parser_results")
    failed = tuple(sorted(str(k) for k, v in tests.items() if v != "passed")) \
        if isinstance(tests, dict) else None
    return Verdict(data["is_resolved"], str(path), "terminal-bench", tests_failed=failed)


def _verdict_file(path: Path, names: set[str]) -> Verdict | None:
    """A small ``{"instance_id": ..., "resolved": bool}`` file that restates the run's
    verdict (a benchmark's run-level resolved list, split per run)."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("resolved"), bool):
        return None
    who = data.get("instance_id") or data.get("task_id") or data.get("run_id")
    if who is not None and str(who) not in names and path.parent.name not in names:
        return None
    return Verdict(data["resolved"], str(path), "verdict-file")


def _run_table(folder: Path) -> Verdict | None:
    """A table of runs in a folder above: ``index.csv`` with ``run_id`` (the run's folder
    name) and ``resolved`` columns."""
    run = folder.name
    here = folder.parent
    for _ in range(3):
        table = here / "index.csv"
        rows = _read_table(str(table), *_stamp(table)) if table.is_file() else None
        if rows is not None and run in rows:
            return Verdict(rows[run], str(table), "run-table")
        if here.parent == here:
            break
        here = here.parent
    return None


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return 0, 0
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=16)
def _read_table(path: str, mtime_ns: int, size: int) -> dict[str, bool] | None:
    if size > _MAX_BYTES:
        return None
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "run_id" not in reader.fieldnames or \
                    "resolved" not in reader.fieldnames:
                return None
            rows = {}
            for row in reader:
                value = (row.get("resolved") or "").strip().lower()
                if value in ("true", "1", "yes"):
                    rows[row["run_id"]] = True
                elif value in ("false", "0", "no"):
                    rows[row["run_id"]] = False
            return rows
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


#: Sub-folders a harness puts the agent's own files in: the verdict is one level up.
_AGENT_FOLDERS = frozenset({"agent", "sessions", "llm_completions", "logs"})


def read_verdict(path: Path, trace: Trace) -> Verdict | None:
    """The verifier's verdict beside ``path`` (a trajectory file or a run folder) for
    ``trace``, from the most specific file that names the run; ``None`` when there is none."""
    task = trace.header.task
    return verdict_for(path, [i for i in (task.id, task.name) if isinstance(i, str) and i])


def verdict_for(path: Path, task_names: list[str]) -> Verdict | None:
    """:func:`read_verdict` for a run known by its task's id or name (an analysed result)."""
    folder = path if path.is_dir() else path.parent
    if folder.name in _AGENT_FOLDERS:  # Harbor's TRIAL/agent/, Terminal-Bench's sessions/
        folder = folder.parent
    names = {n for n in task_names if n}
    names.add(path.name.split(".", 1)[0])  # django__django-11179.traj.json
    verdict = _swe_bench_verdict(folder / "report.json", names)
    if verdict is None:
        logs = [folder / "run_instance.log"]
        eval_logs = folder / "output.swebench_eval.logs"
        logs += sorted(eval_logs.glob("*.log")) if eval_logs.is_dir() else []
        for log in logs:
            verdict = _harness_log(log, names) if log.is_file() else None
            if verdict is not None:
                break
    if verdict is None:
        verdict = _terminal_bench(folder / "results.json")
    if verdict is None:
        harbor = _harbor_result(folder / "result.json")
        if harbor is not None:
            tests = _ctrf(folder / "ctrf.json")
            verdict = Verdict(bool(harbor["passed"]), str(folder / "result.json"), "harbor",
                              reward=harbor["reward"], ctrf_failed=tests[0] if tests else None,
                              failure=tests[1] if tests else None)
    for name in ("verdict.json", "DERIVED_verdict.json"):
        if verdict is None:
            verdict = _verdict_file(folder / name, names)
    if verdict is None:
        verdict = _run_table(folder)
    return verdict


def find_verdict(path: Path, trace: Trace) -> dict[str, Any] | None:
    """The verdict beside ``path`` (a trajectory file or folder) for ``trace``, as outcome
    keys (``passed``, ``resolved`` or ``reward``, and ``verdict_file``); ``None`` when there
    is none."""
    verdict = read_verdict(path, trace)
    return verdict.outcome() if verdict is not None else None


def with_verdict(path: Path, trace: Trace, shown: Path | None = None) -> Trace:
    """``trace`` with the verdict beside ``path`` in its end record's outcome, unless it has
    no end record (an aborted run stays aborted) or a verdict of its own. ``shown`` is the
    path as the user gave it (``path`` may be joined to a worker's base folder): the
    ``verdict_file`` is named from there."""
    end = trace.end
    if end is None or any(key in end.outcome for key in _VERDICT_KEYS):
        return trace
    verdict = find_verdict(path, trace)
    if verdict is None:
        return trace
    if shown is not None and shown != path:
        folder = path if path.is_dir() else path.parent
        shown_folder = shown if path.is_dir() else shown.parent
        relative = os.path.relpath(verdict["verdict_file"], folder)
        verdict["verdict_file"] = os.path.normpath(os.path.join(shown_folder, relative))
    trace.end = end.model_copy(update={"outcome": {**end.outcome, **verdict}})
    return trace
