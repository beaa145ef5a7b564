"""OpenHands runs read from their LiteLLM completion logs (``log_completions``, OpenHands 0.1x).

With ``log_completions`` on, OpenHands writes one JSON file per LLM call,
``llm_completions/<model>-<epoch>.json``: the whole prompt (``messages``: system, user,
assistant turns with ``tool_calls``, ``tool`` results), the model's answer (``response``), the
call's ``cost`` and a ``timestamp``; with prompt-based function calling also
``fncall_messages``/``fncall_response``, the structured form, which is read instead. Without a
condenser the last file of a run holds the whole run, so it is the history: one step per tool
call with the output the agent saw.

Two entry points: one completion log file (what the file says, nothing else), and a run folder
(``<instance>/llm_completions/`` with ``infer_logs/`` beside it, or an evaluation output's
``llm_completions/<instance>/``). A folder takes its latest file by the epoch in the name,
usage and cost of earlier calls from the other files of the same conversation, and times,
version, end state and the harness's diff from the inference log
(:mod:`.openhands_infer_log`). The SWE-bench verdict that sits in the same run folder
(``output.swebench_eval.logs/``) is never opened: findings judge the trajectory alone.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, _arguments, stable_id
from pytest_tracebench.importers.openhands_infer_log import InferLog, align, read_infer_log
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

COMPLETIONS = "llm_completions"
_NAME_EPOCH = re.compile(r"-(\d{9,}(?:\.\d+)?)\.json$")
_HEAD = re.compile(rb'^\s*\{\s*"messages"\s*:\s*\[')
_TAIL = re.compile(rb'"timestamp"\s*:\s*[-0-9.eE+]+\s*,\s*"cost"\s*:\s*(?:[-0-9.eE+]+|null)'
                   rb'\s*\}\s*$')
_PR = re.compile(r"<pr_description>\s*(.*?)\s*</pr_description>", re.S)
# The bash tool's footer (0.15: interpreter glued to the last line, the prompt, the exit
# code; later: bracketed lines). Stripped from the output, kept as fields.
_FINISHED = re.compile(r"\n?\[Command finished with exit code (-?\d+)\]\s*$")
_COMPLETED = re.compile(r"\n?\[The command completed with exit code (-?\d+)\.\]\s*$")
_PROMPT = re.compile(r"\n?[\w.-]+@[\w.-]+:(\S[^\n]*?) [#$] ?$")
_BRACKETED = re.compile(r"\n?\[(?:Python [Ii]nterpreter|Current working directory): "
                        r"([^\]\n]*)\]\s*$")
_TIMED_OUT = re.compile(r"Command timed out|The command timed out")
_EDITOR_FAILED = re.compile(r"^(?:ERROR:|-{20,}\n\w*(?:Error|Exception)\b)")


def completion_files(folder: Path) -> list[Path]:
    """The completion logs of a folder, oldest first (by the epoch OpenHands puts in the
    name; a name without one sorts first)."""
    def key(path: Path) -> tuple[float, str]:
        match = _NAME_EPOCH.search(path.name)
        return (float(match.group(1)) if match else float("-inf"), path.name)

    try:
        return sorted((p for p in folder.iterdir() if p.suffix == ".json" and p.is_file()),
                      key=key)
    except OSError:
        return []


def run_completions(folder: Path) -> Path | None:
    """The folder of completion logs when ``folder`` is one run, else ``None``.

    A run folder has ``llm_completions/`` with the files in it (an empty one is claimed too,
    so its import says what is missing); an evaluation output's ``llm_completions/`` holds
    one sub-folder per instance instead, and each of those is a run."""
    inner = folder / COMPLETIONS
    if inner.is_dir():
        try:
            per_instance = any(p.is_dir() for p in inner.iterdir())
        except OSError:
            per_instance = False
        return inner if completion_files(inner) or not per_instance else None
    if folder.parent.name == COMPLETIONS and completion_files(folder):
        return folder
    return None


def split_bash_output(text: str, command: str) -> tuple[str, int | None, bool, str | None]:
    """``(stdout, exit code, timed out, cwd)`` of an ``execute_bash`` result.

    The terminal echoes the command first and CRLF-ends lines; OpenHands appends the
    interpreter, the prompt and ``[Command finished with exit code N]``. Those are taken off
    so test-output parsers see the program's own lines. Exit code -1 means "still running"."""
    body = text.replace("\r\n", "\n")
    code: int | None = None
    cwd: str | None = None
    finished = _FINISHED.search(body)
    if finished:
        code, body = int(finished.group(1)), body[:finished.start()]
    prompt = _PROMPT.search(body) if finished else None
    if prompt:
        cwd, body = prompt.group(1), body[:prompt.start()]
    while bracketed := _BRACKETED.search(body):
        if "directory" in bracketed.group(0):
            cwd = cwd or bracketed.group(1)
        body = body[:bracketed.start()]
    completed = _COMPLETED.search(body)
    if completed:
        code = code if code is not None else int(completed.group(1))
        body = body[:completed.start()]
    if command and (body == command or body.startswith(command + "\n")):
        body = body[len(command) + 1:]
    return body, (None if code == -1 else code), bool(_TIMED_OUT.search(text)), cwd


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Reader:
    """One conversation turned into steps, counting what it could not map."""

    def __init__(self, builder: TraceBuilder, log: InferLog | None, patch: str | None) -> None:
        self.builder = builder
        self.log = log
        self.patch = patch
        self.skipped: Counter[str] = Counter()
        self.finished = False
        self.agent_commands = list(log.agent_commands) if log else []

    def text(self, content: Any) -> str:
        """The text parts of a message; other parts (images) are counted."""
        if content is None:
            return ""
        if isinstance(content, str):
            return content
        parts = content if isinstance(content, list) else [content]
        texts = []
        for part in parts:
            if isinstance(part, dict) and part.get("type", "text") == "text":
                texts.append(str(part.get("text") or ""))
            elif isinstance(part, str):
                texts.append(part)
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                self.skipped[f"message content parts of type {kind}"] += 1
        return "\n".join(t for t in texts if t)

    def times(self, turn: int) -> tuple[float | None, float | None]:
        """Start of the agent step of ``turn`` and of the next one (by then its tool calls
        had returned), from an aligned inference log."""
        if self.log is None or self.log.offset is None:
            return None, None
        start = self.log.at(self.log.step_starts.get(turn))
        following = self.log.step_starts.get(turn + 1)
        end = self.log.at(following) if following is not None else self.log.at(self.log.ended)
        return start, end if end is not None else start

    def read(self, history: list[dict[str, Any]], usage: dict[int, dict[str, Any]]) -> None:
        """Steps for every message, in order; turn ``n`` is the ``n``-th LLM call."""
        results = {str(m.get("tool_call_id")): m for m in history
                   if m.get("role") == "tool" and m.get("tool_call_id") is not None}
        called = {str(c.get("id")) for m in history if m.get("role") == "assistant"
                  and isinstance(m.get("tool_calls"), list)
                  for c in m["tool_calls"] if isinstance(c, dict)}
        turn = -1
        seen_task = False
        for message in history:
            role = message.get("role")
            if role == "system":
                continue  # the agent's prompt: configuration, not an action
            if role == "user":
                if seen_task:
                    self.builder.message(self.text(message.get("content")), role="user",
                                         at=self.times(turn)[1])
                seen_task = True
            elif role == "assistant":
                turn += 1
                self.turn(message, turn, results, usage.get(turn))
            elif role == "tool":
                if str(message.get("tool_call_id")) not in called:
                    self.skipped["tool results without a call"] += 1
            else:
                self.skipped[f"messages of role {role}"] += 1

    def turn(self, message: dict[str, Any], turn: int, results: dict[str, dict[str, Any]],
             usage: dict[str, Any] | None) -> None:
        at, ended = self.times(turn)
        first = len(self.builder.steps)
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str):
            self.builder.message(reasoning, role="reasoning", at=at)
        text = self.text(message.get("content"))
        self.builder.message(text, at=at)
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list):
            self.skipped[f"tool_calls of type {type(calls).__name__}"] += 1
            calls = []
        for call in calls:
            if not isinstance(call, dict):
                self.skipped["tool calls that are not objects"] += 1
                continue
            call_id = str(call.get("id"))
            function = _as_dict(call.get("function"))
            self.call(str(function.get("name") or "tool"), _arguments(function.get("arguments")),
                      results.get(call_id), text, at, ended)
        if usage:
            if len(self.builder.steps) > first:
                self.builder.steps[first].meta["usage"] = usage
            else:  # a call that produced nothing to show keeps its tokens on an llm step
                self.builder.add("llm", "llm", output={"usage": usage}, at=at,
                                 meta={"usage": usage})

    def call(self, name: str, args: dict[str, Any], result: dict[str, Any] | None, text: str,
             at: float | None, ended: float | None) -> None:
        output = self.text(result.get("content")) if result is not None else ""
        meta: dict[str, Any] = {"unanswered": True} if result is None else {}
        builder = self.builder
        if name == "execute_bash":
            command = str(args.get("command", args.get("raw", "")))
            stdout, code, timed_out, cwd = split_bash_output(output, command)
            if code is None and result is not None:
                code = self.logged_exit_code(command)
            if cwd:
                meta["cwd"] = cwd
            builder.shell(command, stdout if result is not None else None, exit_code=code,
                          timed_out=timed_out, name=name, at=at, ended_at=ended, meta=meta)
        elif name == "str_replace_editor":
            builder.tool_call(name, args, output, is_error=bool(_EDITOR_FAILED.match(output)),
                              at=at, ended_at=ended, meta=meta)
        elif name == "execute_ipython_cell":
            builder.add("command", name, input={"command": str(args.get("code", ""))},
                        output={"exit_code": None, "stdout": output}, at=at, ended_at=ended,
                        meta=meta)
        elif name == "finish":
            self.finished = True
            inp: dict[str, Any] = {"answer": str(args.get("message") or text)}
            inp.update({k: v for k, v in args.items() if k != "message"})
            if self.patch is not None:
                inp["patch"] = self.patch
            # finish is answered by the run ending, not by a result: never "unanswered"
            builder.add("submit", name, input=inp, output=output or None, at=at,
                        ended_at=ended)
        else:
            builder.tool_call(name, args, output, at=at, ended_at=ended, meta=meta)

    def logged_exit_code(self, command: str) -> int | None:
        """The exit code the inference log gives the agent's next run of ``command``."""
        for n, (logged, code) in enumerate(self.agent_commands):
            if logged.strip() == command.strip():
                del self.agent_commands[:n + 1]
                return code
        return None


