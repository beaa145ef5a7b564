"""Verifier verdicts found beside imported trajectories, taken as the run's outcome.

A benchmark harness judges a run with tests the agent never saw and writes its verdict next to
the trajectory: SWE-bench's ``report.json`` (``resolved``) and Harbor's ``result.json`` (the
verifier's reward). ``tracebench analyze`` reads them, so that the pass rate and the outcome
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

import functools
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from .models import Trace

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


def _swe_bench(path: Path, names: set[str]) -> dict[str, Any] | None:
    """``report.json`` of the SWE-bench harness: one instance's report in the folder named
    after the instance, or reports keyed by instance id."""
    data = _read_json(path)
    if not isinstance(data, dict):
        return None
    report: Any = data if path.parent.name in names else None
    if not isinstance(data.get("resolved"), bool):
        matches = [data[key] for key in names if key in data]
        report = matches[0] if len(matches) == 1 else None
    if not isinstance(report, dict) or not isinstance(report.get("resolved"), bool) or \
            not ("tests_status" in report or "patch_exists" in report):
        return None
    return {"passed": report["resolved"], "resolved": report["resolved"]}


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


def find_verdict(path: Path, trace: Trace) -> dict[str, Any] | None:
    """The verdict beside ``path`` (a trajectory file or folder) for ``trace``, as outcome
    keys (``passed``, ``resolved`` or ``reward``, and ``verdict_file``); ``None`` when there
    is none."""
    folder = path if path.is_dir() else path.parent
    task = trace.header.task
    names = {i for i in (task.id, task.name) if isinstance(i, str) and i}
    names.add(path.name.split(".", 1)[0])  # django__django-11179.traj.json
    trial = folder.parent if folder.name == "agent" else folder  # Harbor: TRIAL/agent/...
    verdict = _swe_bench(folder / "report.json", names)
    source = folder / "report.json"
    if verdict is None:
        verdict, source = _harbor_result(trial / "result.json"), trial / "result.json"
    if verdict is not None:
        verdict["verdict_file"] = str(source)
    return verdict


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
