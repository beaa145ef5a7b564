"""mini-swe-agent trajectories (``*.traj.json``, ``trajectory_format: mini-swe-agent-1``).

Every assistant message holds a THOUGHT and exactly one bash block; the next user message is
the observation (``<returncode>`` and ``<output>``, or a timeout / format-error notice). The
command marked ``COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`` is the submission; ``info.submission``
holds the patch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..models import AgentInfo, EndStatus, TaskInfo, Trace
from ._build import TraceBuilder, stable_id, text_of

# The agent's own action regex: only ```bash blocks are actions (a ```python block in the
# THOUGHT is not).
_BASH_BLOCK = re.compile(r"```bash\s*\n(.*?)\n```", re.S)
_RETURNCODE = re.compile(r"<returncode>(-?\d+)</returncode>")
_OUTPUT = re.compile(r"<output>\n?(.*?)</output>", re.S)
_HEAD_TAIL = re.compile(r"<output_head>\n?(.*?)</output_head>.*?<output_tail>\n?(.*?)"
                        r"</output_tail>", re.S)
_TIMEOUT = re.compile(r"^The last command <command>.*?</command> timed out", re.S)
_PR = re.compile(r"<pr_description>\s*(?:Consider the following PR description:)?\s*(.*?)"
                 r"</pr_description>", re.S)


def parse_observation(text: str) -> tuple[int | None, str, bool]:
    """(exit code, output, timed out) of a mini-swe-agent observation message."""
    timed_out = bool(_TIMEOUT.match(text))
    code = _RETURNCODE.search(text)
    head_tail = _HEAD_TAIL.search(text)
    if head_tail:
        output = f"{head_tail.group(1)}\n...[elided by the agent]...\n{head_tail.group(2)}"
    else:
        match = _OUTPUT.search(text)
        output = match.group(1) if match else text
    return (int(code.group(1)) if code else None), output, timed_out


class MiniSweAgentImporter:
    name = "mini-swe-agent"
    description = "mini-swe-agent trajectory (trajectory_format mini-swe-agent-1)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return (b'"trajectory_format"' in head and b"mini-swe-agent" in head) or \
            (b'"mini_version"' in head and b'"messages"' in head)

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise ValueError("expected an object with a 'messages' list")
        info: dict[str, Any] = data.get("info") or {}
        messages: list[dict[str, Any]] = data["messages"]
        config = info.get("config") or {}
        model = (config.get("model") or {}).get("model_name")
        instance = data.get("instance_id") or path.name.split(".traj")[0]
        first_user = next((text_of(m.get("content")) for m in messages
                           if m.get("role") == "user"), "")
        pr = _PR.search(first_user)
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, instance, info.get("submission"), len(messages)),
            task=TaskInfo(id=instance, description=(pr.group(1).strip() if pr
                                                    else first_user[:4000]) or None),
            agent=AgentInfo(name="mini-swe-agent", version=info.get("mini_version"),
                            model=model),
        )
        started = False
        i = 0
        while i < len(messages):
            msg = messages[i]
            role = msg.get("role")
            content = text_of(msg.get("content"))
            if role != "assistant":
                if role == "user" and started:
                    builder.message(content, role="user")
                started = started or role == "user"
                i += 1
                continue
            started = True
            extra = msg.get("extra") or {}
            response = extra.get("response") or {}
            usage = response.get("usage") or {}
            at = float(response["created"]) if isinstance(response.get("created"),
                                                          (int, float)) else None
            meta: dict[str, Any] = {}
            if usage:
                meta["usage"] = {"input_tokens": usage.get("prompt_tokens"),
                                 "output_tokens": usage.get("completion_tokens")}
            blocks = _BASH_BLOCK.findall(content)
            thought = content.split("```", 1)[0]
            thought = re.sub(r"^\s*THOUGHT:\s*", "", thought).strip()
            builder.message(thought or content if len(blocks) != 1 else thought, at=at,
                            meta=meta)
            observation = messages[i + 1] if i + 1 < len(messages) and \
                messages[i + 1].get("role") == "user" else None
            obs_text = text_of(observation.get("content")) if observation else ""
            if len(blocks) == 1:
                command = blocks[0].strip()
                code, output, timed_out = parse_observation(obs_text)
                step = builder.shell(command, output, exit_code=code, timed_out=timed_out,
                                     at=at)
                if step.kind == "submit":
                    step.input = {"command": command, "patch": info.get("submission", "")}
            elif observation is not None:
                builder.add("error", "format_error", error=obs_text.strip()[:2000], at=at,
                            output={"found_actions": len(blocks)})
            i += 2 if observation is not None else 1
        exit_status = str(info.get("exit_status") or "")
        status: EndStatus = "completed" if exit_status in ("Submitted", "") else (
            "timeout" if "timeout" in exit_status.lower() or "limit" in exit_status.lower()
            else "error")
        stats = info.get("model_stats") or {}
        outcome = {"exit_status": exit_status or None,
                   "submitted": bool(info.get("submission")),
                   "cost_usd": stats.get("instance_cost"), "api_calls": stats.get("api_calls")}
        return [builder.build(status, outcome)]
