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
from ..storage import check_zip
from ._build import TraceBuilder, stable_id, text_of


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
        if not zipfile.is_zipfile(path):
            header = json.loads(path.read_text(encoding="utf-8"))
            self._check(path, header)
            return [self._sample(path, header, sample) for sample in
                    header.get("samples") or [] if isinstance(sample, dict)]
        with zipfile.ZipFile(path) as archive:
            check_zip(path, archive)  # also a zip behind other bytes, which the registry let by
            names = archive.namelist()
            header = self._member(archive, "header.json" if "header.json" in names
                                  else "_journal/start.json")
            self._check(path, header)
            traces = []
            for name in sorted(names):
                if name.startswith("samples/") and name.endswith(".json"):
                    # One sample's JSON at a time: it is dropped once its trace is built.
                    sample = self._member(archive, name)
                    if isinstance(sample, dict):
                        traces.append(self._sample(path, header, sample))
            return traces

    def _check(self, path: Path, header: Any) -> None:
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise ValueError("no 'eval' header")
        version = header.get("version")
        if isinstance(version, int) and version > 2:
            from ..storage import TraceLoadError

            raise TraceLoadError(path, f"Inspect log format version {version} is newer than "
                                       "this importer reads (2); upgrade pytest-tracebench")

    def _member(self, archive: zipfile.ZipFile, name: str) -> Any:
        # The registry refused the file if its members add up to more than the limit
        # (check_trace_size counts them uncompressed); the reader inflates no more than that.
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
