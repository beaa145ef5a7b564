"""AutoCodeRover task folders (the April 2024 agent; one ``<instance>_<timestamp>/`` per run).

AutoCodeRover leaves no single trajectory file: a run is a folder of parts, so the folder is
imported whole. A search agent asks for context through retrieval APIs (``search_class``,
``search_method_in_file``, ``search_code``, ...) over several rounds, then a patch-writing
sub-agent gets up to three tries to write a patch that applies; a small "proxy" model turns each
free-text answer of the search agent into API calls.

Which file says what:

- ``conversation_round_N.json``: the search agent's chat as it stood when round ``N`` began
  (each file repeats the previous one); the last one has every message of the search agent.
- ``tool_call_sequence.json``: every API call in the order it ran, with ``call_ok``;
  ``tool_call_layers.json`` groups the same calls by round.
- ``debug_agent_write_patch_N.json``, ``agent_patch_raw_N``, ``extracted_patch_N.diff`` and
  ``extract_status.json``: patch attempt ``N``: the sub-agent's chat (ending with the feedback
  it got), its raw answer, the diff made from it when it applied, and why it did not.
- ``info.log``: the run's timestamped log, the only place that interleaves all of the above;
  it gives the real order and the time of each message, API result and patch attempt, and the
  token count of every model call.
- ``cost.json``: totals (tokens, dollars, start and end time, model); ``meta.json`` and
  ``problem_statement.txt``: the task.

The verifier's files (``*.eval.log``, ``DERIVED_verdict.json``) and what ``meta.json`` knows
about the benchmark's answer (the gold patch, the test patch, the tests to pass) are never read:
the trace must hold only what the agent did.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, split_patch, stable_id
from pytest_tracebench.models import AgentInfo, EndStatus, Step, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

# Parts of a task folder, by file name. Numbered parts carry the round or attempt number.
_NUMBERED = {
    "conversation": re.compile(r"conversation_round_(\d+)\.json"),
    "patch_chat": re.compile(r"debug_agent_write_patch_(\d+)\.json"),
    "proxy": re.compile(r"agent_proxy_(\d+)\.json"),
    "diff": re.compile(r"extracted_patch_(\d+)\.diff"),
    "raw": re.compile(r"agent_patch_raw_(\d+)"),
}
_SINGLE = {"tool_call_sequence.json", "tool_call_layers.json", "info.log", "meta.json",
           "cost.json", "problem_statement.txt", "extract_status.json"}
# Files of the folder that are not the agent's: the verifier's verdict and the gold patch.
# Known, and left unread on purpose.
_NOT_THE_AGENTS = (re.compile(r".+\.eval\.log"), re.compile(r"DERIVED_verdict\.json"),
                   re.compile(r"developer_patch\.diff"))
_FOLDER = re.compile(r"(.+)_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d")
_ISSUE = re.compile(r"<issue>(.*?)</issue>", re.S)

# info.log: "YYYY-MM-DD HH:MM:SS <message>", local time; thread dumps continue on untimed lines.
_LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ?(.*)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_USAGE = re.compile(r"Model API request cost info: input_tokens=(\d+), output_tokens=(\d+), "
                    r"cost=([0-9.eE+-]+)")
_PATCH_TRY = re.compile(r"Trying to write a patch\. Try (\d+) of \d+")
_PATCH_RAW = re.compile(r"Raw patch produced in try (\d+)\b")
_ROUND = re.compile(r"=+ Conversation Round \d+ =+")
_TASK_END = re.compile(r"Task \S+ completed successfully")
_RESULT = "Result of dispatch_intent: "
_PROXY_REJECTED = ("Bug location not detailed enough", "Both API_calls and bug_locations are "
                                                       "empty")
# Log messages about AutoCodeRover's own machinery, not actions of the agent: its fallback
# parser for call arguments, the proxy's JSON being saved or accepted, round bookkeeping.
_MACHINERY = ("Refactored invocation argument parsing failed", "Raw issue json produced",
              "Extracted a valid json", "Gathered enough information", "Too many rounds",
              "Invoked write_patch")

# A retrieval API's answer that found nothing (the data also sets call_ok false for these).
_NOT_FOUND = re.compile(r"(?:Could not find|There is no|No \w+ (?:found|with)|The \w+ \S+ does "
                        r"not appear|Cannot find)")
_SHOWN_FILE = re.compile(r"Search result \d+: <file>(.*?)</file>")
_MODIFICATION_FILE = re.compile(r"<file>(.*?)</file>", re.S)
_ORIGINAL = re.compile(r"<original>(.*?)</original>", re.S)
_PATCHED = re.compile(r"<patched>(.*?)</patched>", re.S)
_APPLIED = "APPLICABLE_PATCH"


def _json(folder: Path, name: str) -> Any:
    """A JSON part of the folder, or ``None`` when absent; bad JSON names the file."""
    path = folder / name
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{name}: invalid JSON: {exc}") from None


def _text(folder: Path, name: str) -> str | None:
    path = folder / name
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _chat(value: Any, name: str) -> list[dict[str, Any]]:
    """A chat file's messages; anything but a list of objects is a malformed file."""
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a list of chat messages")
    for n, message in enumerate(value):
        if not isinstance(message, dict):
            raise ValueError(f"{name}: message {n} is not an object")
    return value


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else "" if content is None else str(content)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


