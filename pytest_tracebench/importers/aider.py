"""aider chat histories (``.aider.chat.history.md``).

The file appends one section per session (``# aider chat started at ...``); each session with
user input becomes a trace. ``#### `` lines are the user's input (``/run`` and ``/test``
become commands with the ``> `` lines that follow as their output), ``> `` lines are aider's
own output (``Applied edit to PATH`` -> an ``edit``), everything else is the model's reply, in
which SEARCH/REPLACE blocks are edits of the file named just before them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..models import AgentInfo, TaskInfo, Trace
from ..redaction import clip
from ._build import TraceBuilder, stable_id, to_epoch

_SESSION = re.compile(r"^# aider chat started at (.+)$", re.M)
_APPLIED = re.compile(r"^Applied edit to (.+?)\s*$")
_MODEL = re.compile(r"^(?:Main model|Model): (\S+)")
_VERSION = re.compile(r"^Aider v(\S+)")
_BLOCK = re.compile(r"(?:^|\n)([^\n]+)\n(?:```[^\n]*\n)?<<<<<<< SEARCH\n(.*?)\n=======\n(.*?)\n"
                    r">>>>>>> REPLACE", re.S)


class AiderImporter:
    name = "aider"
    description = "aider chat history (.aider.chat.history.md)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip().startswith(b"# aider chat started at")

    def load(self, path: Path) -> list[Trace]:
        text = path.read_text(encoding="utf-8", errors="replace")
        starts = list(_SESSION.finditer(text))
        traces = []
        for number, match in enumerate(starts):
            end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
            trace = self._session(path, number, match.group(1).strip(), text[match.end():end])
            if trace is not None:
                traces.append(trace)
        return traces

    def _session(self, path: Path, number: int, started: str, body: str) -> Trace | None:
        lines = body.split("\n")
        if not any(line.startswith("#### ") for line in lines):
            return None  # start-up noise only: no user turn
        builder = TraceBuilder(format=self.name, path=path,
                               trace_id=stable_id(self.name, str(path), number, started),
                               task=TaskInfo(id=f"{path.parent.name or path.stem}#{number}"),
                               agent=AgentInfo(name="aider"),
                               started_at=to_epoch(started.replace(" ", "T")))
        reply: list[str] = []
        user: list[str] = []
        tool_out: list[str] = []
        pending_command: str | None = None

        def flush_reply() -> None:
            text = "\n".join(reply).strip()
            reply.clear()
            if not text:
                return
            builder.message(text)
            for file_line, old, new in _BLOCK.findall(text):
                builder.add("edit", "search_replace",
                            input={"path": file_line.strip().strip("`*"), "old": old, "new": new})

        def flush_user() -> None:
            nonlocal pending_command
            text = "\n".join(user).strip()
            user.clear()
            if not text:
                return
            if text.startswith(("/run ", "/test ")):
                pending_command = text.split(" ", 1)[1]
            else:
                if builder.header.task.description is None:
                    builder.header.task.description = clip(text, 4000)
                builder.message(text, role="user")

        def flush_tool() -> None:
            nonlocal pending_command
            if pending_command is not None:
                builder.shell(pending_command, "\n".join(tool_out))
                pending_command = None
            tool_out.clear()

        for line in lines:
            if line.startswith("#### "):
                flush_reply()
                flush_tool()
                user.append(line[5:].rstrip())
            elif line.startswith("> ") or line == ">":
                flush_user()
                flush_reply()
                content = line[2:].rstrip()
                tool_out.append(content)
                applied = _APPLIED.match(content)
                if applied:
                    builder.add("edit", "apply_edit", input={"path": applied.group(1)})
                model = _MODEL.match(content)
                if model and builder.header.agent.model is None:
                    builder.header.agent.model = model.group(1)
                version = _VERSION.match(content)
                if version and builder.header.agent.version is None:
                    builder.header.agent.version = version.group(1)
            else:
                flush_user()
                flush_tool()
                reply.append(line)
        flush_user()
        flush_reply()
        flush_tool()
        return builder.build("completed")
