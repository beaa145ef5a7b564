"""mini-swe-agent 1.x as its console shows it (``mini -y``), read from a terminal capture.

Terminal-Bench 1 ran ``mini`` in a tmux pane and kept the pane, not the ``.traj.json`` the agent
saved inside the container. The console prints, in order: a welcome line with the version, the
system prompt (``System:``), the task (``User:``), then for every model call a marker
``mini-swe-agent (step N, $COST):`` with the model's reply (THOUGHT and one bash block) and the
observation as the next ``User:`` message (``<returncode>``/``<output>``, or the agent's
timeout and format-error notices), and ``Saved trajectory to ...`` when the run ends. The
same messages as the structured trajectory, so they map onto the same steps
(:mod:`.mini_swe_agent`).

The stream is cut at those markers first, and each piece is rendered on its own terminal
(:mod:`._terminal`): a command's progress bar that moves the cursor up then only garbles its
own output, never the next marker. rich wraps long lines at the pane's width; that is undone
(:func:`._terminal.unwrap`) so commands are whole again. LiteLLM's logging errors, printed into
the same pane from another thread, and the spinner are removed and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pytest_tracebench.importers._terminal import render, unwrap
from pytest_tracebench.importers.builder import TraceBuilder
from pytest_tracebench.importers.mini_swe_agent import _ACTION_BLOCK, parse_observation
from pytest_tracebench.models import EndStatus
from pytest_tracebench.record.redaction import clip

_WELCOME = re.compile(r"This is mini-swe-agent version (\d+(?:\.\d+)*)")
# A marker starts a line (after CR or LF).
_STEP = re.compile(r"(?<![^\r\n])[ \t]*mini-swe-agent \(step (\d+), \$(\d+(?:\.\d+)?)\):[^\n]*")
_ROLE = re.compile(r"\n(System|User):[ \t\r]*\n")
_SAVED = re.compile(r"\n[^\n]*Saved trajectory to '([^'\n]*)'")
_RULE = re.compile(r"(?:^|\n)[ \t\r]*(─{20,})[ \t\r]*(?=\n|$)")
_SPINNER = re.compile(r"^\s*[⠀-⣿]\s+Waiting for the LM to respond\.\.\.\s*$")
_LITELLM = re.compile(r"\d\d:\d\d:\d\d - LiteLLM(?::| Proxy:| Router:)\s*(?:ERROR|WARNING|INFO|"
                      r"DEBUG)")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt)\b.*")
_TRACEBACK_GLUE = ("Traceback (most recent call last):",
                   "During handling of the above exception, another exception occurred:",
                   "The above exception was the direct cause of the following exception:")
_TASK = re.compile(r"^\s*Please solve this issue:\s*(.*?)(?:\n\s*\nYou can execute bash commands"
                   r"|\n\s*\n## Recommended Workflow|\Z)", re.S)
_TIMEOUT_WORDS = re.compile(r"\b(?:timed? ?out|time limit|LimitsExceeded|limits exceeded)\b",
                            re.I)


@dataclass
class MiniConsole:
    """What the console told beyond the steps: the agent, the end, and what was skipped."""

    version: str | None = None
    task: str | None = None
    status: EndStatus = "completed"
    outcome: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def detect(plain: str) -> bool:
    """True when the colour-free stream ``plain`` shows mini-swe-agent's console."""
    return bool(_WELCOME.search(plain) or _STEP.search(plain))


def console_width(plain: str) -> int | None:
    """The pane's width as rich saw it: the rule it draws after every observation spans it."""
    widths = [len(m.group(1)) for m in _RULE.finditer(plain)]
    if widths:
        return max(set(widths), key=widths.count)
    return None