@dataclass
class _Attempt:
    """One try of the patch-writing sub-agent."""

    number: int
    raw: str = ""
    diff: str | None = None
    status: str | None = None
    feedback: str = ""
    said: bool = False
    emitted: bool = False


@dataclass
class _Event:
    """One timestamped line of info.log that matters for the steps."""

    at: float | None
    kind: str  # usage, response, proxy, rejected, result, patch_try, patch_raw, start, end
    body: str = ""
    number: int = 0
    usage: dict[str, Any] | None = None


def _modifications(raw: str) -> list[tuple[str, str, str]]:
    """``(path, original, patched)`` of each ``<file>`` block of a raw patch answer."""
    found = []
    heads = list(_MODIFICATION_FILE.finditer(raw))
    for n, head in enumerate(heads):
        rest = raw[head.end():heads[n + 1].start() if n + 1 < len(heads) else len(raw)]
        original = _ORIGINAL.search(rest)
        patched = _PATCHED.search(rest)
        found.append((head.group(1).strip(), original.group(1) if original else "",
                      patched.group(1) if patched else ""))
    return found


def _snippet_diff(path: str, pairs: list[tuple[str, str]]) -> str:
    """A unified diff of the snippets a raw patch proposed to replace. Its hunks are numbered
    from the snippet, not the file: the patch never applied, so there is no file position."""
    chunks = []
    for original, patched in pairs:
        lines = difflib.unified_diff(original.strip("\n").splitlines(),
                                     patched.strip("\n").splitlines(),
                                     fromfile=f"a/{path}", tofile=f"b/{path}", lineterm="")
        chunks.append("\n".join(lines))
    return "\n".join(c for c in chunks if c) + "\n"


def _diff_op(section: str) -> str:
    if "\nnew file mode" in section or "\n--- /dev/null" in section:
        return "create"
    if "\ndeleted file mode" in section or "\n+++ /dev/null" in section:
        return "delete"
    return "modify"


class AutoCodeRoverImporter:
    name = "autocoderover"
    description = "AutoCodeRover task folder (conversation rounds, API-call sequence, patch " \
                  "attempts, info.log)"

    def sniff(self, path: Path, head: bytes) -> bool:
        # Only a folder: the API-call sequence is the one part no other agent writes.
        return path.is_dir() and (path / "tool_call_sequence.json").is_file()

    def load(self, path: Path) -> list[Trace]:
        return [_Run(path).trace()]


