"""An agent driven by a model behind the OpenAI-compatible chat-completions API, with tools.

Configured by environment variables: ``TRACEBENCH_LLM_BASE_URL`` (for example
``http://localhost:8000/v1``), ``TRACEBENCH_LLM_MODEL``, ``TRACEBENCH_LLM_API_KEY`` (the
``OPENAI_*`` names work too). The model gets five tools: ``read_file``, ``edit_file`` (replace
a unique piece of text), ``run_command``, ``run_tests`` and ``submit``. Every model call is
recorded as an ``llm`` step with its token usage, every tool call as the step it is (commands
through the sandbox). Standard library only: no SDK to install.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pytest_tracebench.agents.sandbox import environment_for_python, get_sandbox
from pytest_tracebench.record.recorder import TraceRecorder

SYSTEM = ("You are a software engineer fixing an issue in the repository in your working "
          "directory. Use the tools: read files, edit them, run the tests, and submit when the "
          "tests pass. Do not edit the tests.")

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "read_file", "description": "Read a file.",
     "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                    "required": ["path"]}}},
    {"type": "function", "function": {"name": "edit_file",
     "description": "Replace one occurrence of old with new in a file.",
     "parameters": {"type": "object", "properties": {
         "path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}},
         "required": ["path", "old", "new"]}}},
    {"type": "function", "function": {"name": "run_command", "description": "Run a shell "
     "command in the repository.", "parameters": {"type": "object", "properties": {
         "command": {"type": "string"}}, "required": ["command"]}}},
    {"type": "function", "function": {"name": "run_tests", "description": "Run the test suite.",
     "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "submit", "description": "Finish: the fix is "
     "done.", "parameters": {"type": "object", "properties": {
         "summary": {"type": "string"}}}}},
]


class LLMError(Exception):
    """The model endpoint failed; the message says how."""


def _env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return default


class LLMAgent:
    name = "llm"

    def __init__(self, base_url: str | None = None, model: str | None = None,
                 api_key: str | None = None, max_turns: int = 20, sandbox: str = "auto",
                 test_command: str = "python -m pytest -q -p no:cacheprovider tests",
                 timeout: float = 120.0) -> None:
        self.base_url = (base_url or _env("TRACEBENCH_LLM_BASE_URL", "OPENAI_BASE_URL",
                                          default="https://api.openai.com/v1") or "").rstrip("/")
        self.model = model or _env("TRACEBENCH_LLM_MODEL", "OPENAI_MODEL", default="gpt-4o-mini")
        self.api_key = api_key or _env("TRACEBENCH_LLM_API_KEY", "OPENAI_API_KEY")
        self.max_turns = max_turns
        self.sandbox = sandbox
        self.test_command = test_command
        self.timeout = timeout

    def _complete(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        body = json.dumps({"model": self.model, "messages": messages, "tools": TOOLS}).encode()
        request = urllib.request.Request(f"{self.base_url}/chat/completions", data=body,
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            raise LLMError(f"{self.base_url}: HTTP {exc.code}: "
                           f"{exc.read()[:300].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LLMError(f"{self.base_url}: {exc}") from None

    def solve(self, issue: str, workspace: Path, trace: TraceRecorder) -> bool:
        trace.set_agent("llm-agent", model=self.model)
        trace.set_task(description=issue.strip())
        box = get_sandbox(workspace, self.sandbox, env=environment_for_python())
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM},
                                          {"role": "user", "content": issue}]
        for _ in range(self.max_turns):
            started = time.time()
            try:
                reply = self._complete(messages)
            except LLMError as exc:
                trace.error(str(exc), name="llm_error")
                return False
            choice = (reply.get("choices") or [{}])[0]
            message = choice.get("message") or {}
            usage = reply.get("usage") or {}
            calls = message.get("tool_calls") or []
            trace.llm(messages[-1:], response=message.get("content"), model=reply.get("model",
                                                                                     self.model),
                      input_tokens=usage.get("prompt_tokens"),
                      output_tokens=usage.get("completion_tokens"), tool_calls=calls,
                      started_at=started, ended_at=time.time())
            if message.get("content"):
                trace.message(str(message["content"]))
            messages.append({"role": "assistant", "content": message.get("content"),
                             **({"tool_calls": calls} if calls else {})})
            if not calls:
                trace.submit("")
                return False
            for call in calls:
                function = call.get("function") or {}
                name = function.get("name", "")
                try:
                    args = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    args = {}
                if name == "submit":
                    trace.submit(answer=args.get("summary", ""))
                    return True
                result = self._tool(name, args, workspace, box, trace)
                messages.append({"role": "tool", "tool_call_id": call.get("id"),
                                 "content": result})
        trace.message(f"Stopped after {self.max_turns} model turns without submitting.")
        return False

    def _tool(self, name: str, args: dict[str, Any], workspace: Path, box: Any,
              trace: TraceRecorder) -> str:
        path = workspace / str(args.get("path", ""))
        inside = path.resolve().is_relative_to(workspace.resolve())
        if name in ("read_file", "edit_file") and not inside:
            trace.error(f"{name}: {args.get('path')} is outside the workspace", name=name)
            return "error: path outside the repository"
        if name == "read_file":
            try:
                text = path.read_text()
            except OSError as exc:
                trace.step("read", "read_file", input={"path": args.get("path")},
                           error=str(exc))
                return f"error: {exc}"
            trace.read(str(args.get("path")), content=text, name="read_file")
            return text
        if name == "edit_file":
            try:
                text = path.read_text()
            except OSError as exc:
                return f"error: {exc}"
            old, new = str(args.get("old", "")), str(args.get("new", ""))
            if not old or text.count(old) != 1:
                trace.step("edit", "edit_file", input={"path": args.get("path"), "old": old,
                                                       "new": new},
                           error="old text not found exactly once")
                return "error: old text must occur exactly once"
            path.write_text(text.replace(old, new, 1))
            trace.edit(str(args.get("path")), old=old, new=new, name="edit_file")
            return "ok"
        if name == "run_command":
            result = box.run(str(args.get("command", "")), trace=trace)
            return f"exit code {result.exit_code}\n{result.stdout}{result.stderr}"[-8000:]
        if name == "run_tests":
            result = box.run(self.test_command, trace=trace)
            return f"exit code {result.exit_code}\n{result.stdout}{result.stderr}"[-8000:]
        trace.step("tool", name or "unknown", input=args, error="unknown tool")
        return f"error: unknown tool {name!r}"
