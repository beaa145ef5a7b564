"""How the run hangs together: ``inconsistent_flow`` and ``ignored_error``."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors.view import TraceView, input_text, output_text, same_path, view_of
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Step, Trace

_PLAN_TO_TEST = re.compile(r"\b(?:let\s+me|let's|I'll|I\s+will|I\s+am\s+going\s+to|now\s+I'll|"
                           r"next,?\s+I'll)\s+(?:\w+\s+){0,3}(?:run|execute)\s+(?:\w+\s+){0,3}"
                           r"tests?\b", re.I)
_EXCEPTION = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")


def _is_user_turn(step: Step) -> bool:
    """A message the user wrote (not the agent's, not a tool's), with words in it."""
    role = (step.input or {}).get("role") if isinstance(step.input, dict) else None
    return role == "user" and bool(_text(step).strip())


def _text(step: Step) -> str:
    return str((step.output or {}).get("text", "")) if isinstance(step.output, dict) else ""


class InconsistentFlowDetector(Detector):
    name = "inconsistent_flow"
    category = "inconsistent_execution"
    description = "Editing a file never read, acting after the final submission, reverting " \
                  "and redoing the same change, a stated plan the next action contradicts."
    thresholds = {"flip_flops": 2}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        yield from self._blind_edits(view)
        yield from self._after_submit(view)
        yield from self._flip_flops(view)
        yield from self._broken_plan(view)

    def _blind_edits(self, view: TraceView) -> Iterator[Finding]:
        if not view.reads:
            return  # the agent never reads through tools (aider puts files in the chat)
        reported: set[str] = set()
        touched: dict[str, list[str]] = {}  # basename -> paths edited so far
        for edit in view.edits:
            name = edit.path.replace("\\", "/").rsplit("/", 1)[-1]
            earlier_edit = any(same_path(p, edit.path) for p in touched.get(name, ()))
            touched.setdefault(name, []).append(edit.path)
            if edit.op != "modify" or edit.path in reported or edit.path == "<unknown>" or \
                    view.is_scratch(edit.path):
                continue
            if earlier_edit or view.was_read_before(edit.path, edit.index):
                continue
            reported.add(edit.path)
            # A style note for a reviewer: on real runs it fires on resolved and unresolved
            # runs alike (an agent that greps a file and edits it with sed has read it).
            yield self.finding(
                f"The agent edited {edit.path} at step {edit.index + 1} without having read "
                f"it first.", [edit.index], severity="info", pattern="edit_without_read",
                path=edit.path)

    def _after_submit(self, view: TraceView) -> Iterator[Finding]:
        """Actions after a submission, within its turn. A user who speaks again after the
        agent finished starts a new turn (multi-turn conversations: OpenHands, Claude Code,
        Codex): what the agent does then answers the new request, and a submission in that
        turn is judged on its own."""
        if view.submit_index is None:
            return
        actions = {a.index for a in view.actions}
        submitted: int | None = None
        later: list[int] = []
        for step in view.trace.steps:
            if step.kind == "message":
                if submitted is not None and _is_user_turn(step):
                    yield from self._acted_after(submitted, later)
                    submitted, later = None, []
                continue
            if submitted is not None:
                if step.index in actions:
                    later.append(step.index)
            elif step.kind == "submit":
                submitted = step.index
        if submitted is not None:
            yield from self._acted_after(submitted, later)

    def _acted_after(self, submitted: int, later: list[int]) -> Iterator[Finding]:
        if later:
            yield self.finding(
                f"The agent kept acting after its final submission (step "
                f"{submitted + 1}): {len(later)} more action(s).",
                [submitted, *later], severity="medium", pattern="after_submit")

    def _flip_flops(self, view: TraceView) -> Iterator[Finding]:
        # The same change applied again after it was reverted, with no test run between
        # the revert and the redo (a revert, a test, a redo is a deliberate baseline check).
        history: dict[str, list[tuple[int, str]]] = {}
        keys: dict[str, list[str]] = {}  # basename -> history keys, to match paths quickly
        for edit in view.edits:
            if edit.path in ("<unknown>", "<all>") or edit.op == "failed":
                continue
            name = edit.path.replace("\\", "/").rsplit("/", 1)[-1]
            key = next((p for p in keys.get(name, ()) if same_path(p, edit.path)), None)
            if key is None:
                key = edit.path
                keys.setdefault(name, []).append(key)
            history.setdefault(key, []).append((edit.index, _change(edit)))
        for path, changes in history.items():
            redos: list[int] = []
            first_seen: dict[str, int] = {}
            last_revert: int | None = None
            for index, change in changes:
                if change == "revert" or _reversal(change) in first_seen:
                    last_revert = index
                if change != "revert":
                    first = first_seen.get(change)
                    if first is not None and last_revert is not None and \
                            last_revert > first and not view.tested_between(last_revert, index):
                        redos.append(index)
                    first_seen.setdefault(change, index)
            if len(redos) >= self.options["flip_flops"] - 1 and redos:
                steps = [i for i, _ in changes]
                yield self.finding(
                    f"The agent reverted and re-applied the same change to {path} "
                    f"({len(redos) + 1} times) without testing in between.", steps,
                    severity="info", pattern="flip_flop", path=path)

    def _broken_plan(self, view: TraceView) -> Iterator[Finding]:
        for message, text, role in zip(view.messages, view.message_texts, view.message_roles,
                                       strict=True):
            if role != "assistant":
                continue
            if "test" not in text.lower() or not _PLAN_TO_TEST.search(text):
                continue
            following = view.next_action_after(message.index)
            if following is not None and following.kind == "submit":
                yield self.finding(
                    f"The agent said it would run the tests (step {message.index + 1}) and "
                    f"submitted instead.", [message.index, following.index],
                    severity="medium", pattern="plan_contradicted")


def _change(edit: Any) -> str:
    if edit.op == "revert":
        return "revert"
    return f"{edit.removed.strip()}\u2192{edit.added.strip()}"[:2000]


def _reversal(change: str) -> str:
    """The change that undoes ``change`` (new -> old)."""
    old, _, new = change.partition("\u2192")
    return f"{new}\u2192{old}"


class IgnoredErrorDetector(Detector):
    name = "ignored_error"
    category = "incomplete_reasoning"
    description = "An error nothing after it addresses: the run ends or submits right after " \
                  "it without a word about it, or a failed edit is never redone before the " \
                  "tests or the submission."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        steps = trace.steps
        actions = view.actions
        for index, signature in view.error_sig.items():  # failed actions only, in order
            number = view.action_position(index)
            action = actions[number]
            # Failed test runs are the test detectors' business; here: commands and tools.
            if action.kind in ("submit", "test") or view.is_test_run(action) or \
                    _expected_failure(action):
                continue
            start = bisect.bisect_left(steps, index, key=_step_index) + 1
            after = steps[start:start + 4]  # the talk right after the error
            following = actions[number + 1] if number + 1 < len(actions) else None
            if any(s.meta.get("harness_exit") for s in after if s.kind in ("error", "message")):
                continue  # the harness stopped the run right after it: no chance to react
            if following is None or following.kind == "submit":
                if self._mentioned(action, after):
                    continue
                ending = "the run ended" if following is None else "the agent submitted"
                edits = view.source_edits()
                verified = bool(edits) and any(v > edits[-1].index for v in view.verifications)
                yield self.finding(
                    f"The error at step {action.index + 1} ({signature[:100]}) was ignored: "
                    f"{ending} right after it without addressing it.", [action.index],
                    severity="low" if verified else "medium", pattern="error_then_end",
                    error=signature)
            elif action.kind == "edit" and action.error:
                yield from self._failed_edit(view, action, actions, number + 1, signature)

    def _failed_edit(self, view: TraceView, action: Step, actions: list[Step], start: int,
                     signature: str) -> Iterator[Finding]:
        paths = [e.path for e in view.edits if e.index == action.index]
        for later in actions[start:]:  # stops at the next edit, test or submission
            if later.kind == "edit" and any(e.index == later.index and
                                            any(same_path(e.path, p) for p in paths)
                                            for e in view.edits):
                return  # the agent redid the edit
            if later.kind in ("test", "submit") or view.is_test_run(later):
                what = "submitted" if later.kind == "submit" else "ran the tests"
                yield self.finding(
                    f"The edit at step {action.index + 1} failed ({signature[:100]}) and the "
                    f"agent {what} at step {later.index + 1} without redoing it.",
                    [action.index, later.index], severity="medium", pattern="failed_edit",
                    error=signature, path=paths[0] if paths else None)
                return

    def _mentioned(self, action: Step, after: list[Step]) -> bool:
        text = output_text(action)
        names = set(_EXCEPTION.findall(text))
        talk = " ".join(_text(s) for s in after if s.kind == "message").lower()
        return bool(talk) and (any(n.lower() in talk for n in names) or any(
            w in talk for w in ("error", "fail", "traceback", "timed out", "timeout",
                                "not found", "issue", "problem", "exception", "wrong",
                                "not available", "not installed", "unavailable", "cannot",
                                "can't", "unable", "missing")))


def _step_index(step: Step) -> int:
    return step.index


def _expected_failure(action: Step) -> bool:
    """Commands whose non-zero exit is an answer, not an error (grep found nothing, a test
    of existence, ``|| true``)."""
    text = input_text(action)
    out = action.output if isinstance(action.output, dict) else {}
    if out.get("exit_code") == 1 and re.match(r"\s*(?:grep|egrep|rg|test|\[|diff|cmp|which|"
                                              r"find)\b", text):
        return True
    return "|| true" in text or "|| echo" in text


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [InconsistentFlowDetector(), IgnoredErrorDetector()]