class _Run:
    """Reads one task folder and lays its parts out as steps in the order they happened."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.skipped: Counter[str] = Counter()
        self.numbered: dict[str, dict[int, str]] = {kind: {} for kind in _NUMBERED}
        self._list_parts()
        calls = _json(folder, "tool_call_sequence.json")
        if not isinstance(calls, list):
            raise ValueError("tool_call_sequence.json: expected a list of API calls")
        for n, call in enumerate(calls):
            if not isinstance(call, dict):
                raise ValueError(f"tool_call_sequence.json: call {n} is not an object")
        self.calls: list[dict[str, Any]] = calls
        self.rounds = [_chat(_json(folder, name), name)
                       for _, name in sorted(self.numbered["conversation"].items())]
        self.cost = _dict(_json(folder, "cost.json"))
        self.meta = _dict(_json(folder, "meta.json"))
        self.attempts = self._attempts()
        self.log = _text(folder, "info.log")
        if not (self.calls or self.rounds or self.attempts):
            raise ValueError("tool_call_sequence.json: no API call, and no conversation round "
                             "or patch attempt beside it: nothing of a run")
        last = self.rounds[-1] if self.rounds else []
        self.search_messages = [_content(m) for m in last if m.get("role") == "assistant"]
        for message in last:
            if message.get("role") not in ("system", "user", "assistant"):
                self.skipped[f"chat message of role {message.get('role')!r}"] += 1
        self.unknown_apis: Counter[str] = Counter()
        self.final = self._final_attempt()
        self.submitted: Step | None = None
        self.builder = TraceBuilder(
            format=AutoCodeRoverImporter.name, path=folder,
            trace_id=stable_id(AutoCodeRoverImporter.name, folder.name),
            task=TaskInfo(id=self._task_id(), description=self._description()),
            agent=AgentInfo(name="auto-code-rover",
                            model=str(self.cost.get("model") or self.meta.get("model") or "")
                            or None,
                            **({"commit": str(self.cost["commit"])}
                               if self.cost.get("commit") else {})),
            started_at=_number(self.cost.get("start_epoch")),
        )

    # -- reading the parts ----------------------------------------------------------------

    def _list_parts(self) -> None:
        """Sort the folder's files into parts; a file of no known part is reported."""
        for child in sorted(self.folder.iterdir()):
            name = child.name
            if name.startswith(".") or name in _SINGLE:
                continue
            if any(p.fullmatch(name) for p in _NOT_THE_AGENTS):
                continue
            for kind, pattern in _NUMBERED.items():
                match = pattern.fullmatch(name)
                if match:
                    self.numbered[kind][int(match.group(1))] = name
                    break
            else:
                self.skipped[f"file {name!r} (not a known AutoCodeRover output)"] += 1

    def _attempts(self) -> list[_Attempt]:
        status = _dict(_json(self.folder, "extract_status.json")).get("extract_status")
        statuses = [str(s) for s in status] if isinstance(status, list) else []
        numbers = sorted(set(self.numbered["patch_chat"]) | set(self.numbered["raw"])
                         | set(self.numbered["diff"]))
        attempts = []
        for number in numbers:
            attempt = _Attempt(number)
            if number in self.numbered["patch_chat"]:
                name = self.numbered["patch_chat"][number]
                chat = _chat(_json(self.folder, name), name)
                replies = [n for n, m in enumerate(chat) if m.get("role") == "assistant"]
                if replies:
                    last = replies[-1]
                    attempt.raw = _content(chat[last])
                    # The message after the sub-agent's answer is what AutoCodeRover told it:
                    # the patch was extracted, or why it could not be applied.
                    if last + 1 < len(chat):
                        attempt.feedback = _content(chat[last + 1])
            if number in self.numbered["raw"]:
                attempt.raw = _text(self.folder, self.numbered["raw"][number]) or attempt.raw
            if number in self.numbered["diff"]:
                attempt.diff = _text(self.folder, self.numbered["diff"][number])
            if 0 < number <= len(statuses):
                attempt.status = statuses[number - 1]
            attempts.append(attempt)
        return attempts

    def _description(self) -> str | None:
        text = _text(self.folder, "problem_statement.txt")
        if not text and self.rounds:
            for message in self.rounds[0]:
                issue = _ISSUE.search(_content(message))
                if message.get("role") == "user" and issue:
                    text = issue.group(1)
                    break
        if not text:
            text = str(_dict(self.meta.get("task_info")).get("problem_statement") or "")
        return clip(text.strip(), 4000) or None

    def _task_id(self) -> str:
        task_id = self.meta.get("task_id") or _dict(self.meta.get("task_info")).get("instance_id")
        if isinstance(task_id, str) and task_id:
            return task_id
        match = _FOLDER.fullmatch(self.folder.name)
        return match.group(1) if match else self.folder.name

    # -- info.log -------------------------------------------------------------------------

    def _events(self, log: str) -> list[_Event]:
        """The log entries that matter, with epoch times. An entry is a timestamped line and
        the untimed lines after it (a thread dump, a round banner). The log writes local time
        without a zone; cost.json's ``start_epoch`` gives the offset (whole quarter hours)."""
        entries: list[tuple[float, str, list[str]]] = []
        offset: float | None = None
        start_epoch = _number(self.cost.get("start_epoch"))
        for line in log.split("\n"):
            match = _LOG_LINE.fullmatch(line)
            if match is None:
                if entries:
                    entries[-1][2].append(line)
                elif line.strip():
                    self.skipped["info.log line before the first time stamp"] += 1
                continue
            try:
                stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                self.skipped["info.log line with an impossible time stamp"] += 1
                continue
            naive = stamp.replace(tzinfo=timezone.utc).timestamp()
            if offset is None:
                offset = 0.0
                if start_epoch is not None and abs(naive - start_epoch) < 15 * 3600:
                    offset = round((naive - start_epoch) / 900) * 900.0
            entries.append((naive - offset, _ANSI.sub("", match.group(2)).strip(), []))
        events = []
        for at, body, more in entries:
            if body.startswith("Current message thread:"):
                continue  # the chat so far, as the conversation_round file has it
            if not body:
                body = " ".join(line.strip() for line in more if line.strip())
            elif any(line.strip() for line in more):
                self.skipped["info.log line without a time stamp"] += 1
            events.append(self._event(at, body))
        return [e for e in events if e.kind != "ignored"]

    def _event(self, at: float, body: str) -> _Event:
        if not body or body.startswith(_MACHINERY) or _ROUND.fullmatch(body):
            return _Event(at, "ignored")
        usage = _USAGE.match(body)
        if usage:
            return _Event(at, "usage", usage={"input_tokens": int(usage.group(1)),
                                              "output_tokens": int(usage.group(2)),
                                              "cost_usd": float(usage.group(3))})
        if body.startswith("Raw model response:"):
            return _Event(at, "response")
        if body.startswith("Trying to select search APIs in json"):
            return _Event(at, "proxy")
        if body.startswith(_PROXY_REJECTED):
            return _Event(at, "rejected", body)
        if body.startswith(_RESULT):
            return _Event(at, "result", body[len(_RESULT):])
        patch_try = _PATCH_TRY.match(body)
        if patch_try:
            return _Event(at, "patch_try", number=int(patch_try.group(1)))
        patch_raw = _PATCH_RAW.match(body)
        if patch_raw:
            return _Event(at, "patch_raw", number=int(patch_raw.group(1)))
        if "Running task" in body:
            return _Event(at, "start")
        if _TASK_END.match(body):
            return _Event(at, "end")
        self.skipped[f"info.log line {' '.join(body.split()[:4])!r}"] += 1
        return _Event(at, "ignored")

    @staticmethod
    def _result_text(body: str) -> str | None:
        """The answer text of a ``Result of dispatch_intent: (text, summary, ok)`` line (a
        Python tuple literal; read as a literal, never evaluated)."""
        try:
            value = ast.literal_eval(body)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return None
        if isinstance(value, tuple) and value and isinstance(value[0], str):
            return value[0]
        return None

    # -- building -------------------------------------------------------------------------

    def trace(self) -> Trace:
        builder = self.builder
        events = self._events(self.log) if self.log is not None else None
        api_calls = None
        ended_at = _number(self.cost.get("end_epoch"))
        if events is not None and self._log_agrees(events):
            self._from_log(events)
            api_calls = sum(1 for e in events if e.kind == "usage")
            if ended_at is None:
                ended_at = next((e.at for e in reversed(events) if e.kind == "end"), None)
            if builder.header.started_at is None:
                builder.header.started_at = next((e.at for e in events if e.kind == "start"),
                                                 None)
        else:
            why = "there is no info.log" if events is None else "info.log does not match " \
                "the tool-call sequence and the conversation"
            builder.warnings.append(f"{self.folder}: {why}: steps are in the order of the "
                                    f"conversation rounds, without times or API results")
            self._from_rounds()
        for api, n in sorted(self.unknown_apis.items()):
            builder.warnings.append(f"{self.folder}: {n} call(s) of unknown API {api!r} "
                                    f"imported as tool steps")
        for what, n in sorted(self.skipped.items()):
            builder.warnings.append(f"{self.folder}: skipped {n} records of type {what}")
        builder.header.meta["autocoderover"] = {
            "rounds": len(self.rounds), "patch_attempts": len(self.attempts),
            "extract_status": [a.status for a in self.attempts],
        }
        return builder.build(*self._end(api_calls, ended_at))

    def _final_attempt(self) -> _Attempt | None:
        """The attempt whose diff is the run's answer: the last that applied."""
        applied = [a for a in self.attempts if a.diff and (a.status in (None, _APPLIED))]
        return applied[-1] if applied else None

    def _log_agrees(self, events: list[_Event]) -> bool:
        """The log can order the steps only when it tells the same story as the other files:
        one result per API call and one search-agent answer per assistant message."""
        results = sum(1 for e in events if e.kind == "result")
        return results == len(self.calls) and \
            self._search_responses(events) == len(self.search_messages)

    @staticmethod
    def _search_responses(events: list[_Event]) -> int:
        count = 0
        context = None
        for event in events:
            if event.kind in ("proxy", "patch_try"):
                context = event.kind
            elif event.kind == "response":
                count += context is None
                context = None
        return count

    def _from_log(self, events: list[_Event]) -> None:
        messages = iter(self.search_messages)
        calls = iter(self.calls)
        attempts = {a.number: a for a in self.attempts}
        context: str | None = None
        attempt: _Attempt | None = None
        usage: dict[str, Any] | None = None
        speaker: Step | None = None  # the search-agent message the proxy is reading
        for event in events:
            if event.kind == "usage":
                usage = event.usage
            elif event.kind == "proxy":
                context = "proxy"
            elif event.kind == "patch_try":
                context = "patch"
                attempt = attempts.get(event.number)
                if attempt is None:
                    self.skipped["patch attempt in info.log without its files"] += 1
            elif event.kind == "response":
                if context == "proxy":
                    # The proxy restates the message just written as JSON: its cost belongs
                    # to that message; its text is not the agent's.
                    self._usage(speaker, usage, proxy=True)
                elif context == "patch":
                    if attempt is not None:
                        self._attempt_message(attempt, event.at, usage)
                    else:
                        self._usage(None, usage)
                else:
                    speaker = self._message(next(messages, ""), event.at, usage)
                context = None
                usage = None
            elif event.kind == "rejected" and speaker is not None:
                speaker.meta["proxy_rejected"] = int(speaker.meta.get("proxy_rejected", 0)) + 1
            elif event.kind == "patch_raw":
                done = attempts.get(event.number)
                if done is not None:
                    self._edits(done, event.at)
            elif event.kind == "result":
                call = next(calls)
                if call.get("func_name") == "write_patch":
                    self._write_patch(event.at, self._result_text(event.body))
                else:
                    self._call(call, self._result_text(event.body), event.at)
        self._write_patch(None, None)

    def _from_rounds(self) -> None:
        """Without a usable log: each round's first answer of the search agent, then the API
        calls of that round (``tool_call_layers.json``), then the rest of the round."""
        layers = _json(self.folder, "tool_call_layers.json")
        flat = [c for layer in layers for c in layer] if isinstance(layers, list) and all(
            isinstance(layer, list) for layer in layers) else None
        if flat != self.calls:
            layers = [self.calls]
        starts = [len(r) for r in self.rounds]
        done: set[int] = set()
        for position, message in enumerate(self.rounds[-1] if self.rounds else []):
            if message.get("role") != "assistant":
                continue
            self._message(_content(message), None, None)
            layer = max((n for n, start in enumerate(starts) if start <= position), default=0)
            if layer < len(layers) and layer not in done:
                done.add(layer)
                self._layer(layers[layer])
        for n, layer in enumerate(layers):
            if n not in done:
                self._layer(layer)
        self._write_patch(None, None)

    def _layer(self, calls: list[Any]) -> None:
        for call in calls:
            if call.get("func_name") == "write_patch":
                self._write_patch(None, None)
            else:
                self._call(call, None, None)

    # -- steps ----------------------------------------------------------------------------

    def _usage(self, step: Step | None, usage: dict[str, Any] | None, *,
               proxy: bool = False) -> None:
        """Add one model call's tokens and dollars to a step, so the steps add up to cost.json.
        A call whose own step is missing (an empty answer) is counted on the last step."""
        if usage is None:
            return
        if step is None:
            step = self.builder.steps[-1] if self.builder.steps else None
        if step is None:
            return
        total = step.meta.setdefault("usage", {"input_tokens": 0, "output_tokens": 0,
                                               "cost_usd": 0.0, "calls": 0})
        total["input_tokens"] += usage["input_tokens"]
        total["output_tokens"] += usage["output_tokens"]
        total["cost_usd"] = round(total["cost_usd"] + usage["cost_usd"], 6)
        total["calls"] += 1
        if proxy:
            step.meta["proxy_calls"] = int(step.meta.get("proxy_calls", 0)) + 1

    def _message(self, text: str, at: float | None, usage: dict[str, Any] | None) -> Step | None:
        step = self.builder.message(text, at=at)
        if step is None and self.builder.steps and self.builder.steps[-1].kind == "message":
            step = self.builder.steps[-1]  # an exact repeat: counted on the first
        self._usage(step, usage)
        return step

    def _call(self, call: dict[str, Any], result: str | None, at: float | None) -> Step:
        """One retrieval API call: a ``read`` of what it asked for, failed when nothing was
        found (``call_ok`` false, or an answer saying so)."""
        name = str(call.get("func_name") or "unknown")
        arguments = call.get("arguments")
        inp: dict[str, Any] = dict(arguments) if isinstance(arguments, dict) else (
            {} if arguments is None else {"value": arguments})
        # What was read: the file asked for, else the file(s) whose code the answer showed
        # (search_class finds the file itself); a list of file names alone is not a read.
        shown = list(dict.fromkeys(_SHOWN_FILE.findall(result or "")))
        path = inp.get("file_name") or inp.get("file_path")
        if isinstance(path, str) and path:
            inp["path"] = path
        elif shown:
            inp["path"] = shown[0]
        meta: dict[str, Any] = {"files": shown} if shown else {}
        ok = call.get("call_ok")
        failed = ok is False or (result is not None and bool(_NOT_FOUND.match(result)))
        error = clip((result or "").strip() or f"{name} found nothing (call_ok false)", 2000) \
            if failed else None
        kind = "read" if name.startswith(("search_", "get_")) else "tool"
        if kind == "tool":
            self.unknown_apis[name] += 1
        if isinstance(ok, bool):
            meta["call_ok"] = ok
        return self.builder.add(kind, name, input=inp, output=result, error=error, at=at,
                                meta=meta)

    def _attempt_message(self, attempt: _Attempt, at: float | None,
                         usage: dict[str, Any] | None) -> None:
        """The sub-agent's answer as it wrote it: the patch with its explanation."""
        attempt.said = True
        step = self._message(attempt.raw, at, usage)
        if step is not None:
            step.meta.setdefault("patch_attempt", attempt.number)

    def _edits(self, attempt: _Attempt, at: float | None) -> None:
        """The attempt's patch, one ``edit`` per file: the extracted diff when it applied,
        else the snippets of the raw answer (failed, with the feedback and the status)."""
        if attempt.emitted:
            return
        attempt.emitted = True
        meta: dict[str, Any] = {"patch_attempt": attempt.number}
        if attempt.status:
            meta["extract_status"] = attempt.status
        applied = attempt.diff is not None and attempt.status in (None, _APPLIED)
        feedback = attempt.feedback.strip() or None
        if applied and attempt.diff is not None:
            for path, section in split_patch(attempt.diff) or [("", attempt.diff)]:
                self.builder.add("edit", "write_patch",
                                 input={"path": path, "diff": section, "op": _diff_op(section)},
                                 output=feedback, at=at, meta={**meta, "diff_source":
                                                                "extracted_patch"})
            return
        error = ": ".join(p for p in (attempt.status, feedback) if p) or \
            "the patch was not extracted"
        by_file: dict[str, list[tuple[str, str]]] = {}
        for path, original, patched in _modifications(attempt.raw):
            by_file.setdefault(path, []).append((original, patched))
        if not by_file:
            self.builder.add("edit", "write_patch", input={"path": "", "raw": attempt.raw},
                             output=feedback, error=clip(error, 2000), at=at,
                             meta={**meta, "diff_source": "none"})
            return
        for path, pairs in by_file.items():
            self.builder.add("edit", "write_patch",
                             input={"path": path, "diff": _snippet_diff(path, pairs),
                                    "modifications": [{"old": o, "new": p} for o, p in pairs]},
                             output=feedback, error=clip(error, 2000), at=at,
                             meta={**meta, "diff_source": "raw_patch"})

    def _write_patch(self, at: float | None, result: str | None) -> None:
        """The ``write_patch`` call ends the search: attempts the log did not show are laid
        out here (without their own time), then the answer is handed in."""
        for attempt in self.attempts:
            if not attempt.said:
                self._attempt_message(attempt, at, None)
            self._edits(attempt, at)
        if self.final is not None and self.submitted is None:
            self._submit(at, result)

    def _submit(self, at: float | None, result: str | None) -> None:
        assert self.final is not None
        self.submitted = self.builder.add(
            "submit", "write_patch", input={"patch": self.final.diff}, output=result, at=at,
            meta={"patch_attempt": self.final.number})

    def _end(self, api_calls: int | None, ended_at: float | None
             ) -> tuple[EndStatus, dict[str, Any], float | None]:
        status: EndStatus = "completed" if self.final is not None else "failed"
        outcome: dict[str, Any] = {
            "submitted": self.final is not None,
            "cost_usd": _number(self.cost.get("total_cost")),
            "input_tokens": self.cost.get("total_input_tokens"),
            "output_tokens": self.cost.get("total_output_tokens"),
            "total_tokens": self.cost.get("total_tokens"),
            "api_calls": api_calls,
            "elapsed_seconds": _number(self.cost.get("elapsed_seconds")),
            "patch_attempts": len(self.attempts),
        }
        return status, {k: v for k, v in outcome.items() if v is not None}, ended_at
