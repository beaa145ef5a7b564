"""Behaviour features: how a run went, as numbers the score weighs.

Findings say that something went wrong; features describe how the agent worked: how long the
run was, how much it had to say, how large its change is, how often its actions failed,
whether it checked its last change. Each is read from the trajectory alone (never from the
verdict, never from the task's identity), has a name a person can read in a score breakdown,
and a value that is either 0/1 (the run did it or not), a share, or a count on a log scale
(runs of every agent differ by orders of magnitude).

On 752 verified runs of 9 agent/benchmark sources (docs/detectors.md has each feature's
AUROC per source) the features that rank runs the same way across sources are effort (more
actions: a harder struggle), the size of the change, failed actions, a limit reached, and
checking the last change; the score model weighs them with the detectors' findings. Others are
measured and reported but not weighed (``candidate``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pytest_tracebench.detectors.claims import closing_doubt
from pytest_tracebench.detectors.testing import final_patch, is_diff
from pytest_tracebench.detectors.view import TraceView, is_test_path, view_of
from pytest_tracebench.models import Trace
from pytest_tracebench.usage import trace_tokens

_LIMIT_STATUS = re.compile(r"cost|limit|context|timeout|time_out|max_?steps|exhaust", re.I)
_DOCS = re.compile(r"\.(?:md|rst|txt|adoc)$|(?:^|/)(?:README|CHANGELOG|LICENSE)[^/]*$", re.I)
_SCRATCH_SUFFIX = re.compile(r"\.(?:bak\d*|orig|rej|backup|old|new|tmp|swp)$|~$", re.I)


@dataclass(frozen=True)
class Feature:
    """One behaviour feature: its name, what it means, and how its value is shown."""

    name: str
    description: str
    scale: str = "flag"
    """``flag`` (0 or 1), ``share`` (0 to 1) or ``log`` (``log(1 + count)``, shown as the
    count)."""
    candidate: bool = False
    """Measured and reported by ``tracebench calibrate``, but not weighed by the score: on the
    development corpus it did not rank runs the same way across sources."""

    def shown(self, value: float) -> str:
        """The value as a person reads it in a breakdown."""
        if self.scale == "log":
            return f"{round(math.expm1(value))}"
        if self.scale == "share":
            return f"{100 * value:.0f}%"
        return "yes" if value else "no"


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("actions", "actions the agent took (commands, reads, edits, test runs)", "log"),
    Feature("change_lines", "lines its change adds or removes in files that existed before "
                            "the run", "log"),
    Feature("failed_share", "share of its actions that failed (non-zero exit, error, timeout)",
            "share"),
    Feature("ended_by_limit", "the run was stopped by a step, cost, context or time limit"),
    Feature("checked_last_change", "a test or check ran after its last change"),
    Feature("ends_passing", "the last test run after its last change passed"),
    Feature("project_tests_after_change", "a test of the project's own suite (not a script "
                                          "of the agent's) ran after its last change",
            candidate=True),
    Feature("own_checks_only", "every check after its last change ran scripts the agent "
                               "wrote itself", candidate=True),
    Feature("closing_doubt", "its closing message doubts the fix (uncertain_fix's "
                             "closing_doubt)", candidate=True),
    Feature("words", "words the agent wrote in its messages: within every source, wordier runs "
                     "pass less often, but how much an agent writes is its model's habit, and "
                     "weighed it ranked runs of agents outside the corpus backwards",
            "log", candidate=True),
    Feature("tokens", "model tokens the run used (where the trajectory records them): within "
                      "a source, costlier runs pass less often, but token counts grow with a "
                      "model's context habits, as words do", "log", candidate=True),
)}
#: The features the score weighs (the others are measured only).
WEIGHED: tuple[str, ...] = tuple(name for name, f in FEATURES.items() if not f.candidate)


def behaviour_features(trace: Trace, view: TraceView | None = None) -> dict[str, float]:
    """The features of one run, by name (every name of :data:`FEATURES`; ``words`` is left
    out when the trajectory records no text of the agent's, ``change_lines`` when the run
    changed no file that existed before it, ``tokens`` when it records no token counts)."""
    view = view or view_of(trace)
    actions = view.actions
    source_edits = view.source_edits()
    last_edit = source_edits[-1].index if source_edits else None
    status = trace.end.status if trace.end is not None else "aborted"
    exit_status = str(trace.end.outcome.get("exit_status") or "") if trace.end else ""
    limited = status == "timeout" or bool(_LIMIT_STATUS.search(exit_status))
    words = sum(len(text.split()) for text, role in zip(view.message_texts, view.message_roles,
                                                         strict=True) if role == "assistant")
    lines = _change_size(trace, view)
    after = [t for t in view.tests if last_edit is not None and t.index > last_edit
             and t.completed]
    said = any(role == "assistant" and text for text, role in
               zip(view.message_texts, view.message_roles, strict=True))
    features = {
        "actions": math.log1p(len(actions)),
        "words": math.log1p(words),
        "change_lines": math.log1p(lines),
        "failed_share": round(len(view.error_sig) / len(actions), 4) if actions else 0.0,
        "ended_by_limit": float(limited),
        "checked_last_change": float(last_edit is not None and view.checked_after(last_edit)),
        "ends_passing": float(bool(after) and after[-1].ok is True),
    }
    checks = [i for i in view.verifications if last_edit is not None and i > last_edit]
    features["project_tests_after_change"] = float(any(not view.is_adhoc(t) for t in after))
    features["own_checks_only"] = float(bool(checks) and all(_own(view, i) for i in checks))
    features["closing_doubt"] = float(_closing_doubt(view))
    tokens = trace_tokens(trace)
    features["tokens"] = math.log1p(tokens)
    if not tokens:
        del features["tokens"]  # not recorded: says nothing
    if not said:
        # A trajectory that records none of the agent's text (some exports strip it) says
        # nothing of how much it talked.
        del features["words"]
    if not lines:
        # No change to a file that existed before the run: a new program, a run whose work
        # is commands, or no work at all (no_change's business). Size says nothing there.
        del features["change_lines"]
    return features


def _own(view: TraceView, index: int) -> bool:
    """A check that ran a file the agent created (a reproduction script, its own test)."""
    text = view.texts.get(index, "")
    return any(name in text for name in {c.replace("\\", "/").rsplit("/", 1)[-1]
                                         for c in view.created if c not in view.deliverables})


def _closing_doubt(view: TraceView) -> bool:
    return closing_doubt(view) is not None


def _change_size(trace: Trace, view: TraceView) -> int:
    """Lines added plus removed by the run's change to files that existed before it: from the
    submitted patch when the run records one, else from its edits."""
    patch = final_patch(trace)
    if patch is not None and is_diff(patch):
        lines = 0
        for section in re.split(r"(?=^diff --git )", patch, flags=re.M):
            head = section[:600]
            match = re.match(r"diff --git a/(\S+) b/(\S+)", section)
            if match is None or "\nnew file mode" in head or not _counts(match.group(2)):
                continue
            changed = sum(1 for line in section.splitlines()
                          if line[:1] in "+-" and not line.startswith(("+++", "---")))
            lines += changed
        return lines
    lines = 0
    for edit in view.source_edits():
        if edit.path in view.created or not _counts(edit.path):
            continue
        lines += len(edit.added.splitlines()) + len(edit.removed.splitlines())
    return lines


def _counts(path: str) -> bool:
    """A file whose change is the work: not a test, a doc or a backup copy."""
    return not (is_test_path(path) or _DOCS.search(path) or _SCRATCH_SUFFIX.search(path))
