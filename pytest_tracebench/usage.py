"""Where a step's LLM usage lives, read in one place for the summary, the score's features and
the budget detector.

Recorders and importers put token counts in ``step.meta["usage"]``; older ``llm`` steps carry
them in ``output["usage"]``. Only integer counts are summed (a ``True`` is not a token).
"""

from __future__ import annotations

from typing import Any

from pytest_tracebench.models import Step, Trace

TOKEN_KEYS = ("input_tokens", "output_tokens")


def step_usage(step: Step) -> dict[str, Any] | None:
    """The usage mapping of one step, or ``None``."""
    usage = step.meta.get("usage")
    if usage is None and step.kind == "llm" and isinstance(step.output, dict):
        usage = step.output.get("usage")
    return usage if isinstance(usage, dict) else None


def token_count(usage: dict[str, Any]) -> int:
    """Input plus output tokens of one usage mapping."""
    return sum(value for key in TOKEN_KEYS
               if isinstance(value := usage.get(key), int) and not isinstance(value, bool))


def trace_tokens(trace: Trace) -> int:
    """Input plus output tokens of every step of ``trace``."""
    return sum(token_count(usage) for step in trace.steps
               if (usage := step_usage(step)) is not None)
