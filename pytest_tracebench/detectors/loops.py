"""``retry_loop``: the agent repeats itself instead of changing strategy.

Patterns, after normalising actions and observations (ids, pids, timestamps, durations, temp
paths masked), in one pass over the actions:

* the same action with the same observation, ``same_observation`` times in a row;
* the same action failing, ``same_error`` times in a row;
* different actions hitting the same error, ``repeated_error`` times in a row;
* two actions alternating (A-B-A-B...), ``alternation`` actions long;
* fix attempts that change nothing: an edit followed by a run of the same tests that fails as
  before, ``fix_attempts`` times;
* the same agent message ``messages`` times in a row.

Defaults follow OpenHands' stuck detector (4 repeats of action and observation, 3 of action and
error, 6 for alternation). Waiting and polling actions (``sleep``, ``wait``, ``ps``, status
checks) are allowed to repeat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors.view import input_text, view_of
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Severity, Trace


class RetryLoopDetector(Detector):
    name = "retry_loop"
    category = "repeated_retries"
    description = "The same action repeated without a new result, or fix attempts that " \
                  "change nothing."
    thresholds = {
        "same_observation": 4,
        "same_error": 3,
        "repeated_error": 3,
        "alternation": 6,
        "fix_attempts": 2,
        "messages": 3,
        "poll_patterns": [r"^\s*(?:sleep|wait|watch)\b", r"\bsleep\s+\d", r"tail\s+-f",
                          r"^\s*(?:ps|jobs|squeue|top)\b",
                          r"\b(?:kubectl|docker)\s+(?:get|ps|logs)",
                          r"\bcurl\b.*(?:health|status|ready)", r"(?:wait|poll|status)"],
    }

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        poll = re.compile("|".join(f"(?:{p})" for p in self.options["poll_patterns"]))
        actions = view.actions
        sigs = list(view.action_sig.values())  # in action order
        texts = view.texts
        words = _POLL_WORDS if self.options["poll_patterns"] == self.thresholds[
            "poll_patterns"] else None
        memo: dict[int, bool] = {}

        def is_poll(position: int) -> bool:
            # Asked only for actions inside a repeat, so most actions are never checked.
            if position not in memo:
                action = actions[position]
                memo[position] = _is_poll(poll, words, texts[action.index], action.name)
            return memo[position]

        yield from self._same_action(view, actions, sigs, is_poll)
        yield from self._repeated_error(view, actions, sigs)
        yield from self._alternation(actions, sigs, is_poll)
        yield from self._fix_attempts(view)
        yield from self._messages(trace)

    def _same_action(self, view: Any, actions: list[Any], sigs: list[str],
                     is_poll: Any) -> Iterator[Finding]:
        start = 0
        for i in range(1, len(actions) + 1):
            if i < len(actions) and sigs[i] == sigs[start]:
                continue
            run = actions[start:i]
            if len(run) > 1 and not is_poll(start):
                indices = [a.index for a in run]
                errors = [view.error_sig.get(j) for j in indices]
                same_obs = len({view.obs_sig(a) for a in run}) == 1
                if all(errors) and len(run) >= self.options["same_error"]:
                    severity: Severity = "info" if _aside(view, indices, errors[-1] or "") \
                        else "high"
                    yield self.finding(
                        f"The agent ran `{_short(input_text(run[0]))}` {len(run)} times in a "
                        f"row and it failed every time ({_short(errors[-1] or 'error', 80)}); "
                        f"after a repeated failure, change the approach instead of retrying.",
                        indices, severity=severity, pattern="same_action_same_error",
                        action=_short(input_text(run[0]), 300), repeats=len(run))
                elif same_obs and len(run) >= self.options["same_observation"]:
                    yield self.finding(
                        f"The agent ran `{_short(input_text(run[0]))}` {len(run)} times in a "
                        f"row and got the same result each time: it is stuck in a loop.",
                        indices, severity="high", pattern="same_action_same_observation",
                        action=_short(input_text(run[0]), 300), repeats=len(run))
            start = i

    def _repeated_error(self, view: Any, actions: list[Any], sigs: list[str]
                        ) -> Iterator[Finding]:
        """Consecutive actions that fail with the same error (only failed actions are
        visited: two are consecutive when their positions among the actions are)."""
        run: list[int] = []
        last_position, last_error = -2, None
        for index, error in view.error_sig.items():
            position = view.action_position(index)
            if run and position == last_position + 1 and error == last_error and \
                    error != "error":
                run.append(index)
            else:
                yield from self._error_run(view, run)
                run = [index]
            last_position, last_error = position, error
        yield from self._error_run(view, run)

    def _error_run(self, view: Any, run: list[int]) -> Iterator[Finding]:
        if len(run) >= self.options["repeated_error"] and \
                len({view.action_sig[i] for i in run}) > 1:
            message = view.error_sig[run[0]]
            yield self.finding(
                f"{len(run)} different attempts in a row hit the same error "
                f"({_short(message, 100)}); the cause was not addressed.",
                run, severity="medium", pattern="repeated_error",
                error=message, repeats=len(run))

    def _alternation(self, actions: list[Any], sigs: list[str], is_poll: Any
                     ) -> Iterator[Finding]:
        start = 0
        for i in range(2, len(actions) + 1):
            if i < len(actions) and sigs[i] == sigs[i - 2] and sigs[i] != sigs[i - 1] and \
                    not is_poll(i):
                continue
            length = i - start
            if length >= self.options["alternation"] and sigs[start] != sigs[start + 1]:
                run = actions[start:i]
                yield self.finding(
                    f"The agent alternated between `{_short(input_text(run[0]), 60)}` and "
                    f"`{_short(input_text(run[1]), 60)}` for {length} actions without "
                    f"progress.", [a.index for a in run], severity="medium",
                    pattern="alternation", repeats=length)
            start = i - 1

    def _fix_attempts(self, view: Any) -> Iterator[Finding]:
        """Fix attempts that change nothing: one finding per streak, covering every attempt
        of it (each change and the failing run after it), reported when the streak ends."""
        last_by_target: dict[str, Any] = {}
        streak: dict[str, list[int]] = {}
        for run in view.tests:
            previous = last_by_target.get(run.target)
            edited = previous is not None and view.edited_between(previous.index, run.index)
            # An attempt is a failing run after a change; the run before the first change is
            # the bug being reproduced, not an attempt.
            if previous is not None and run.ok is False and previous.ok is False and edited \
                    and not previous.baseline and not run.timed_out and \
                    _no_progress(previous, run):
                streak.setdefault(run.target, [previous.index]).append(run.index)
            elif run.ok is not False or not _no_progress(previous, run):
                yield from self._attempts(view, streak.pop(run.target, None))
            last_by_target[run.target] = run
        for runs in streak.values():
            yield from self._attempts(view, runs)

    def _attempts(self, view: Any, runs: list[int] | None) -> Iterator[Finding]:
        # Every run of the streak followed a change (the first one too: it was no baseline).
        if not runs or len(runs) < self.options["fix_attempts"]:
            return
        attempts = len(runs)
        first_change = max((i for i in view._edit_indices if i < runs[0]), default=runs[0])
        steps = [i for i in view._edit_indices if first_change <= i < runs[-1]] + runs
        last = runs[-1]
        failing = next((sorted(r.failing)[:20] for r in view.tests if r.index == last), [])
        yield self.finding(
            f"{attempts} fix attempts in a row, from step {first_change + 1} to step "
            f"{last + 1}, ended with the same test failures: the agent retried without "
            f"progress.",
            steps, severity="info", pattern="fix_attempts_without_progress",
            attempts=attempts, first_failure=runs[0], failing=failing)

    def _messages(self, trace: Trace) -> Iterator[Finding]:
        """The same agent message several times in a row (nothing else in between)."""
        view = view_of(trace)
        run: list[Any] = []
        last_position, last_text = -2, None
        for step, position, raw, role in zip(view.messages, view.message_positions,
                                             view.message_texts, view.message_roles,
                                             strict=True):
            text = " ".join(raw.split()) if role in ("assistant", "reasoning", None) \
                else None
            if text is not None and run and position == last_position + 1 and \
                    text == last_text:
                run.append(step)
            else:
                yield from self._repeated_messages(run)
                run = [step] if text is not None else []
            last_position, last_text = position, text
        yield from self._repeated_messages(run)

    def _repeated_messages(self, run: list[Any]) -> Iterator[Finding]:
        if not run:
            return
        repeats = sum(int(s.meta.get("repeats", 1)) for s in run)
        if repeats >= self.options["messages"]:
            yield self.finding(
                f"The agent said the same thing {repeats} times in a row "
                f"(\"{_short(_message_text(run[0]) or '', 80)}\").",
                [s.index for s in run], severity="low", pattern="repeated_message",
                repeats=repeats)


# Every default poll pattern contains one of these words; text without any cannot match.
_POLL_WORDS = ("sleep", "wait", "watch", "tail", "ps", "jobs", "squeue", "top", "kubectl",
               "docker", "curl", "poll", "status")


def _is_poll(poll: re.Pattern[str], words: tuple[str, ...] | None, text: str,
             name: str) -> bool:
    if words is not None:
        lowered = (text + " " + name).lower()
        if not any(w in lowered for w in words):
            return False
    return bool(poll.search(text) or poll.search(name))


_MISSING = re.compile(r"command not found|No such file or directory|not recognized as|"
                      r"No module named|is not installed|JAVA_HOME")


def _aside(view: Any, indices: list[int], error: str) -> bool:
    """A loop beside the work, not in it: after the last change to the project, retrying a
    program the environment lacks or the agent's own scratch files. It wastes steps but does
    not touch the fix (on real runs such loops come after the fix, in resolved runs too)."""
    edits = view.source_edits()
    if not edits or min(indices) < edits[-1].index:
        return False
    if _MISSING.search(error):
        return True
    text = " ".join(view.texts.get(i, "") for i in indices)
    names = {c.replace("\\", "/").rsplit("/", 1)[-1] for c in view.created}
    return bool(names) and any(n in text for n in names)


def _message_text(step: Any) -> str | None:
    if step is None or step.kind != "message" or not isinstance(step.output, dict):
        return None
    if (step.input or {}).get("role") not in ("assistant", "reasoning", None):
        return None
    return " ".join(str(step.output.get("text", "")).split())


def _no_progress(previous: Any, run: Any) -> bool:
    if previous is None:
        return False
    if previous.failing and run.failing:
        return not run.failing < previous.failing
    if previous.failed is not None and run.failed is not None:
        return bool(run.failed >= previous.failed)
    return True  # counts unknown: no sign of progress


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [RetryLoopDetector()]