def _usage(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Token counts and cost of one call, in the keys the budget detector sums."""
    raw = _as_dict(response.get("usage"))
    usage = {"input_tokens": raw.get("prompt_tokens"),
             "output_tokens": raw.get("completion_tokens")}
    for key in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        if isinstance(raw.get(key), int):
            usage[key] = raw[key]
    if isinstance(document.get("cost"), (int, float)) and not isinstance(document["cost"], bool):
        usage["cost_usd"] = float(document["cost"])
    return {k: v for k, v in usage.items() if v is not None}


def _conversation(document: Any) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
    """``(messages, response, final assistant message)`` of a completion log, preferring the
    structured ``fncall_*`` form when the model was prompted to call functions in text."""
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object with 'messages' and 'response'")
    messages = document.get("fncall_messages") or document.get("messages")
    response = document.get("fncall_response") or document.get("response")
    if not isinstance(messages, list) or not isinstance(response, dict):
        raise ValueError("expected 'messages' (a list) and 'response' (an object)")
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("'response' has no choices")
    final = choices[0].get("message")
    if not isinstance(final, dict):
        raise ValueError("'response.choices[0]' has no message")
    return messages, response, final


def _turn_of(messages: list[Any]) -> int:
    """Which LLM call a log is of: the number of answers already in its prompt."""
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")


def _same_call(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two assistant messages are one LLM answer: the same tool-call ids (unique per call), or
    the same text when there is no call."""
    def ids(message: dict[str, Any]) -> list[str]:
        calls = message.get("tool_calls")
        return [str(c.get("id")) for c in calls if isinstance(c, dict)] \
            if isinstance(calls, list) else []
    if ids(a) or ids(b):
        return ids(a) == ids(b)
    return json.dumps(a.get("content"), sort_keys=True) == json.dumps(b.get("content"),
                                                                     sort_keys=True)


class OpenHandsCompletionsImporter:
    name = "openhands-completions"
    description = "OpenHands LiteLLM completion log (llm_completions/*.json) or evaluation run"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return run_completions(path) is not None
        if not _HEAD.match(head):
            return False
        # OpenHands' wrapper ends with timestamp and cost (or the fncall form), and names the
        # file <model>-<epoch>.json: either is enough, so a cut file still gets our error.
        in_completions = COMPLETIONS in (path.parent.name, path.parent.parent.name)
        return bool(_TAIL.search(head)) or b'"fncall_response"' in head[-8192:] or \
            (in_completions and bool(_NAME_EPOCH.search(path.name)))

    def load(self, path: Path) -> list[Trace]:
        if path.is_dir():
            return [self._run(path)]
        document = json.loads(path.read_text(encoding="utf-8"))
        task = path.parent.parent.name if path.parent.name == COMPLETIONS else path.parent.name
        return [self._trace(path, document, task or path.stem, None, [])]

    def _run(self, folder: Path) -> Trace:
        completions = run_completions(folder)
        files = completion_files(completions) if completions is not None else []
        if completions is None or not files:
            raise ValueError(f"no completion log (*.json) in {COMPLETIONS}/")
        if completions == folder / COMPLETIONS:  # <instance>/llm_completions/, infer_logs/
            logs_dir = folder / "infer_logs"
            logs = sorted(logs_dir.glob(f"instance_{folder.name}.log")) or \
                sorted(logs_dir.glob("*.log"))
        else:  # <output>/llm_completions/<instance>/, <output>/infer_logs/instance_<id>.log
            logs = sorted((folder.parent.parent / "infer_logs").glob(
                f"instance_{folder.name}.log"))
        instance = folder.name
        log = None
        if len(logs) == 1:
            match = re.fullmatch(r"instance_(.+)\.log", logs[0].name)
            instance = match.group(1) if match else instance
            log = read_infer_log(logs[0], instance)
        document = json.loads(files[-1].read_text(encoding="utf-8"))
        return self._trace(files[-1], document, instance, log, files[:-1], folder=folder)

    def _trace(self, path: Path, document: Any, task_id: str, log: InferLog | None,
               earlier: list[Path], folder: Path | None = None) -> Trace:
        raw, response, final = _conversation(document)
        messages = [m for m in raw if isinstance(m, dict)]
        history = [*messages, {**final, "role": "assistant"}]
        calls = _turn_of(history)
        usage = self._earlier_usage(earlier, history)
        last = _usage(document, response)
        if last:
            usage[calls - 1] = last
        finished_at = document.get("timestamp")
        finished_at = float(finished_at) if isinstance(finished_at, (int, float)) else None
        builder = TraceBuilder(
            format=self.name, path=folder or path,
            trace_id=stable_id(self.name, task_id, path.name),
            task=TaskInfo(id=task_id, description=self._task(messages)),
            agent=AgentInfo(name="openhands", model=response.get("model"),
                            version=log.version if log else None,
                            **({"agent_class": log.agent_class} if log and log.agent_class
                               else {})),
            meta={"completion_log": path.name, "llm_calls": calls,
                  **({"completion_logs": 1 + len(earlier), "calls_with_usage": len(usage)}
                     if earlier else {})},
        )
        if log is not None:
            builder.header.meta.update({"infer_log": log.path.name, "attempts": log.attempts,
                                        "harness_commands": log.harness_commands})
            if not align(log, calls, finished_at):
                builder.warnings.append(f"{log.path}: its steps do not line up with the "
                                        f"{calls} LLM calls of {path.name}: no step times")
        reader = _Reader(builder, log, log.patch if log else None)
        if len(raw) > len(messages):
            reader.skipped["messages that are not objects"] += len(raw) - len(messages)
        reader.read(history, usage)
        for what, count in sorted(reader.skipped.items()):
            builder.warnings.append(f"{path}: skipped {count} {what}")
        if log is not None and log.offset is not None:
            builder.header.started_at = log.at(log.loop_started)
        return self._end(builder, reader, log, usage, calls, finished_at)

    def _end(self, builder: TraceBuilder, reader: _Reader, log: InferLog | None,
             usage: dict[int, dict[str, Any]], calls: int, finished_at: float | None) -> Trace:
        outcome: dict[str, Any] = {"api_calls": calls}
        costs = [u.get("cost_usd") for u in usage.values()]
        if len(usage) == calls and all(isinstance(c, float) for c in costs):
            outcome["cost_usd"] = round(sum(c for c in costs if c is not None), 6)
        status: EndStatus | None = "completed" if reader.finished else None
        if log is not None:
            if log.final_state is not None:
                outcome["agent_state"] = log.final_state
            if log.patch is not None:
                outcome["submitted"] = bool(log.patch.strip())
            if log.errors:
                outcome["error"] = log.errors[-1]
            if not reader.finished:
                status = "timeout" if log.max_iterations else \
                    "error" if log.final_state in ("ERROR", "STOPPED") else \
                    "completed" if log.final_state == "FINISHED" else None
        if status is None:
            builder.warnings.append(f"{builder.header.source.path}: no finish call and no "
                                    f"recorded end: the run did not finish in this log")
            return builder.build(None)
        ended = log.at(log.ended) if log is not None else None
        return builder.build(status, outcome, ended_at=ended or finished_at)

    def _earlier_usage(self, earlier: list[Path], history: list[dict[str, Any]]
                       ) -> dict[int, dict[str, Any]]:
        """Usage of earlier calls, from the other logs of this conversation (newest wins, so a
        retried attempt's files give way to the final attempt's)."""
        turns = [m for m in history if m.get("role") == "assistant"]
        found: dict[int, dict[str, Any]] = {}
        for other in reversed(earlier):
            try:
                document = json.loads(other.read_text(encoding="utf-8"))
                messages, response, final = _conversation(document)
            except (OSError, ValueError):
                continue  # not this conversation's, or unreadable: its call stays without usage
            turn = _turn_of(messages)
            if turn < len(turns) - 1 and turn not in found and _same_call(final, turns[turn]):
                found[turn] = _usage(document, response)
        return found

    @staticmethod
    def _task(messages: list[dict[str, Any]]) -> str | None:
        """The issue: the ``<pr_description>`` of the first user message, else its first text
        part (later parts are OpenHands' keyword-triggered extra info)."""
        first = next((m for m in messages if m.get("role") == "user"), None)
        if first is None:
            return None
        content = first.get("content")
        if isinstance(content, list):
            content = next((p.get("text") for p in content
                            if isinstance(p, dict) and p.get("type") == "text"), "")
        text = str(content or "")
        match = _PR.search(text)
        return clip(match.group(1) if match else text, 4000) or None
