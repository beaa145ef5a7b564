"""Test evidence and the work itself: ``failing_tests``, ``incomplete_resolution``,
``no_change`` and ``regression``.

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

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors.view import TestRun, TraceView, is_test_path, same_path, view_of
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Trace

_DOCS = re.compile(r"\.(?:md|rst|txt|adoc)$|(?:^|/)(?:README|CHANGELOG|LICENSE)[^/]*$", re.I)


_ASKED = re.compile(
    r"\b(?:save|write|store|output|put|create|produce|generate|place|dump)\w*\b[^.\n]{0,80}?"
    r"[`'\"]?((?:/?[\w.-]+/)*[\w-]+\.(?:py|txt|json|jsonl|csv|tsv|md|sh|c|cc|cpp|h|hpp|java|"
    r"js|ts|go|rs|rb|php|html|css|ya?ml|toml|xml|ini|cfg|conf|out|log|sql|db|sqlite|parquet|"
    r"npy|npz|pkl|pt|bin|dat|png|jpe?g|svg|pdf|tar|gz|zip|wav|mp4|ipynb|r|jl|hs|ml|ex|kt|"
    r"swift|lua|pl))\b[`'\"]?", re.I)
_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.M)


def asked_files(description: str) -> list[str]:
    """File names the task asks the agent to write (``Save your solution as solution.py``,
    ``write the result to /app/out.txt``), by their base names."""
    names = {m.group(1).rsplit("/", 1)[-1] for m in _ASKED.finditer(description)}
    return sorted(n for n in names if not n.lower().endswith((".com", ".org", ".io")))


def is_diff(patch: str | None) -> bool:
    """A submitted patch in git's diff form (or empty: a submission of nothing)."""
    return patch is not None and (not patch.strip() or bool(_DIFF_FILE.search(patch)))


def final_patch(trace: Trace) -> str | None:
    """The patch the run submitted (a ``submit`` step's ``patch``), if it records one."""
    for step in reversed(trace.steps):
        if step.kind in ("submit", "error") and isinstance(step.input, dict) and \
                isinstance(step.input.get("patch"), str):
            return str(step.input["patch"])
    return None


def patch_files(patch: str, *, new: bool = False) -> list[str]:
    """Files a unified git diff changes: existing source files (not new files, tests or docs),
    or with ``new`` every file it names."""
    out = []
    for section in re.split(r"(?=^diff --git )", patch, flags=re.M):
        match = _DIFF_FILE.match(section)
        if match is None:
            continue
        path = match.group(2)
        if not new and ("\nnew file mode" in section[:400] or is_test_path(path)
                        or _DOCS.search(path)):
            continue
        out.append(path)
    return out


