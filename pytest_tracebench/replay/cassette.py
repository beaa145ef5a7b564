"""Deterministic replay through the recorder, in vcrpy's vocabulary.

Calls an agent makes through the ``trace`` object (``@trace.tool`` functions, ``trace.run``
commands) can be answered from a recorded trace instead of being executed:

* ``none``: replay only; a call that is not in the recording is an error;
* ``once``: replay when a recording exists, record otherwise;
* ``new_episodes``: replay what was recorded, execute and record new calls;
* ``all``: always execute and re-record.

A call is matched by a canonical signature, configurable with ``match_on``: ``name`` (the
tool), ``args`` (the arguments, as canonical JSON), ``position`` (the n-th call of that
signature). A call that differs from the one recorded at its place in the sequence is a
*divergence*: in ``none`` mode it stops the agent with :class:`ReplayDivergence` and is written
to the trace as an ``error`` step the ``replay_divergence`` detector reports, with the step and
a diff of expected vs actual.
"""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from pytest_tracebench.errors import TraceLoadError
from pytest_tracebench.models import Step, Trace
from pytest_tracebench.record.trace_file import load_trace

ReplayMode = Literal["none", "once", "new_episodes", "all"]
MODES: tuple[str, ...] = ("none", "once", "new_episodes", "all")
CALL_KINDS = frozenset({"tool", "command", "read", "edit", "test", "llm"})


class ReplayDivergence(Exception):
    """A call the recording cannot answer (``none`` mode)."""


class CassetteError(Exception):
    """A cassette cannot be opened: an unknown mode, an unreadable or missing recording."""


def canonical(value: Any) -> str:
    """Arguments as canonical JSON: the same call always gives the same text."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


@dataclass
class Recorded:
    step: Step
    signature: str
    used: bool = False


@dataclass
class Cassette:
    """The recorded calls of one trace, in order, with lookups by signature."""

    mode: ReplayMode
    match_on: tuple[str, ...] = ("name", "args", "position")
    calls: list[Recorded] = field(default_factory=list)
    _by_signature: dict[str, list[Recorded]] = field(default_factory=lambda: defaultdict(list))
    _cursor: int = 0

    @classmethod
    def from_trace(cls, trace: Trace | None, mode: ReplayMode,
                   match_on: tuple[str, ...] = ("name", "args", "position")) -> Cassette:
        cassette = cls(mode=mode, match_on=match_on)
        if trace is None or mode == "all":
            return cassette
        for step in trace.steps:
            # Only completed calls can answer (a span's children are recorded separately).
            if step.kind in CALL_KINDS and step.meta.get("replayable"):
                sig = cassette.signature(step.name, step.input)
                entry = Recorded(step, sig)
                cassette.calls.append(entry)
                cassette._by_signature[sig].append(entry)
        return cassette

    @property
    def recording_exists(self) -> bool:
        return bool(self.calls)

    def signature(self, name: str, args: Any) -> str:
        parts = []
        if "name" in self.match_on:
            parts.append(name)
        if "args" in self.match_on:
            parts.append(canonical(args))
        return "|".join(parts)

    def should_replay(self) -> bool:
        return self.mode in ("none", "new_episodes") or (self.mode == "once"
                                                         and self.recording_exists)

    def lookup(self, name: str, args: Any) -> tuple[Recorded | None, dict[str, Any] | None]:
        """The recorded call answering this one, and a divergence report if it differs from
        the one recorded at this place in the sequence."""
        sig = self.signature(name, args)
        expected = self.calls[self._cursor] if self._cursor < len(self.calls) else None
        if "position" in self.match_on:
            match = expected if expected is not None and expected.signature == sig and \
                not expected.used else None
            if match is None:
                match = next((r for r in self._by_signature.get(sig, []) if not r.used), None)
        else:
            match = next((r for r in self._by_signature.get(sig, []) if not r.used), None)
            if match is None and self._by_signature.get(sig):
                match = self._by_signature[sig][-1]  # unordered matching may reuse answers
        divergence = None
        if expected is not None and (match is None or match is not expected) and \
                "position" in self.match_on:
            divergence = self._diff(expected, name, args)
        elif expected is None and match is None:
            divergence = {"expected": None, "actual": {"name": name, "input": args},
                          "diff": f"unrecorded call {name}({canonical(args)[:300]})",
                          "expected_step": None}
        if match is not None:
            match.used = True
            if match is expected:
                self._cursor += 1
        return match, divergence

    def _diff(self, expected: Recorded, name: str, args: Any) -> dict[str, Any]:
        want = json.dumps({"name": expected.step.name, "input": expected.step.input},
                          indent=1, sort_keys=True, default=str).splitlines()
        got = json.dumps({"name": name, "input": args}, indent=1, sort_keys=True,
                         default=str).splitlines()
        diff = "\n".join(difflib.unified_diff(want, got, "recorded", "actual", lineterm="",
                                              n=1))
        return {"expected": {"name": expected.step.name, "input": expected.step.input},
                "actual": {"name": name, "input": args}, "diff": diff,
                "expected_step": expected.step.index}


def open_cassette(mode: str, recorded: Path, match_on: Sequence[str], *,
                  label: str) -> tuple[Cassette, Path]:
    """The cassette of the trace recorded at ``recorded`` for ``mode``, and where the
    replayed run's trace goes.

    In ``none`` mode the recording is only read: the replayed run is written beside it
    (``.replay.jsonl``) so that the cassette stays as recorded, and a missing recording is
    an error (``label`` names the test in it). ``all`` never reads the recording."""
    if mode not in MODES:
        raise CassetteError(f"tracebench replay: unknown mode {mode!r}; expected one of "
                            f"{', '.join(MODES)}")
    trace = None
    if mode != "all" and recorded.is_file():
        try:
            trace = load_trace(recorded)
        except TraceLoadError as exc:
            raise CassetteError(f"tracebench replay: {exc}") from None
    if mode == "none" and trace is None:
        raise CassetteError(f"tracebench replay mode 'none': no recording for {label} at "
                            f"{recorded}; record it first (mode once or all)")
    cassette = Cassette.from_trace(trace, cast(ReplayMode, mode), tuple(match_on))
    if mode == "none":
        return cassette, recorded.with_name(recorded.stem + ".replay.jsonl")
    return cassette, recorded
