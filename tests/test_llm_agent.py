"""The LLM agent against a real local HTTP server playing a scripted model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import TraceRecorder, load_trace
from pytest_tracebench.agents.llm import LLMAgent

from .conftest import REPO

TASK = REPO / "benchmarks" / "tasks" / "config_merge"


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"id": f"call_{name}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)}}


SCRIPT = [
    ("Let me look at the merge.", [_call("read_file", path="config.py")]),
    ("The user dict is merged first, so defaults win. Swap them.",
     [_call("edit_file", path="config.py", old="{**user, **defaults}",
            new="{**defaults, **user}")]),
    (None, [_call("run_tests")]),
    ("All tests pass now.", [_call("submit", summary="user values now override defaults")]),
]


class ScriptedModel(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    auth: list[str | None] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        turn = len(self.requests)
        self.requests.append(body)
        self.auth.append(self.headers.get("Authorization"))
        content, calls = SCRIPT[min(turn, len(SCRIPT) - 1)]
        reply = {"id": f"chatcmpl-{turn}", "model": "scripted-1",
                 "choices": [{"index": 0, "finish_reason": "tool_calls",
                              "message": {"role": "assistant", "content": content,
                                          "tool_calls": calls}}],
                 "usage": {"prompt_tokens": 100 + 50 * turn, "completion_tokens": 20,
                           "total_tokens": 120 + 50 * turn}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Any:
    ScriptedModel.requests = []
    ScriptedModel.auth = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedModel)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_llm_agent_solves_a_task_end_to_end(server: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(TASK / "repo", workspace)
    path = tmp_path / "trace.jsonl"
    rec = TraceRecorder(path)
    key = "sk-" + "local0test0key0abcdefghij"
    agent = LLMAgent(base_url=server, model="scripted-1", api_key=key, sandbox="local")
    assert agent.solve((TASK / "issue.md").read_text(), workspace, rec)
    rec.end()
    # The model was spoken to in the OpenAI wire format, with the tools and the key.
    first = ScriptedModel.requests[0]
    assert first["model"] == "scripted-1"
    assert [t["function"]["name"] for t in first["tools"]] == [
        "read_file", "edit_file", "run_command", "run_tests", "submit"]
    assert ScriptedModel.auth[0] == f"Bearer {key}"
    assert ScriptedModel.requests[1]["messages"][-1]["role"] == "tool"
    # The trace holds the model calls with their token counts, and the real actions.
    trace = load_trace(path)
    llm = [s for s in trace.steps if s.kind == "llm"]
    assert len(llm) == 4
    assert [s.output["usage"] for s in llm][:2] == [
        {"input_tokens": 100, "output_tokens": 20}, {"input_tokens": 150, "output_tokens": 20}]
    kinds = [s.kind for s in trace.steps if s.kind not in ("llm", "message")]
    assert kinds == ["read", "edit", "test", "submit"]
    assert trace.steps[[s.kind for s in trace.steps].index("test")].output["ok"] is True
    assert key not in path.read_text()
    shutil.copytree(TASK / "hidden", workspace / "_hidden")
    hidden = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "_hidden"], cwd=workspace, capture_output=True, timeout=120)
    assert hidden.returncode == 0


def test_llm_agent_reports_an_unreachable_endpoint(tmp_path: Path) -> None:
    rec = TraceRecorder(None)
    agent = LLMAgent(base_url="http://127.0.0.1:9/v1", model="m", sandbox="local", timeout=5)
    assert agent.solve("fix", tmp_path, rec) is False
    (step,) = rec.steps
    assert step.kind == "error" and "127.0.0.1:9" in (step.error or "")
