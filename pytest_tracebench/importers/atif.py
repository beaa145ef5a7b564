"""ATIF, the Agent Trajectory Interchange Format of Harbor / Terminal-Bench (``ATIF-v1.x``).

A trajectory is a list of steps from ``user``, ``system`` or ``agent``; an agent step may hold
a message, ``reasoning_content``, ``tool_calls`` and an ``observation`` whose ``results`` answer
the calls by ``source_call_id``. Every tool call becomes its own step through the shared tool
vocabulary (Claude Code's Bash/Read/Edit, OpenHands' str_replace_editor, terminus' bash_command).
The ATIF ids are kept in ``meta.atif`` so that the exporter can write the file back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..models import AgentInfo, TaskInfo, Trace
from ..redaction import clip
from ._build import TraceBuilder, stable_id, task_id_for, text_of, to_epoch

_SYNTHETIC = re.compile(r"^Executed \S+ \S+$")


def usage_meta(metrics: Any) -> dict[str, Any]:
    if not isinstance(metrics, dict):
        return {}
    usage = {"input_tokens": metrics.get("prompt_tokens"),
             "output_tokens": metrics.get("completion_tokens")}
    if metrics.get("cost_usd") is not None:
        usage["cost_usd"] = metrics["cost_usd"]
    return {"usage": usage} if any(isinstance(v, (int, float)) and v > 0
                                   for v in usage.values()) else {}


class AtifImporter:
    name = "atif"
    description = "ATIF trajectory (Harbor / Terminal-Bench, schema_version ATIF-v1.x)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"schema_version"' in head and b'"ATIF-v' in head

    def load(self, path: Path) -> list[Trace]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise ValueError("expected an object with a 'steps' list")
        agent = data.get("agent") or {}
        steps: list[dict[str, Any]] = data["steps"]
        first_user = next((text_of(s.get("message")) for s in steps
                           if s.get("source") == "user"), "")
        session = data.get("session_id") or path.stem
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, session),
            task=TaskInfo(id=task_id_for(path, str(session)),
                          description=clip(first_user, 4000) or None),
            agent=AgentInfo(name=agent.get("name") or "unknown", version=agent.get("version"),
                            model=agent.get("model_name")),
            meta={"atif_schema_version": data.get("schema_version"), "session_id": session},
        )
        for raw in steps:
            self._step(builder, raw)
        final = data.get("final_metrics") or {}
        outcome = {"total_prompt_tokens": final.get("total_prompt_tokens"),
                   "total_completion_tokens": final.get("total_completion_tokens"),
                   "total_cost_usd": final.get("total_cost_usd")}
        return [builder.build("completed", {k: v for k, v in outcome.items() if v is not None})]

    def _step(self, builder: TraceBuilder, raw: dict[str, Any]) -> None:
        source = raw.get("source") or "agent"
        at = to_epoch(raw.get("timestamp"))
        atif = {"step_id": raw.get("step_id"), "source": source}
        meta: dict[str, Any] = {"atif": atif, **usage_meta(raw.get("metrics"))}
        text = text_of(raw.get("message"))
        ours = (raw.get("extra") or {}).get("tracebench") if isinstance(raw.get("extra"),
                                                                         dict) else None
        if isinstance(ours, dict) and ours.get("kind") == "error":
            builder.add("error", str(ours.get("name") or "error"), error=text,
                        output=ours.get("output"), at=at, meta={"atif": atif})
            return
        if source in ("user", "system"):
            builder.message(text, role=source, at=at, meta=meta)
            return
        first = len(builder.steps)
        reasoning = text_of(raw.get("reasoning_content"))
        if reasoning and reasoning != "None":
            builder.message(reasoning, role="reasoning", at=at, meta=meta)
        if text and not _SYNTHETIC.match(text.strip()):
            builder.message(text, at=at, meta=meta)
        observation = raw.get("observation") or {}
        results = [r for r in (observation.get("results") or []) if isinstance(r, dict)]
        by_call = {r.get("source_call_id"): r for r in results if r.get("source_call_id")}
        loose = [r for r in results if not r.get("source_call_id")]
        calls = [c for c in (raw.get("tool_calls") or []) if isinstance(c, dict)]
        for position, call in enumerate(calls):
            call_id = call.get("tool_call_id")
            result = by_call.get(call_id)
            if result is None and position < len(loose):
                result = loose[position]
            content = text_of(result.get("content")) if result else None
            extra = result.get("extra") if result else None
            known_error = extra.get("tracebench_error") if isinstance(extra, dict) else None
            call_meta: dict[str, Any] = {"atif": {**atif, "tool_call_id": call_id,
                                                  "function_name": call.get("function_name"),
                                                  "arguments": call.get("arguments")}}
            if result is None:
                call_meta["unanswered"] = True
            builder.tool_call(
                str(call.get("function_name") or "tool"), call.get("arguments"), content,
                is_error="[error] tool reported failure" in (content or ""), error=known_error,
                at=at, meta=call_meta,
            )
        for result in loose[len(calls):]:
            ref = result.get("subagent_trajectory_ref")
            builder.add("tool", "observation", output=text_of(result.get("content")) or ref,
                        at=at, meta={"atif": atif})
        if len(builder.steps) == first and meta.get("usage"):
            # A model call with nothing to show: keep its token usage on an llm step.
            builder.add("llm", "llm", output={"usage": meta["usage"]}, at=at, meta=meta)
        elif len(builder.steps) > first and meta.get("usage"):
            builder.steps[first].meta.setdefault("usage", meta["usage"])
