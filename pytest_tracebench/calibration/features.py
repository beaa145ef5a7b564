"""Behaviour features: what a run did, as numbers the score weighs.

Findings say that something went wrong; features describe how the agent worked — how long the
run was, whether the last change was ever checked, whether the checks were the project's own
tests or scripts the agent wrote for itself, how often its actions failed. Each feature is read
from the trajectory alone (never from the verdict, never from the task's identity), has a name
a person can read in a score breakdown, and a value that is either 0/1 (the run did it or not)
or a count on a log scale (long runs of every agent differ by orders of magnitude).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..detectors._view import TraceView, is_test_path, view_of
from ..models import Trace

_TEST_STEP_WORDS = re.compile(r"\b(?:pytest|unittest|runtests|tox|nox|go test|cargo test|"
                              r"mvn|gradle|jest|vitest|mocha|rspec|phpunit|ctest|npm test|"
                              r"yarn test|pnpm test|bin/test|manage\.py test)\b")
_LIMIT_STATUS = re.compile(r"cost|limit|context|timeout|time_out|max_?steps|exhaust", re.I)


@dataclass(frozen=True)
class Feature:
    """One behaviour feature: its name, what it means, and how its value is shown."""

    name: str
    description: str
    scale: str = "flag"
    """``flag`` (0 or 1) or ``log`` (``log(1 + count)``, shown as the count)."""

    def shown(self, value: float) -> str:
        """The value as a person reads it in a breakdown."""
        if self.scale == "log":
            return f"{round(math.expm1(value))}"
        return "yes" if value else "no"


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("actions", "number of actions (commands, reads, edits, test runs)", "log"),
    Feature("failed_actions", "actions that failed (non-zero exit, error, timeout)", "log"),
    Feature("ended_by_limit", "the run was stopped by a step, cost, context or time limit"),
    Feature("no_submission", "the run ended without a submission"),
    Feature("no_source_edit", "no file that existed before the run was changed"),
    Feature("files_changed", "source files changed", "log"),
    Feature("edits", "changes to source files", "log"),
    Feature("test_runs", "runs of a test suite", "log"),
    Feature("final_edit_unchecked", "nothing was run after the last change to a source file"),
    Feature("final_edit_untested", "no test suite was run after the last change to a source "
                                   "file"),
    Feature("only_own_checks", "every check after the last change ran scripts the agent wrote "
                               "itself, never the project's tests"),
    Feature("ends_failing", "the last test run after the last change had failures"),
    Feature("ends_passing", "the last test run after the last change passed"),
    Feature("format_errors", "replies the agent's harness could not parse", "log"),
    Feature("repeated_actions", "actions that repeat an earlier one exactly", "log"),
)}


def behaviour_features(trace: Trace, view: TraceView | None = None) -> dict[str, float]:
    """The features of one run, by name (every name of :data:`FEATURES`)."""
    view = view or view_of(trace)
    actions = view.actions
    failed = len(view.error_sig)
    source_edits = view.source_edits()
    last_edit = source_edits[-1].index if source_edits else None
    status = trace.end.status if trace.end is not None else "aborted"
    exit_status = str(trace.end.outcome.get("exit_status") or "") if trace.end else ""
    limited = status == "timeout" or bool(_LIMIT_STATUS.search(exit_status))
    format_errors = sum(1 for s in actions if s.kind == "error" or s.name == "format_error")
    format_errors += sum(1 for s in trace.steps if s.kind == "error" and s.name == "format_error"
                         and s not in actions)
    seen: set[str] = set()
    repeats = 0
    for step in actions:
        sig = view.action_sig.get(step.index, "")
        if sig in seen:
            repeats += 1
        seen.add(sig)
    after = [t for t in view.tests if last_edit is not None and t.index > last_edit]
    judged = [t for t in after if t.completed]
    checks_after = [i for i in view.verifications if last_edit is not None and i > last_edit]
    own = [i for i in checks_after if _own_check(view, i)]
    suite_after = [t for t in after if not view.is_adhoc(t)]
    return {
        "actions": math.log1p(len(actions)),
        "failed_actions": math.log1p(failed),
        "ended_by_limit": float(limited),
        "no_submission": float(view.submit_index is None),
        "no_source_edit": float(not source_edits),
        "files_changed": math.log1p(len({e.path for e in source_edits})),
        "edits": math.log1p(len(source_edits)),
        "test_runs": math.log1p(len(view.tests)),
        "final_edit_unchecked": float(last_edit is not None and not checks_after),
        "final_edit_untested": float(last_edit is not None and not suite_after),
        "only_own_checks": float(bool(checks_after) and len(own) == len(checks_after)),
        "ends_failing": float(bool(judged) and judged[-1].ok is False),
        "ends_passing": float(bool(judged) and judged[-1].ok is True),
        "format_errors": math.log1p(format_errors),
        "repeated_actions": math.log1p(repeats),
    }


def _own_check(view: TraceView, index: int) -> bool:
    """A check that ran only what the agent created during the run (a reproduction script,
    a test file of its own), not the project's tests."""
    text = view.texts.get(index, "")
    words = {w.rsplit("/", 1)[-1] for w in _WORD.findall(text)}
    if any(c.rsplit("/", 1)[-1] in words for c in view.created):
        return True
    return not (_TEST_STEP_WORDS.search(text) or any(is_test_path(w) for w in words))


_WORD = re.compile(r"[\w./-]+")