def _ids(ids: frozenset[str] | set[str], limit: int = 5) -> str:
    items = sorted(ids)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class FailingTestsDetector(Detector):
    name = "failing_tests"
    category = "invalid_fixes"
    description = "Test runs that fail after the agent's change, with the failing test ids " \
                  "(evidence for a reviewer; the run's final state is incomplete_resolution's)."
    thresholds = {"include_baseline": False}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        preexisting = view.preexisting_failures()
        changed = bool(view.source_edits())
        for run in view.tests:
            if run.ok is not False or run.timed_out or not run.completed:
                continue
            if not self.options["include_baseline"] and (
                    run.baseline or (run.failing and not run.failing - preexisting)):
                # Failing before the change (the bug being reproduced, as a good run does
                # first), or only failures a baseline run showed were already there.
                continue
            fixed_later = view.passes_later(run)
            adhoc = view.is_adhoc(run)
            count = run.failed if run.failed is not None else len(run.failing) or None
            what = f": {count} failing" if count else ""
            detail = f" ({_ids(run.failing)})" if run.failing else ""
            when = "after applying the fix" if changed and not run.baseline else \
                "before any change" if not view.edited_between(-1, run.index) else \
                "with the change reverted"
            whose = "The agent's own check failed" if adhoc else "Tests failed"
            yield self.finding(
                f"{whose} {when}{what}{detail}" +
                (" (fixed later in the run)." if fixed_later else "."),
                [run.index], severity="info",
                failing=sorted(run.failing)[:50], failed=run.failed, command=run.target[:300],
                fixed_later=fixed_later, adhoc=adhoc)


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
        yield from self._ends_failing(view, preexisting, edits[-1].index if edits else None)
        yield from self._abandoned(trace)
        edits = [e for e in edits if not _DOCS.search(e.path)]
        if edits:
            yield from self._unverified(view, edits[-1].index, edits[-1].path)
            yield from self._suite_never_completed(view, edits[-1].index)

    def _ends_failing(self, view: TraceView, preexisting: frozenset[str],
                      last_edit: int | None) -> Iterator[Finding]:
        """Judged once, on the final state: the last completed run of the project's own tests
        after the last change (the agent's scripts, and runs with the change stashed or
        reverted, are not the final state)."""
        if last_edit is None:
            return
        finals = [r for r in view.tests if r.index > last_edit and r.completed
                  and not r.baseline and not view.is_adhoc(r)]
        if not finals:
            return
        last_by_target: dict[str, TestRun] = {}
        for run in finals:
            last_by_target[run.target] = run
        # Tests that already failed before the first change and fail the same way at the
        # end are not what the change broke: on real runs they are mostly tests the
        # environment breaks. Fewer of them failing is progress: a partial fix.
        before = view.failing_before_change()
        first_fail: dict[str, TestRun] = {}
        for r in view.tests:
            if r.completed and r.ok is False:
                first_fail.setdefault(r.target, r)
        failing = []
        for r in last_by_target.values():
            if r.ok is not False:
                continue
            first = first_fail.get(r.target)
            progress = first is not None and first.index != r.index and bool(first.failing) \
                and bool(r.failing - preexisting) and r.failing < first.failing
            if not r.failing or r.failing - preexisting - before or progress:
                failing.append(r)
        if not failing:
            return
        run = failing[-1]
        remaining = run.failing - preexisting
        first = first_fail.get(run.target)
        partial = first is not None and first.index != run.index and bool(first.failing) \
            and bool(remaining) and run.failing < first.failing
        if partial and first is not None:
            message = (f"Partial fix: {len(remaining)} of {len(first.failing - preexisting)}"
                       f" originally failing tests still fail at the end "
                       f"({_ids(remaining)}).")
        else:
            detail = f": {_ids(remaining)}" if remaining else ""
            message = f"The run ends with failing tests (step {run.index + 1}){detail}."
        others = [r.index for r in failing[:-1]]
        yield self.finding(message, [run.index, *others],
                           severity="medium" if not partial else "high",
                           pattern="ends_failing" if not partial else "partial_fix",
                           failing=sorted(remaining)[:50], command=run.target[:300])

    def _abandoned(self, trace: Trace) -> Iterator[Finding]:
        """An agent that talks normally ends with a conclusion (a final message or a
        submission). One whose last step is a tool result stopped in the middle of the work:
        the model gave up or was cut off, and nothing says the task is done."""
        if trace.end is None or not any(s.kind == "message" and
                                        (s.input or {}).get("role") == "assistant"
                                        for s in trace.steps):
            return
        last = next((s for s in reversed(trace.steps) if s.kind != "llm"
                     and not s.meta.get("unanswered") and not s.meta.get("harness")), None)
        if last is None or last.kind in ("message", "submit", "error"):
            return
        if last.output in (None, "", {}) and not last.error:
            return  # no observation came back for the agent to react to (aider's edits)
        yield self.finding(
            f"The agent stopped after step {last.index + 1} without a final answer or "
            f"submission: the work was left unfinished.", [last.index], severity="medium",
            step_kind="run", pattern="abandoned", last_step=f"{last.kind} {last.name}")

    def _unverified(self, view: TraceView, last_edit: int, path: str) -> Iterator[Finding]:
        """The agent could check its work (a check succeeded earlier in the run) and did not
        check the last change. An agent with no way to run anything (no command or test in
        the whole run) is not told it never tested."""
        if view.checked_after(last_edit):
            return
        if not any(v < last_edit for v in view.verifications):
            return
        yield self.finding(
            f"The last change to {path} (step {last_edit + 1}) was never tested: the agent "
            f"had checked earlier changes, but nothing ran after this one.",
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


class NoChangeDetector(Detector):
    name = "no_change"
    category = "invalid_fixes"
    description = "The run ends without the work: its submitted patch changes none of the " \
                  "project's files it worked on (scratch files, notes, or nothing), or the " \
                  "file the task asks for was never written."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        """The file the task asks for was never written, or the submitted patch changes none
        of the project's files the agent worked on (it holds scratch files, notes, or
        nothing). Runs without a patch or a named file are not judged: their work may be
        commands (a server started, a repository fixed)."""
        view = view_of(trace)
        patch = final_patch(trace)
        asked = asked_files(trace.header.task.description or "")
        if asked and patch is None and not [e for e in view.source_edits()
                                            if e.path not in view.created]:
            # A task that asks for a file (not a repair of existing ones): was it written?
            texts = " ".join(view.texts.values())
            missing = sorted(name for name in asked if name not in texts)
            if missing:
                last = view.actions[-1].index if view.actions else \
                    (trace.steps[-1].index if trace.steps else 0)
                yield self.finding(
                    f"The run ends without {', '.join(missing)}, which the task asks for: no "
                    f"action wrote or even named it.", [last],
                    severity="high", step_kind="run", pattern="missing_deliverable",
                    missing=missing)
            return
        if not is_diff(patch):
            return  # no patch, or an answer in another form than a git diff
        assert patch is not None
        changed = patch_files(patch)
        edited = [e.path for e in view.edits if e.op not in ("failed", "revert", "delete")]
        fixed = [f for f in changed if any(same_path(f, e) or same_path(e, f) for e in edited)]
        if fixed:
            return
        scratch = sorted(set(patch_files(patch, new=True)) - set(changed))[:5]
        what = f"only new files ({', '.join(scratch)})" if scratch else \
            "no change to the project's files" if not changed else \
            f"changes the agent never made ({', '.join(changed[:3])})"
        yield self.finding(
            f"The submitted patch holds {what}: none of the project's source files the agent "
            f"worked on is changed in it.", [view.submit_index or view.actions[-1].index],
            severity="high", step_kind="run", pattern="no_change", in_patch=changed[:20])


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
    return [FailingTestsDetector(), IncompleteResolutionDetector(), NoChangeDetector(),
            RegressionDetector()]