def _clean(lines: list[str], skipped: dict[str, int]) -> list[str]:
    """Lines without LiteLLM's logging errors (a header line and its traceback) and spinner
    frames, counting what was removed."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _LITELLM.search(line)
        if match:
            skipped["LiteLLM log messages"] = skipped.get("LiteLLM log messages", 0) + 1
            before = line[:match.start()]
            if before.strip() and not _SPINNER.match(before + " "):
                before = re.sub(r"[⠀-⣿]\s+Waiting for the LM to respond\.\.\.\s*$", "", before)
                if before.strip():
                    out.append(before.rstrip())
            i = _skip_traceback(lines, i + 1)
            continue
        if _SPINNER.match(line):
            i += 1
            continue
        out.append(line)
        i += 1
    return out


def _skip_traceback(lines: list[str], i: int) -> int:
    """The index after the traceback that follows a log header at ``i - 1``, if any."""
    in_frames = False
    while i < len(lines):
        line = lines[i]
        if line.startswith(_TRACEBACK_GLUE):
            in_frames = line.startswith("Traceback")
            i += 1
        elif line.startswith(" ") and in_frames:
            i += 1
        elif in_frames and _EXCEPTION_LINE.match(line):
            in_frames = False
            i += 1
        elif not line.strip():
            following = next((x for x in lines[i + 1:] if x.strip()), "")
            if not following.startswith(_TRACEBACK_GLUE):
                return i
            i += 1
        else:
            return i
    return i


def _text(piece: str, width: int | None, skipped: dict[str, int]) -> str:
    """One piece of the stream as the pane showed it, cleaned and unwrapped."""
    lines = _clean(render(piece, strip=False).split("\n"), skipped)
    text = "\n".join(lines)
    return unwrap(text, width) if width else "\n".join(line.rstrip() for line in lines)


def parse(plain: str, builder: TraceBuilder) -> MiniConsole:
    """Steps from the console into ``builder``. ``plain`` is the captured stream without its
    colour codes (:func:`._terminal.strip_styles`): the markers are found in it, and each piece
    between them is rendered on its own."""
    result = MiniConsole()
    welcome = _WELCOME.search(plain)
    steps = list(_STEP.finditer(plain))
    start = plain.rfind("\n", 0, welcome.start()) + 1 if welcome else \
        (steps[0].start() if steps else 0)
    if welcome:
        result.version = welcome.group(1)
    noise = plain[:start].count("\n")
    if noise:
        result.skipped["lines of setup and install output before the agent started"] = noise
    width = console_width(plain[start:])
    if width:
        result.meta["console_width"] = width
    skipped = result.skipped
    intro = plain[start:steps[0].start() if steps else len(plain)]
    roles = list(_ROLE.finditer(intro))
    users = [m for m in roles if m.group(1) == "User"]
    if users:
        user_text = _text(intro[users[0].end():], width, skipped)
        task = _TASK.match(user_text)
        result.task = (task.group(1) if task else user_text).strip() or None

    cost: float | None = None
    submitted = False
    tail = ""
    for number, marker in enumerate(steps):
        end = steps[number + 1].start() if number + 1 < len(steps) else len(plain)
        segment = plain[marker.end():end]
        if number + 1 == len(steps):
            saved = _SAVED.search(segment)
            if saved:
                tail = segment[saved.start():]
                segment = segment[:saved.start()]
                result.meta["saved_trajectory"] = saved.group(1)
        cost = float(marker.group(2))
        meta = {"step": int(marker.group(1)), "cost_so_far_usd": cost}
        user = _ROLE.search(segment)
        reply = _text(segment[:user.start()] if user else segment, width, skipped)
        observation = _text(segment[user.end():], width, skipped) if user else None
        if observation is not None:  # the rule rich draws under every observation
            observation = re.sub(r"\n?─{20,}\s*\Z", "", observation)
        submitted = _step(builder, reply, observation, meta) or submitted

    last_step = int(steps[-1].group(1)) if steps else 0
    result.outcome = {"exit_status": "Submitted" if submitted else None, "submitted": submitted,
                      "cost_usd": cost, "model_calls": last_step}
    if "saved_trajectory" in result.meta:
        after = _text(tail, None, {}).splitlines()[1:]
        if after:
            skipped["lines after the agent exited (shell prompt, recorder)"] = len(after)
        if not submitted:
            # The agent stopped on its own without submitting: a limit or an exception.
            last = builder.steps[-1] if builder.steps else None
            said = "" if last is None else str(last.output or last.error or "")
            result.status = "timeout" if _TIMEOUT_WORDS.search(said[-2000:]) else "error"
            result.outcome["exit_status"] = "stopped without submitting"
    else:
        result.status = "aborted"
        ending = render(plain[steps[-1].start():] if steps else plain[start:])
        waiting = ending.rstrip().endswith("Waiting for the LM to respond...")
        result.outcome["exit_status"] = "cut off"
        result.outcome["cut_off"] = "waiting for the model" if waiting else (
            "command running" if builder.steps and
            builder.steps[-1].meta.get("unanswered") else "after the last step")
    return result


def _step(builder: TraceBuilder, reply: str, observation: str | None,
          meta: dict[str, Any]) -> bool:
    """The steps of one model call; True when it was the submission."""
    blocks = _ACTION_BLOCK.findall(reply)
    thought = re.sub(r"^\s*THOUGHT:\s*", "", reply.split("```", 1)[0]).strip()
    builder.message(thought or reply if len(blocks) != 1 else thought, meta=dict(meta))
    if len(blocks) != 1:
        if observation is not None or not blocks:
            builder.add("error", "format_error", error=clip((observation or "").strip(), 2000),
                        output={"found_actions": len(blocks)}, meta=dict(meta))
        return False
    command = blocks[0].strip()
    if observation is None:
        # The capture ends while the command runs (or before its result was printed).
        builder.shell(command, None, meta={**meta, "unanswered": True})
        return False
    code, output, timed_out = parse_observation(observation.strip("\n"))
    step = builder.shell(command, output, exit_code=code, timed_out=timed_out, meta=dict(meta))
    if step.kind == "submit":
        step.input = {"command": command, "submission": observation.strip()}
        return True
    return False

