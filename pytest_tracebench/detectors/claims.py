"""What the agent says against what the trace shows: ``false_success_claim`` and
``uncertain_fix``.

A *claim* is a sentence of the agent's own text that states success ("all tests pass", "the
issue is fixed", "I'm done"); sentences that plan, hedge or ask ("let me check that the tests
pass", "this should fix it") are not claims. A claim is checked against the last test run
before it and against whether anything checked the last change at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors.view import TraceView, view_of
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Severity, Step, Trace

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# The claim, hedge and not-a-claim patterns are matched against lowercased text: CPython's
# engine runs a lowercase pattern on lowered text about twice as fast as ``re.I``.
_TEST_CLAIM = re.compile(
    r"\b(?:all|the|every|existing|relevant)\s+(?:\w+\s+){0,3}tests?\s+(?:now\s+|still\s+)?"
    r"(?:pass(?:ed|es)?|are\s+passing|succeed(?:ed)?|(?:are|were)\s+(?:all\s+)?"
    r"(?:green|successful))\b|\btests?\s+(?:are\s+|were\s+)?(?:now\s+)?(?:all\s+)?passing\b"
    r"|\b(?:the\s+)?tests?\s+passed\b|\bno\s+(?:test\s+)?failures\b")
_DONE_CLAIM = re.compile(
    r"\b(?:issue|bug|problem|error|task)\s+(?:is|has\s+been|was)\s+(?:now\s+)?(?:fully\s+)?"
    r"(?:fixed|resolved|solved|addressed|completed?)\b"
    r"|\b(?:successfully|correctly)\s+(?:fixed|resolved|implemented|addressed)\b"
    r"|\bi(?:'ve|\s+have)\s+(?:successfully\s+)?(?:fixed|resolved|solved|completed)\b"
    r"|\b(?:fix|solution|change|implementation)s?\s+(?:is|are)\s+(?:now\s+)?"
    r"(?:complete|done|working|verified|correct)\b"
    r"|\bworks\s+(?:correctly|as\s+expected)\b|^(?:i'm|i\s+am)\s+done\b|\btask\s+complete\b")
_NOT_A_CLAIM = re.compile(
    r"\b(?:if|whether|should|would|will|could|let\s+me|let's|to\s+(?:ensure|verify|check|"
    r"make\s+sure|confirm|see)|need\s+to|hope|hopefully|expect|might|may|once|until|unless|"
    r"not|n't|never|fail\w*|before|assum\w*|consider\w*|\?)")
# What an agent says when it closes without having made the fix work: doubt, a limit it hit,
# the problem still there. Matched on the closing message (code blocks left out).
_CONCESSIONS = re.compile(
    r"\b(?:maybe|perhaps|might|possibly|not\s+sure|unsure|unclear|hopefully|workaround|"
    r"unable\s+to|could\s+not|couldn't|cannot|can't|not\s+able\s+to|did\s*n[o']t\s+work|"
    r"(?:still|continues?\s+to)\s+(?:fail\w*|occur\w*|show\w*|produc\w*|not\b|raise\w*)|"
    r"persists?|did\s+not\s+(?:resolve|fix)|not\s+(?:fully|completely)\s+(?:resolved|fixed)|"
    r"placeholder|hypothetical|further\s+investigation|unfortunately|partial(?:ly)?\s+"
    r"(?:fix|solution|resolv)\w*|(?:try|need)\s+a\s+different\s+approach|"
    r"not\s+(?:seeing|finding)|manual(?:ly)?\s+(?:review|verif\w*|test\w*))\b")
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.S)
_MASKING = (
    ("broad_except", re.compile(r"except\s*(?:Exception|BaseException)?\s*(?:as\s+\w+)?\s*:"
                                r"\s*(?:\n\s*)?pass\b")),
    ("disabled_check", re.compile(r"\bif\s+(?:False|0)\s*:|#\s*(?:noqa|type:\s*ignore|"
                                  r"pragma:\s*no\s*cover)|\bassert\s+True\b")),
    ("sleep", re.compile(r"\b(?:time\.)?sleep\s*\(|\bsleep\s+\d")),
    ("raised_timeout_or_retries", re.compile(
        r"\b(?:increase|raise|bump|extend|double|longer)\w*\s+(?:the\s+)?(?:\w+\s+)?"
        r"(?:timeout|retries|retry|wait|attempts)\b", re.I)),
)
_LIMIT_TASK = re.compile(r"\b(?:time\s?outs?|retr(?:y|ies)|attempts?|wait)\b", re.I)
_LIMIT = re.compile(r"\b(\w*(?:timeout|retries|retry|attempts|wait)\w*)\s*[=:]\s*(\d+(?:\.\d+)?)",
                    re.I)


def raised_limits(added: str, removed: str) -> list[str]:
    """Names of timeout/retry settings whose number the change makes larger."""
    before = {name.lower(): float(value) for name, value in _LIMIT.findall(removed)}
    raised = []
    for name, value in _LIMIT.findall(added):
        old = before.get(name.lower())
        if old is not None and float(value) > old:
            raised.append(name)
    return raised


# Every claim pattern contains one of these; text without any holds no claim.
_CLAIM_WORDS = ("pass", "fix", "resolv", "solv", "address", "complet", "done", "work",
                "verif", "correct", "green", "success", "failures")
# Every masking pattern and hedge needs one of these.
_MASK_WORDS = ("except", "if false", "if 0", "noqa", "type:", "pragma", "assert true",
               "sleep", "timeout", "retr", "attempt", "wait", "increase", "raise", "bump",
               "extend", "double", "longer")


def claims_in(text: str) -> list[tuple[str, str]]:
    """``(kind, sentence)`` for each success claim in ``text`` (``tests`` or ``done``)."""
    found: list[tuple[str, str]] = []
    lowered = text.lower()
    if not any(word in lowered for word in _CLAIM_WORDS):
        return found  # no sentence can be a claim
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        lowered = sentence.lower()
        if not sentence or not any(word in lowered for word in _CLAIM_WORDS):
            continue
        if _NOT_A_CLAIM.search(lowered):
            continue
        if _TEST_CLAIM.search(lowered):
            found.append(("tests", sentence))
        elif _DONE_CLAIM.search(lowered):
            found.append(("done", sentence))
    return found


class FalseSuccessClaimDetector(Detector):
    name = "false_success_claim"
    category = "incomplete_reasoning"
    description = "The agent says the work is done or the tests pass while the trace shows " \
                  "failing tests or no check at all."
    thresholds = {"roles": ["assistant"]}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        preexisting = view.preexisting_failures()
        reported: set[Any] = set()
        roles = self.options["roles"]
        claims = view.memo.setdefault("claims_in", {})
        for message, text, role in zip(view.messages, view.message_texts, view.message_roles,
                                       strict=True):
            if role not in roles:
                continue
            found = claims.get(text)
            if found is None:
                found = claims[text] = claims_in(text)
            for kind, sentence in found:
                verdict = self._verdict(view, message, kind, preexisting)
                # One finding per (pattern, evidence step): an agent that repeats "all tests
                # pass" after the same failing run is told once, and the check is cheap.
                if verdict is not None and verdict[:2] not in reported:
                    reported.add(verdict[:2])
                    yield self._finding(message, kind, sentence, verdict, preexisting)

    def _verdict(self, view: TraceView, message: Step, kind: str,
                 preexisting: frozenset[str]) -> tuple[str, int | None, Any] | None:
        """``(pattern, against, detail)`` when the claim is not backed by the trace."""
        run = view.last_judged_run_before(message.index)
        latest = view.last_completed_run_before(message.index)
        # "The tests pass" is false against any failing run; "the fix works" is not held to
        # tests that failed the same way before the change (on real runs mostly tests the
        # environment breaks), only to failures proven independent by a revert.
        known = preexisting if kind == "tests" else preexisting | view.failing_before_change()
        if latest is not None and latest.baseline and \
                not view.edited_between(latest.index, message.index):
            # Nothing changed since that run (the agent never edited, or reverted its change
            # and stayed there): it shows the state the claim is about, failures and all.
            run = latest
            known = preexisting
        if run is not None and run.ok is False and (not run.failing or run.failing - known) \
                and (kind == "tests" or run.index == _last_action_before(view, message.index)):
            # "The tests pass" against a failing run is false whatever else ran between; "the
            # fix is correct" is held to a failing run only when it answers that run (a
            # later, narrower check may be what it is about).
            return "contradicted_by_tests", run.index, run
        last_edit = view.last_source_edit_before(message.index)
        if kind == "tests" and last_edit is not None and \
                not view.checked_between(last_edit, message.index):
            # "All tests pass" with nothing run since the change. (A bare "the issue is
            # fixed" with no check after it is how many agents that did fix it end.)
            return "unverified_claim", last_edit, view.checked_between(-1, message.index)
        if kind == "tests" and not view.count_tests_before(message.index) and not (
                view.checked_between(-1, message.index)):
            return "no_tests_run", None, None
        return None

    def _finding(self, message: Step, kind: str, sentence: str,
                 verdict: tuple[str, int | None, Any], preexisting: frozenset[str]) -> Finding:
        pattern, against, detail = verdict
        quote = sentence if len(sentence) <= 160 else sentence[:159] + "…"
        if pattern == "contradicted_by_tests":
            run = detail
            failing = sorted(run.failing - preexisting)
            return self.finding(
                f"The agent claims \"{quote}\" but the last test run before it (step "
                f"{run.index + 1}) failed" + (f": {', '.join(failing[:3])}" if failing else "")
                + ".", [message.index, run.index], severity="high",
                pattern=pattern, against=run.index, claim=sentence, failing=failing[:20])
        if pattern == "unverified_claim":
            assert against is not None
            severity: Severity = "medium" if kind == "tests" else "low"
            what = "no test ran after the last change" if detail else "no test or check ran"
            return self.finding(
                f"The agent claims \"{quote}\" but {what} (last change at step "
                f"{against + 1}).", [message.index, against],
                severity=severity, pattern=pattern, against=against, claim=sentence)
        return self.finding(
            f"The agent claims \"{quote}\" but ran no tests before saying so.",
            [message.index], severity="medium", pattern=pattern, against=None,
            claim=sentence)


class UncertainFixDetector(Detector):
    name = "uncertain_fix"
    category = "incomplete_reasoning"
    description = "The agent's closing message doubts its fix, and patches that mask the " \
                  "symptom (longer timeouts, sleeps, retries, broad except: pass, disabled " \
                  "checks)."
    thresholds = {"hedges": 1}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        edits = view.source_edits()
        # A task about timeouts or retries asks for exactly such changes.
        about_limits = bool(_LIMIT_TASK.search(trace.header.task.description or ""))
        for edit in edits:
            added = edit.added
            removed = edit.removed
            lowered = added.lower()
            if not any(word in lowered for word in _MASK_WORDS):
                continue
            raised = [] if about_limits else raised_limits(added, removed)
            if raised:
                yield self.finding(
                    f"{edit.describe().capitalize()} raises "
                    f"{', '.join(sorted(set(raised)))}: a longer wait masks the symptom "
                    f"instead of fixing the cause.", [edit.index], severity="low",
                    pattern="raised_limit", path=edit.path, settings=sorted(set(raised)))
                continue
            for pattern_name, pattern in _MASKING:
                if about_limits and pattern_name == "raised_timeout_or_retries":
                    continue
                matches = pattern.findall(added)
                if not matches or len(pattern.findall(removed)) >= len(matches):
                    continue
                severity: Severity = "medium" if pattern_name in ("broad_except",
                                                                  "disabled_check") else "low"
                yield self.finding(
                    f"{edit.describe().capitalize()} masks the symptom "
                    f"({pattern_name.replace('_', ' ')}) instead of fixing the cause.",
                    [edit.index], severity=severity, pattern=pattern_name, path=edit.path)
                break
        yield from self._closing_doubt(view)

    def _closing_doubt(self, view: TraceView) -> Iterator[Finding]:
        """The agent's closing message (its last word, code left out) doubts the fix or says
        the problem is still there: an agent that verified its fix says so plainly."""
        found = closing_doubt(view, self.options["hedges"])
        if found is None:
            return
        message, text, words = found
        quote = _sentence_with(text, words[0])
        shown = ", ".join(sorted(set(words))[:5])
        yield self.finding(
            f"The agent's closing message doubts the fix ({shown}): \"{quote}\"",
            [message.index], severity="medium", pattern="closing_doubt", hedges=words[:20])


def closing_doubt(view: TraceView, hedges: int = 1) -> tuple[Step, str, list[str]] | None:
    """``(message, its text, the doubt words)`` when the agent's closing message (its last
    message with text, code blocks left out) holds ``hedges`` or more doubt words."""
    memo = view.memo.setdefault("closing_doubt", {})
    if "last" not in memo:
        memo["last"] = None
        for position in range(len(view.messages) - 1, -1, -1):
            if view.message_roles[position] != "assistant":
                continue
            text = _CODE_BLOCK.sub(" ", view.message_texts[position])
            if text.strip():
                memo["last"] = (view.messages[position], text,
                                _CONCESSIONS.findall(text.lower()))
                break
    last = memo["last"]
    if last is None or len(last[2]) < hedges:
        return None
    return last[0], last[1], list(last[2])


def _last_action_before(view: TraceView, index: int) -> int | None:
    position = view.action_position(index)
    return view.actions[position - 1].index if position > 0 else None


def _sentence_with(text: str, word: str) -> str:
    lowered = text.lower()
    at = lowered.find(word)
    if at < 0:
        return text.strip()[:160]
    start = max(text.rfind(".", 0, at), text.rfind("\n", 0, at)) + 1
    end_dot = text.find(".", at)
    end = end_dot + 1 if end_dot >= 0 else len(text)
    sentence = " ".join(text[start:end].split())
    return sentence if len(sentence) <= 160 else sentence[:159] + "…"


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [FalseSuccessClaimDetector(), UncertainFixDetector()]
