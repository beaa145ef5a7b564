"""The run itself: ``runtime_instability``, ``budget`` and ``aborted_run``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pytest_tracebench.detectors._base import Detector
from pytest_tracebench.detectors.view import output_text, view_of
from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.models import Finding, Trace
from pytest_tracebench.usage import step_usage, token_count

_CRASH = re.compile(r"Segmentation fault|core dumped|\bKilled\b|MemoryError|Out of memory|"
                    r"OOMKilled|Fatal Python error|panic:|std::bad_alloc")


class RuntimeInstabilityDetector(Detector):
    name = "runtime_instability"
    category = "runtime_instability"
    description = "Timeouts, crashes, harness or agent errors, and flaky tests (the same " \
                  "tests pass and fail with no change in between)."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        view = view_of(trace)
        actions = view.actions
        last_two = {a.index for a in actions[-3:] if a.kind != "submit"}
        cut_off = trace.end is None or trace.end.status in ("aborted", "timeout") or \
            bool(trace.end.outcome.get("cut_off"))
        for action in actions:
            out = action.output
            if not isinstance(out, dict):
                if not action.error:
                    continue  # the common case: a read or a message-like result
                out = {}
            code = out.get("exit_code")
            if out.get("timed_out"):
                # A long command the agent then replaced is part of working; one the run
                # ends on (or was cut off in) is what stopped it.
                if action.index in last_two and not _SETUP.search(view.texts.get(
                        action.index, "")):
                    yield self.finding(
                        f"Step {action.index + 1} timed out and was killed"
                        + (", and the run ended there." if cut_off or action is actions[-1]
                           else " near the end of the run."), [action.index],
                        severity="info", pattern="timeout")
            elif code in (137, 139, -9, -11) or (
                    (code not in (0, None) or action.error) and
                    _CRASH.search(output_text(action)[-4000:])):
                yield self.finding(f"Step {action.index + 1} crashed "
                                   f"(exit code {code}).", [action.index],
                                   severity="medium", pattern="crash")
        # The agent's or harness's own exceptions; a reply the harness could not parse and
        # the harness stopping the run at a limit are not instability (the score weighs
        # those as behaviour: format errors, a run ended by its limit).
        errors = [s for s in trace.steps if s.kind == "error" and s.name not in _NOT_CRASHES
                  and not s.meta.get("harness_exit")]
        if errors:
            names = sorted({s.name for s in errors})
            yield self.finding(f"{len(errors)} harness or agent error(s) during the run "
                               f"({', '.join(names)}).", [s.index for s in errors],
                               severity="low", pattern="errors", names=names)
        if trace.end is not None and trace.end.status == "timeout":
            yield self.finding("The run hit its time or step limit.", [],
                               severity="medium", pattern="run_timeout")
        yield from self._flaky(view)

    def _flaky(self, view: Any) -> Iterator[Finding]:
        previous: dict[str, Any] = {}
        for run in view.tests:
            before = previous.get(run.target)
            if run.completed:
                previous[run.target] = run
            if before is None or not run.completed or before.ok == run.ok:
                continue
            if view.changed_between(before.index, run.index):
                continue
            if any(_SETUP.search(view.texts.get(a.index, "")) for a in view.actions
                   if before.index < a.index < run.index):
                continue  # the environment was repaired in between (an install, a venv)
            yield self.finding(
                f"Flaky tests: the same run {'passed' if before.ok else 'failed'} at step "
                f"{before.index + 1} and {'passed' if run.ok else 'failed'} at step "
                f"{run.index + 1} with no change in between.", [before.index, run.index],
                severity="info", pattern="flaky", command=run.target[:300])


#: Error steps that are not crashes: replies the harness could not parse, the harness's own
#: exits at a limit, an empty action.
_NOT_CRASHES = frozenset({"format_error", "exit_cost", "exit_context", "exit_format",
                          "empty_action", "limits_exceeded"})
#: Setting up the environment: installing, creating or activating an environment.
_SETUP = re.compile(r"\b(?:pip3?|conda|mamba|apt(?:-get)?|yum|brew|npm|yarn|pnpm|poetry|uv)\s+"
                    r"(?:install|add|create|update|sync)\b|\bsetup\.py\s+(?:install|develop)|"
                    r"\bsource\s+\S*activate|\bvenv\b")


class BudgetDetector(Detector):
    name = "budget"
    category = "resource_use"
    description = "Steps, tokens, cost or wall time over the task's budget (set per test " \
                  "with the tracebench marker's budget=...)."
    thresholds = {"steps": 0, "tokens": 0, "cost_usd": 0.0, "seconds": 0.0}

    def detect(self, trace: Trace) -> Iterator[Finding]:
        budget = dict(trace.header.task.budget)
        for key, value in self.options.items():
            if value and key not in budget:
                budget[key] = value
        if not budget:
            return
        used = _usage(trace)
        for key, limit in budget.items():
            spent = used.get(key)
            if spent is None or not limit or spent <= limit:
                continue
            yield self.finding(
                f"The run used {spent:g} {key.replace('_', ' ')}, over its budget of "
                f"{limit:g} ({(spent / limit - 1) * 100:.0f}% over).", [],
                severity="medium", pattern=f"over_{key}", used=spent, limit=limit)


def _usage(trace: Trace) -> dict[str, float]:
    tokens = 0
    cost = 0.0
    for step in trace.steps:
        usage = step_usage(step)
        if usage is not None:
            tokens += token_count(usage)
            if isinstance(usage.get("cost_usd"), (int, float)):
                cost += float(usage["cost_usd"])
    result: dict[str, float] = {
        "steps": float(sum(1 for s in trace.steps if s.kind not in ("message", "llm"))),
        "tokens": float(tokens),
    }
    outcome_cost = trace.end.outcome.get("cost_usd") if trace.end is not None else None
    if cost or isinstance(outcome_cost, (int, float)):
        result["cost_usd"] = cost or float(outcome_cost or 0.0)
    start = trace.header.started_at
    end = trace.end.ended_at if trace.end is not None else None
    if start is not None and end is not None:
        result["seconds"] = end - start
    return result


class AbortedRunDetector(Detector):
    name = "aborted_run"
    category = "runtime_instability"
    description = "The trace has no end record: the run was killed or crashed."

    def detect(self, trace: Trace) -> Iterator[Finding]:
        if trace.end is None:
            last = [trace.steps[-1].index] if trace.steps else []
            yield self.finding(f"The run was aborted: the trace ends after {len(trace.steps)} "
                               f"step(s) with no end record.", last, severity="high",
                               pattern="no_end_record")


@hookimpl
def tracebench_detectors(settings: Any) -> list[Any]:
    return [RuntimeInstabilityDetector(), BudgetDetector(), AbortedRunDetector()]
