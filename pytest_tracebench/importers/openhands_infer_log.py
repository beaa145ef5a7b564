"""What an OpenHands evaluation inference log (``infer_logs/instance_<id>.log``) adds to the chat.

The chat in a LiteLLM completion log has every tool call and its output but no clock, no
version and no word on how the run ended. The inference log has those: one
``LEVEL 0 LOCAL STEP n`` line as each agent step (one LLM call) starts, the agent's state
changes (``FINISHED``, ``ERROR`` with "maximum iteration"), the runtime image tag
(``runtime:oh_v0.15.0_...``) and the diff the harness took at the end. Its
``CmdRunAction``/``CmdOutputObservation`` blocks carry exit codes; in 0.15 they are the
harness's own set-up and tear-down commands (``source=None``), which are counted, not made
steps, while blocks of ``source=...AGENT`` can fill an exit code the chat lacks.

The log is written by one worker across retries of the same instance, and a worker may go on
to the next instance after the diff: only the last attempt (after the last
``Starting step loop``) up to ``Got git diff for instance`` is read. Its times are local
wall-clock without a zone; :func:`align` finds the zone from the completion log's epoch
timestamp. This module never reads the SWE-bench verdict (``output.swebench_eval.logs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pytest_tracebench.record.redaction import clip

_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - ([A-Z]+) - (.*)$")
_STEP = re.compile(r"\bLEVEL 0 LOCAL STEP (\d+) GLOBAL STEP \d+")
_STATE = re.compile(r"Setting agent\((\w+)\) state from AgentState\.\w+ to AgentState\.(\w+)")
_VERSION = re.compile(r"runtime:oh_v(\d+(?:\.\d+)+)")
_RUN = re.compile(r"^\*\*CmdRunAction \(source=([^,)]*)")
_OUTPUT = re.compile(r"^\*\*CmdOutputObservation \(source=([^,)]*), exit code=(-?\d+)")
_DIFF = re.compile(r"^Got git diff for instance (\S+?):?$")
_RULE = "--------"
#: A zone offset is a whole quarter hour; the last LLM call must end within half of one.
_QUARTER_HOUR = 900.0


@dataclass
class InferLog:
    """The facts of the last attempt in one inference log; times are naive (zone unknown)."""

    path: Path
    version: str | None = None
    agent_class: str | None = None
    attempts: int = 0
    step_starts: dict[int, float] = field(default_factory=dict)
    loop_started: float | None = None
    final_state: str | None = None
    ended: float | None = None
    errors: list[str] = field(default_factory=list)
    patch: str | None = None
    agent_commands: list[tuple[str, int]] = field(default_factory=list)
    harness_commands: int = 0
    offset: float | None = None
    """Seconds to add to the naive times to get epoch seconds, once :func:`align` found it."""

    @property
    def max_iterations(self) -> bool:
        return any("maximum iteration" in error for error in self.errors)

    def at(self, naive: float | None) -> float | None:
        """An epoch time, or ``None`` while the zone is unknown."""
        if naive is None or self.offset is None:
            return None
        return naive + self.offset


def _naive(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").replace(
        tzinfo=timezone.utc).timestamp()


def _records(text: str) -> list[tuple[float, str, str, list[str]]]:
    """``(time, level, first line, continuation lines)`` per timestamped log record."""
    records: list[tuple[float, str, str, list[str]]] = []
    for line in text.splitlines():
        match = _RECORD.match(line)
        if match:
            records.append((_naive(match.group(1)), match.group(2), match.group(3), []))
        elif records:
            records[-1][3].append(line)
    return records


def read_infer_log(path: Path, instance: str | None = None) -> InferLog:
    """The last attempt's facts; a log without a step loop gives only the version.

    ``instance`` (the SWE-bench instance id) keeps another instance's diff, logged by the same
    worker afterwards, from being taken for this run's."""
    text = path.read_text(encoding="utf-8", errors="replace")
    log = InferLog(path=path)
    version = _VERSION.search(text)
    log.version = version.group(1) if version else None
    records = _records(text)
    cut = len(records)
    for i, (_, _, message, body) in enumerate(records):
        diff = _DIFF.match(message)
        if diff and (instance is None or diff.group(1) == instance):
            cut = i + 1
            rules = [n for n, line in enumerate(body) if line.strip() == _RULE]
            if len(rules) >= 2:
                log.patch = "\n".join(body[rules[0] + 1:rules[-1]])
                if log.patch:
                    log.patch += "\n"
    records = records[:cut]
    loops = [i for i, r in enumerate(records) if "Starting step loop" in r[2]]
    log.attempts = len(loops)
    if not loops:
        return log
    start = loops[-1]
    setup = max((i for i, r in enumerate(records[:start])
                 if "BEGIN Runtime Initialization Fn" in r[2]), default=start)
    log.loop_started = records[start][0]
    pending: tuple[str, str] | None = None
    for i, (at, level, message, body) in enumerate(records[setup:], setup):
        run = _RUN.match(message)
        if run:
            command = "\n".join(body[1:] if body[:1] == ["COMMAND:"] else body)
            pending = (run.group(1), command)
            continue
        output = _OUTPUT.match(message)
        if output and pending is not None:
            if "agent" in pending[0].lower():
                log.agent_commands.append((pending[1], int(output.group(2))))
            else:
                log.harness_commands += 1
            pending = None
            continue
        if i < start:
            continue
        step = _STEP.search(message)
        if step:
            log.step_starts.setdefault(int(step.group(1)), at)
            continue
        state = _STATE.search(message)
        if state:
            log.agent_class, log.final_state, log.ended = state.group(1), state.group(2), at
        elif level == "ERROR":
            log.errors.append(clip(message.strip(), 2000))
    return log


def align(log: InferLog, calls: int, finished_at: float | None) -> bool:
    """Find the log's zone from the epoch time the last of ``calls`` LLM calls was logged at.

    That call started at ``LOCAL STEP calls-1``; its completion log was written when it
    returned, seconds later. Rounding the difference to a quarter hour gives the zone; a
    remainder outside ``[0, 7.5 min)``, or steps missing for any call, means the log is not
    this run's (another attempt's, a cut log) and no time is taken from it."""
    if finished_at is None or calls <= 0 or \
            any(n not in log.step_starts for n in range(calls)):
        return False
    gap = finished_at - log.step_starts[calls - 1]
    offset = round(gap / _QUARTER_HOUR) * _QUARTER_HOUR
    if not 0.0 <= gap - offset < _QUARTER_HOUR / 2 or abs(offset) > 14 * 3600:
        return False
    log.offset = offset
    return True
