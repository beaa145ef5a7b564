"""Test evidence: ``failing_tests``, ``incomplete_resolution`` and ``regression``.

All three read the ``test`` steps (counts and failing ids parsed from the runner's output) and
the edits between them. A *baseline* run is one made while none of the agent's source edits was
in effect (before the first, or after reverting them, as careful agents do to check whether a
failure is theirs): failures seen there were there before the agent's change and are not held
against it. Runs of scripts the agent wrote itself are *ad hoc* checks, weaker than the
project's own tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..hookspecs import hookimpl
from ..models import Finding, Trace
from ._base import Detector
from ._view import TestRun, TraceView, view_of

_DOCS = re.compile(r"\.(?:md|rst|txt|adoc)$|(?:^|/)(?:README|CHANGELOG|LICENSE)[^/]*$", re.I)


def _ids(ids: frozenset[str] | set[str], limit: int = 5) -> str:
    items = sorted(ids)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class FailingTestsDetector(Detector):
    name = "failing_tests"
    category = "invalid_fixes"
    description = "Test runs that fail, with the failing test ids."
    thresholds = {"include_baseline": False}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        preexisting = view.preexisting_failures()
        changed = bool(view.source_edits())
        for run in view.tests:
            if run.ok is not False or run.timed_out:
                continue
            if not self.options["include_baseline"] and changed and (
                    run.baseline or (run.failing and not run.failing - preexisting)):
                # Failing before the change (the task itself), or only failures a baseline
                # run showed were already there: not the agent's doing.
                continue
            fixed_later = view.passes_later(run)
            count = run.failed if run.failed is not None else len(run.failing) or None
            what = f": {count} failing" if count else ""
            detail = f" ({_ids(run.failing)})" if run.failing else ""
            when = "after applying the fix" if not run.baseline else \
                "before any change" if not view.edited_between(-1, run.index) else \
                "with the change reverted"
            yield self.finding(
                f"Tests failed {when}{what}{detail}" +
                (" (fixed later in the run)." if fixed_later else "."),
                [run.index], severity="low" if fixed_later else "medium",
                failing=sorted(run.failing)[:50], failed=run.failed, command=run.target[:300],
                fixed_later=fixed_later)


class IncompleteResolutionDetector(Detector):
    name = "incomplete_resolution"
    category = "invalid_fixes"
    description = "The run ends with failing tests, an untested last change, tests that " \
                  "still fail after a partial fix, or the agent stopping mid-work without a " \
                  "final answer."
    thresholds = {"require_project_tests": True}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        edits = view.source_edits()
        preexisting = view.preexisting_failures()
        yield from self._ends_failing(view, preexisting, bool(edits))
        yield from self._abandoned(trace)
        edits = [e for e in edits if not _DOCS.search(e.path)]
        if edits:
            yield from self._unverified(view, edits[-1].index, edits[-1].path)
            yield from self._suite_never_completed(view, edits[-1].index)

    def _ends_failing(self, view: TraceView, preexisting: frozenset[str],
                      changed: bool) -> Iterator[Finding]:
        last: dict[str, TestRun] = {}
        first_fail: dict[str, TestRun] = {}
        for run in view.tests:
            if run.timed_out or run.ok is None:
                continue
            last[run.target] = run
            if run.ok is False and run.target not in first_fail:
                first_fail[run.target] = run
        for target, run in last.items():
            if run.ok is not False:
                continue
            if run.baseline and changed:
                continue  # the agent reverted its change to check: not the final state
            remaining = run.failing - preexisting
            if run.failing and not remaining:
                continue  # only failures shown to exist before the change
            first = first_fail.get(target)
            partial = first is not None and first.index != run.index and first.failing and \
                remaining and (first.failing - run.failing)
            if partial and first is not None:
                message = (f"Partial fix: {len(remaining)} of {len(first.failing - preexisting)}"
                           f" originally failing tests still fail at the end "
                           f"({_ids(remaining)}).")
            else:
                detail = f": {_ids(remaining)}" if remaining else ""
                message = f"The run ends with failing tests (step {run.index + 1}){detail}."
            yield self.finding(message, [run.index], severity="high", pattern="ends_failing"
                               if not partial else "partial_fix",
                               failing=sorted(remaining)[:50], command=target[:300])

    def _abandoned(self, trace: Trace) -> Iterator[Finding]:
        """An agent that talks normally ends with a conclusion (a final message or a
        submission). One whose last step is a tool result stopped in the middle of the work:
        the model gave up or was cut off, and nothing says the task is done."""
        if trace.end is None or not any(s.kind == "message" and
                                        (s.input or {}).get("role") == "assistant"
                                        for s in trace.steps):
            return
        last = next((s for s in reversed(trace.steps) if s.kind != "llm"
                     and not s.meta.get("unanswered")), None)
        if last is None or last.kind in ("message", "submit", "error"):
            return
        if last.output in (None, "", {}) and not last.error:
            return  # no observation came back for the agent to react to (aider's edits)
        yield self.finding(
            f"The agent stopped after step {last.index + 1} without a final answer or "
            f"submission: the work was left unfinished.", [last.index], severity="medium",
            step_kind="run", pattern="abandoned", last_step=f"{last.kind} {last.name}")

    def _unverified(self, view: TraceView, last_edit: int, path: str) -> Iterator[Finding]:
        if view.checked_after(last_edit):
            return
        never = not view.verifications
        yield self.finding(
            f"The last change to {path} (step {last_edit + 1}) was never tested"
            + (": no test or check ran in the whole run." if never else
               ": no test or check ran after it."),
            [last_edit], severity="medium", pattern="unverified_fix", path=path)

    def _suite_never_completed(self, view: TraceView, last_edit: int) -> Iterator[Finding]:
        project_after = [r for r in view.tests if r.index > last_edit and not view.is_adhoc(r)]
        timed_out = [r for r in project_after if r.timed_out]
        completed = [r for r in project_after if r.completed]
        if timed_out and not any(r.index > timed_out[-1].index for r in completed):
            run = timed_out[-1]
            yield self.finding(
                f"The test run at step {run.index + 1} timed out and no later run of the "
                f"project's tests completed; the change was only checked by the agent's own "
                f"scripts.", [run.index], severity="medium", pattern="suite_never_completed",
                command=run.target[:300])


class RegressionDetector(Detector):
    name = "regression"
    category = "invalid_fixes"
    description = "Tests that passed earlier in the run fail later, after a change."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        preexisting = view.preexisting_failures()
        previous: dict[str, TestRun] = {}
        for run in view.tests:
            before = previous.get(run.target)
            if run.completed:
                previous[run.target] = run
            if before is None or not run.completed or run.ok is not False or run.baseline:
                continue
            if not view.edited_between(before.index, run.index):
                continue  # nothing changed in between: that is flakiness, not a regression
            if before.ok:
                broken = run.failing - preexisting
            elif before.failing and run.failing:
                broken = run.failing - before.failing - preexisting
            else:
                continue
            if before.ok and run.failing and not broken:
                continue
            if not before.ok and not broken:
                continue
            following = view.next_run(run)
            fixed_later = view.passes_later(run) or (
                following is not None and following.completed and bool(following.failing)
                and not following.failing & broken)
            what = _ids(broken) if broken else "tests"
            yield self.finding(
                f"Regression: {what} passed at step {before.index + 1} and fail at step "
                f"{run.index + 1} after the agent's change" +
                (" (fixed later)." if fixed_later else "."), [before.index, run.index],
                severity="low" if fixed_later else "high", broken=sorted(broken)[:50],
                command=run.target[:300], fixed_later=fixed_later)


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [FailingTestsDetector(), IncompleteResolutionDetector(), RegressionDetector()]
