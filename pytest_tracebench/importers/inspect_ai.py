"""Inspect AI evaluation logs: the ``.eval`` zip (log format 2: ``header.json`` or
``_journal/start.json`` plus ``samples/<id>_epoch_<n>.json``) and the single ``.json`` log.

Each sample is one run, so one trace: its chat messages give the steps (assistant text ->
``message``, each tool call -> a step answered by the ``tool`` message with the same id), its
scores and token usage give the outcome. Nothing in the zip is executed or unpickled.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..models import AgentInfo, EndStatus, TaskInfo, Trace
from ..redaction import clip
from ._build import TraceBuilder, stable_id, text_of

_MAX_MEMBER_BYTES = 512 * 1024 * 1024


def _score_value(score: Any) -> Any:
    return score.get("value") if isinstance(score, dict) else score


class InspectImporter:
    name = "inspect"
    description = "Inspect AI log (.eval zip or .json)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        if head.startswith(b"PK"):
            try:
                with zipfile.ZipFile(path) as archive:
                    names = set(archive.namelist())
            except (zipfile.BadZipFile, OSError):
                return False
            return "header.json" in names or "_journal/start.json" in names
        return b'"eval"' in head and b'"version"' in head and (
            b'"samples"' in head or b'"plan"' in head or b'"results"' in head)

    def load(self, path: Path) -> list[Trace]:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                header_name = "header.json" if "header.json" in names else "_journal/start.json"
                header = self._member(archive, header_name)
                samples = [self._member(archive, n) for n in sorted(names)
                           if n.startswith("samples/") and n.endswith(".json")]
        else:
            header = json.loads(path.read_text(encoding="utf-8"))
            samples = header.get("samples") or []
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise ValueError("no 'eval' header")
        version = header.get("version")
        if isinstance(version, int) and version > 2:
            from ..storage import TraceLoadError

            raise TraceLoadError(path, f"Inspect log format version {version} is newer than "
                                       "this importer reads (2); upgrade pytest-tracebench")
        return [self._sample(path, header, sample) for sample in samples
                if isinstance(sample, dict)]

    def _member(self, archive: zipfile.ZipFile, name: str) -> Any:
        info = archive.getinfo(name)
        if info.file_size > _MAX_MEMBER_BYTES:
            raise ValueError(f"{name} is {info.file_size} bytes, over the import limit")
        return json.loads(archive.read(name))

    def _sample(self, path: Path, header: dict[str, Any], sample: dict[str, Any]) -> Trace:
        evaluation = header["eval"]
        sample_id = f"{sample.get('id')}"
        epoch = sample.get("epoch", 1)
        task = str(evaluation.get("task") or "inspect")
        builder = TraceBuilder(
            format=self.name, path=path,
            trace_id=stable_id(self.name, evaluation.get("run_id"), task, sample_id, epoch),
            task=TaskInfo(id=f"{task}/{sample_id}", name=task,
                          description=clip(text_of(sample.get("input")), 4000) or None),
            agent=AgentInfo(name=str(evaluation.get("solver") or "inspect"),
                            model=evaluation.get("model")),
            meta={"epoch": epoch, "run_id": evaluation.get("run_id")},
        )
        messages = [m for m in sample.get("messages") or [] if isinstance(m, dict)]
        results = {m.get("tool_call_id"): m for m in messages if m.get("role") == "tool"}
        for message in messages:
            role = message.get("role")
            if role in ("user", "assistant"):
                builder.message(text_of(message.get("content")), role=role)
            if role != "assistant":
                continue
            for call in message.get("tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                answer = results.get(call.get("id")) or {}
                error = answer.get("error")
                builder.tool_call(str(call.get("function") or "tool"), call.get("arguments"),
                                  text_of(answer.get("content")), is_error=bool(error),
                                  meta={"unanswered": True} if not answer else None)
        scores = {name: _score_value(score)
                  for name, score in (sample.get("scores") or {}).items()}
        usage = sample.get("model_usage") or {}
        tokens = sum(int(u.get("total_tokens") or 0) for u in usage.values()
                     if isinstance(u, dict))
        outcome: dict[str, Any] = {"scores": scores, "target": sample.get("target")}
        if tokens:
            outcome["total_tokens"] = tokens
        status: EndStatus = "error" if sample.get("error") else "completed"
        return builder.build(status, outcome)
