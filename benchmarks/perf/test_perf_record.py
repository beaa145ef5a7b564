"""Recording cost per step against the floor: appending a pre-serialised line and flushing.

The floor uses the same primitive the recorder uses: one unbuffered ``write()`` system call of
the finished bytes, which is what makes a step survive SIGKILL of the agent.
Target (issue 2, issue 9): recording a typical step costs under 2x the floor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import TraceRecorder

STDOUT = "collected 12 items\n\ntests/test_client.py ........F...\n" + "x" * 120
STEP_LINE = json.dumps({
    "type": "step", "index": 0, "kind": "command", "name": "pytest",
    "input": {"command": "pytest -q tests/test_client.py"},
    "output": {"exit_code": 1, "stdout": STDOUT, "stderr": "", "timed_out": False},
    "started_at": 1764032400.1, "ended_at": 1764032400.2,
}, separators=(",", ":")).encode() + b"\n"


def test_floor_write_preserialised_line(ratio_benchmark: Any, tmp_path: Path) -> None:
    with open(tmp_path / "floor.jsonl", "wb", buffering=0) as fh:

        def write() -> None:
            fh.write(STEP_LINE)

        ratio_benchmark(write)


def test_record_command_step(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_write_preserialised_line"
    rec = TraceRecorder(tmp_path / "t.jsonl")

    def record() -> None:
        rec.command("pytest -q tests/test_client.py", exit_code=1, stdout=STDOUT, stderr="")

    ratio_benchmark(record)
    rec.end()


def test_record_generic_step(ratio_benchmark: Any, tmp_path: Path) -> None:
    ratio_benchmark.extra_info["floor"] = "test_floor_write_preserialised_line"
    rec = TraceRecorder(tmp_path / "t.jsonl")

    def record() -> None:
        rec.step("tool", "search", input={"query": "retry timeout"}, output=STDOUT)

    ratio_benchmark(record)
    rec.end()


def test_record_command_step_redaction_off(ratio_benchmark: Any, tmp_path: Path) -> None:
    """The same step with redaction off: shows how much of the cost is the secret scan."""
    ratio_benchmark.extra_info["floor"] = "test_floor_write_preserialised_line"
    rec = TraceRecorder(tmp_path / "t.jsonl", redact=False)

    def record() -> None:
        rec.command("pytest -q tests/test_client.py", exit_code=1, stdout=STDOUT, stderr="")

    ratio_benchmark(record)
    rec.end()


def test_encode_command_step_alone(ratio_benchmark: Any, tmp_path: Path) -> None:
    """The native encoder's share of a recorded command step: the same line made (and
    secret-checked) without writing it. What the recorded step costs on top of this and the
    floor is the Python method around the native call (issue 18: the recorder calls a
    stateless encoder, which also writes through the recorder's sink; docs/performance.md,
    "recording", has the numbers that decided the shape)."""
    ratio_benchmark.extra_info["floor"] = "test_floor_write_preserialised_line"
    rec = TraceRecorder(tmp_path / "t.jsonl")
    encode, triggers = rec._encoder, rec._triggers
    if encode is None:
        pytest.skip("the native encoder was not built")

    def record() -> None:
        encode.encode_command(0, "pytest -q tests/test_client.py", 1, STDOUT, "", None, False,
                              None, None, None, None, triggers, rec.max_output_chars)

    ratio_benchmark(record)
    rec.end()
