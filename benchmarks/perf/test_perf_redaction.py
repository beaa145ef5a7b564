"""Redaction cost per step, against the same step recorded with redaction off (the floor).

Four steps a coding agent records all the time: a clean command (no secret trigger: the
native writer's pre-check passes it), a command whose output has a trigger word but no secret
(the Python path runs the rules the trigger selects), one that holds a secret, and an LLM call
(its ``input_tokens`` field always holds the trigger ``token``). Then the text-level cost of
one 2 KB output, which is what the importers' path (``convert``, ``analyze``) pays per string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_tracebench import Redactor, TraceRecorder
from pytest_tracebench.record.redaction import BUILTIN_PATTERNS

CLEAN = "collected 12 items\n\ntests/test_client.py ........F...\n" + "x" * 120
TRIGGERED = CLEAN + "\nE   AssertionError: the password field was empty\n"
# Built at run time from pieces: no literal secret in the repository.
SECRET = CLEAN + "\nGITHUB_TOKEN=" + "ghp_" + "R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ngXyZ9" + "\n"
PROSE = ("The failing test calls the client with a retry budget of three and a timeout of "
         "two seconds; the fix keeps the budget and moves the timeout into the session. ") * 14


def _command(rec: TraceRecorder, stdout: str) -> Any:
    def record() -> None:
        rec.command("pytest -q tests/test_client.py", exit_code=1, stdout=stdout, stderr="")

    return record


def test_redaction_floor_clean_step_redaction_off(ratio_benchmark: Any,
                                                  tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl", redact=False)
    ratio_benchmark(_command(rec, CLEAN))
    rec.end()


def test_redaction_clean_step(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_clean_step_redaction_off"
    rec = TraceRecorder(tmp_path / "t.jsonl")
    ratio_benchmark(_command(rec, CLEAN))
    rec.end()


def test_redaction_triggered_step_without_secret(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_clean_step_redaction_off"
    rec = TraceRecorder(tmp_path / "t.jsonl")
    ratio_benchmark(_command(rec, TRIGGERED))
    rec.end()


def test_redaction_step_with_secret(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_clean_step_redaction_off"
    rec = TraceRecorder(tmp_path / "t.jsonl")
    ratio_benchmark(_command(rec, SECRET))
    rec.end()


def test_redaction_floor_llm_step_redaction_off(ratio_benchmark: Any, tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl", redact=False)

    def record() -> None:
        rec.llm([{"role": "user", "content": PROSE}], response=PROSE[:400], input_tokens=900,
                output_tokens=80)

    ratio_benchmark(record)
    rec.end()


def test_redaction_llm_step(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_llm_step_redaction_off"
    rec = TraceRecorder(tmp_path / "t.jsonl")

    def record() -> None:
        rec.llm([{"role": "user", "content": PROSE}], response=PROSE[:400], input_tokens=900,
                output_tokens=80)

    ratio_benchmark(record)
    rec.end()


def test_redaction_floor_copy_text(ratio_benchmark: Any) -> None:
    """The floor of the text-level cost: lowercasing the text once (every scan starts so)."""
    ratio_benchmark(PROSE.lower)


def test_redaction_text_clean(ratio_benchmark: Any) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_copy_text"
    redactor = Redactor(BUILTIN_PATTERNS)
    ratio_benchmark(lambda: redactor.redact_text(PROSE))


def test_redaction_text_with_secret(ratio_benchmark: Any) -> None:
    ratio_benchmark.extra_info["floor"] = "test_redaction_floor_copy_text"
    redactor = Redactor(BUILTIN_PATTERNS)
    text = PROSE + SECRET
    ratio_benchmark(lambda: redactor.redact_text(text))
