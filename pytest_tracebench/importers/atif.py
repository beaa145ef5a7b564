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

from pytest_tracebench.exporters.atif import atif_records
from pytest_tracebench.importers.builder import (
    TraceBuilder,
    stable_id,
    task_id_for,
    text_of,
    to_epoch,
)
from pytest_tracebench.models import STEP_KINDS, AgentInfo, Step, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip

_SYNTHETIC = re.compile(r"^Executed \S+ \S+$")

#: The newest ATIF version whose fields this importer knows (Harbor's models, RFC 0001).
KNOWN_VERSION = (1, 8)
#: Step fields of ATIF up to v1.8; others are a newer version's, reported as skipped.
_STEP_FIELDS = {"step_id", "timestamp", "source", "model_name", "reasoning_effort", "message",
                "reasoning_content", "tool_calls", "observation", "metrics",
                "is_copied_context", "llm_call_count", "extra"}


def _version(text: Any) -> tuple[int, ...] | None:
    match = re.fullmatch(r"ATIF-v(\d+)\.(\d+)", str(text or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def _note_unknown(builder: TraceBuilder, raw: dict[str, Any]) -> None:
    """Count what this importer does not read in one step: fields of a newer version, an
    unknown source, media parts (a screenshot is not text)."""
    for key in raw:
        if key not in _STEP_FIELDS:
            builder.skip(f"step field {key!r}")
    if raw.get("source") not in (None, "user", "system", "agent"):
        builder.skip(f"step source {raw.get('source')!r}")
    results = (raw.get("observation") or {}).get("results") if isinstance(
        raw.get("observation"), dict) else None
    for content in [raw.get("message"), *(r.get("content") for r in results or []
                                          if isinstance(r, dict))]:
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") not in (None, "text"):
                    builder.skip(f"{part.get('type')} content part")


def _keep_what_is_lost(made: list[Step], raw: dict[str, Any],
                       pending: list[dict[str, Any]]) -> None:
    """Keep on the first step made from one ATIF step the fields the exporter would not
    rebuild the same way, so that ATIF -> ours -> ATIF gives the file back; an ATIF step that
    gave no step of ours is kept whole on the next one (``pending``)."""
    if not made:
        pending.append(raw)
        return
    atif = dict(made[0].meta.get("atif") or {})
    rebuilt = atif_records(made)
    if len(rebuilt) != 1:
        atif["raw"] = raw
    else:
        record = rebuilt[0]
        fields = {k: v for k, v in raw.items() if k not in record or record[k] != v}
        absent = [k for k in record if k not in raw]
        patch: dict[str, Any] = {}
        if fields:
            patch["fields"] = fields
        if absent:
            patch["absent"] = absent
        if list(raw) != [k for k in record if k in raw] + [k for k in raw if k not in record]:
            patch["order"] = list(raw)
        if patch:
            atif["patch"] = patch
    if pending:
        atif["preceding"] = list(pending)
        pending.clear()
    made[0].meta["atif"] = atif


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
        version = _version(data.get("schema_version"))
        if version is not None and version > KNOWN_VERSION:
            # Said in the same line as what was skipped: one line per file.
            builder.skip(f"document of {data['schema_version']} (read as ATIF-v"
                         f"{KNOWN_VERSION[0]}.{KNOWN_VERSION[1]})")
        pending: list[dict[str, Any]] = []
        for position, raw in enumerate(steps):
            if not isinstance(raw, dict):
                raise ValueError(f"steps[{position}]: expected an object")
            first = len(builder.steps)
            _note_unknown(builder, raw)
            self._step(builder, raw)
            _keep_what_is_lost(builder.steps[first:], raw, pending)
        if pending:
            builder.header.meta["atif_trailing"] = pending
        builder.header.meta["atif_document"] = {k: None if k == "steps" else v
                                                for k, v in data.items()}
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
        if isinstance(ours, dict) and ours.get("kind") == "message":
            # A message of ours ATIF has no place for (written by our exporter).
            builder.add("message", str(ours.get("name") or "message"),
                        input={"role": str(ours.get("role") or "assistant")},
                        output={"text": text}, at=at, meta=meta)
            return
        if source in ("user", "system"):
            step = builder.message(text, role=source, at=at, meta=meta)
            if step is not None and isinstance(ours, dict) and ours.get("name"):
                step.name = str(ours["name"])
            self._loose(builder, raw, 0, atif, at)
            return
        first = len(builder.steps)
        if isinstance(ours, dict) and ours.get("kind") == "llm":
            # A model call of ours (written by our exporter): its own llm step, holding usage.
            builder.add("llm", str(ours.get("name") or "llm"),
                        output={"usage": meta["usage"]} if meta.get("usage") else None, at=at,
                        meta=meta)
            meta = {"atif": atif}
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
            step = builder.tool_call(
                str(call.get("function_name") or "tool"), call.get("arguments"), content,
                is_error="[error] tool reported failure" in (content or ""), error=known_error,
                at=at, meta=call_meta,
            )
            marks = call.get("extra", {}).get("tracebench") if isinstance(
                call.get("extra"), dict) else None
            if isinstance(marks, dict):
                # Written by our exporter: the agent's tool name, and a kind the name does not
                # imply (a test run a harness tool reported, say).
                step.name = str(marks.get("name") or step.name)
                if marks.get("kind") in STEP_KINDS:
                    step.kind = marks["kind"]
        self._loose(builder, raw, len(calls), atif, at)
        if len(builder.steps) == first and meta.get("usage"):
            # A model call with nothing to show: keep its token usage on an llm step.
            builder.add("llm", "llm", output={"usage": meta["usage"]}, at=at, meta=meta)
        elif len(builder.steps) > first and meta.get("usage"):
            builder.steps[first].meta.setdefault("usage", meta["usage"])

    @staticmethod
    def _loose(builder: TraceBuilder, raw: dict[str, Any], answered: int,
               atif: dict[str, Any], at: float | None) -> None:
        """Results recorded without a call (beyond those matched to calls by position): a
        parse-error notice, a summarising subagent's trajectory reference."""
        observation = raw.get("observation")
        listed = observation.get("results") if isinstance(observation, dict) else None
        results = [r for r in (listed or []) if isinstance(r, dict)
                   and not r.get("source_call_id")]
        for result in results[answered:]:
            ref = result.get("subagent_trajectory_ref")
            builder.add("tool", "observation", output=text_of(result.get("content")) or ref,
                        at=at, meta={"atif": atif})
