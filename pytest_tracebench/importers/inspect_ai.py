"""Inspect AI evaluation logs: the ``.eval`` zip (log format 2: ``header.json`` or
``_journal/start.json`` plus ``samples/<id>_epoch_<n>.json``) and the single ``.json`` log.

Each sample is one run, so one trace: its chat messages give the steps (assistant text ->
``message``, each tool call -> a step answered by the ``tool`` message with the same id), its
scores and token usage give the outcome. Nothing in the zip is executed or unpickled.

The scores are the eval's own verdict on the sample, so they become the outcome's ``passed``
and ``reward`` (see :func:`verdict`): without them a sample Inspect scored ``I`` would count
as a pass. Inspect since 0.3.1xx compresses the ``.eval`` members with zstd (zip method 93),
which Python's ``zipfile`` reads only from 3.14 on; before that the ``zstandard`` package
(``pytest-tracebench[inspect]``) reads them.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from pathlib import Path
from typing import Any

from pytest_tracebench.importers.builder import TraceBuilder, stable_id, text_of
from pytest_tracebench.models import AgentInfo, EndStatus, TaskInfo, Trace
from pytest_tracebench.record.redaction import clip
from pytest_tracebench.record.trace_file import TraceLoadError, check_zip

#: The log format versions this importer was checked against. A newer one is read all the
#: same (its samples keep the fields read here) and the trace says so in a load warning.
KNOWN_VERSIONS = (1, 2)
_ZSTD = 93  # zip compression method of zstd (APPNOTE 4.4.5)
#: Inspect's own value_to_float: ``C``orrect, ``I``ncorrect, ``P``artial, ``N``o answer.
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0, "yes": 1.0, "no": 0.0, "true": 1.0,
            "false": 0.0}
#: The score that says whether the task was done when a scorer gives several (Control Arena:
#: the main task; its ``side_task_success`` is the attack's, not the work's).
_MAIN = "main_task_success"


def _score_value(score: Any) -> Any:
    return score.get("value") if isinstance(score, dict) else score


def _as_float(value: Any) -> float | None:
    """A score value as Inspect's ``value_to_float`` reads it; ``None`` when it is not one
    (a dict of sub-scores, free text, a number outside [0, 1] on a scale we do not know)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and 0.0 <= value <= 1.0 else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text]
        if text.lower() in _LETTERS:
            return _LETTERS[text.lower()]
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) and 0.0 <= number <= 1.0 else None
    return None


def verdict(scores: dict[str, Any]) -> dict[str, Any]:
    """``passed`` and ``reward`` from a sample's score values, or ``{}`` when none reads as one.

    A ``main_task_success`` (its own scorer, or a key of a scorer's dict value, as Control
    Arena writes it) decides alone. Otherwise every scorer that gives a readable value counts:
    the reward is their mean and the sample passed when each is full marks."""
    for name, value in scores.items():
        main = value.get(_MAIN) if isinstance(value, dict) else value if name == _MAIN else None
        number = _as_float(main)
        if number is not None:
            return {"passed": number >= 1.0, "reward": number}
    numbers = [n for n in (_as_float(v) for v in scores.values()) if n is not None]
    if not numbers:
        return {}
    return {"passed": all(n >= 1.0 for n in numbers), "reward": sum(numbers) / len(numbers)}


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
            warning = self._check(path, header)
            return [self._sample(path, header, sample, warning) for sample in
                    header.get("samples") or [] if isinstance(sample, dict)]
        with zipfile.ZipFile(path) as archive:
            check_zip(path, archive)  # also a zip behind other bytes, which the registry let by
            names = archive.namelist()
            header = self._member(archive, "header.json" if "header.json" in names
                                  else "_journal/start.json")
            warning = self._check(path, header)
            traces = []
            for name in sorted(names):
                if name.startswith("samples/") and name.endswith(".json"):
                    # One sample's JSON at a time: it is dropped once its trace is built.
                    sample = self._member(archive, name)
                    if isinstance(sample, dict):
                        traces.append(self._sample(path, header, sample, warning))
            return traces

    def _check(self, path: Path, header: Any) -> str | None:
        """A warning for a log format newer than :data:`KNOWN_VERSIONS`, which is read as the
        newest known one (refusing it would leave the user nothing to read)."""
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise ValueError("no 'eval' header")
        version = header.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and \
                version > max(KNOWN_VERSIONS):
            return (f"{path}: Inspect log format version {version} is newer than the versions "
                    f"this importer was checked against ({max(KNOWN_VERSIONS)}); read as "
                    f"version {max(KNOWN_VERSIONS)}")
        return None

    def _member(self, archive: zipfile.ZipFile, name: str) -> Any:
        # The registry refused the file if its members add up to more than the limit
        # (check_trace_size counts them uncompressed); the reader inflates no more than that.
        info = archive.getinfo(name)
        if info.compress_type == _ZSTD:
            return json.loads(_read_zstd(archive, info))
        return json.loads(archive.read(name))

    def _sample(self, path: Path, header: dict[str, Any], sample: dict[str, Any],
                warning: str | None = None) -> Trace:
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
        outcome: dict[str, Any] = {"scores": scores, "target": sample.get("target"),
                                   **verdict(scores)}
        if warning is not None:
            builder.warnings.append(warning)
        if tokens:
            outcome["total_tokens"] = tokens
        status: EndStatus = "error" if sample.get("error") else "completed"
        return builder.build(status, outcome)


def _read_zstd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A zstd-compressed member: by the standard library where it can (Python 3.14), else
    with ``zstandard``, never past the size the zip's directory declares."""
    try:
        return archive.read(info)
    except NotImplementedError:
        pass
    try:
        import zstandard
    except ImportError:
        raise TraceLoadError(
            Path(str(archive.filename)),
            "Inspect .eval compressed with zstd (Inspect 0.3.1xx and later): install "
            "pytest-tracebench[inspect] (the zstandard package) or use Python 3.14 to read "
            "it") from None
    fp = archive.fp
    if fp is None:
        raise ValueError("the zip is closed")
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: bad local file header")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    fp.seek(info.header_offset + 30 + name_length + extra_length)
    raw = fp.read(info.compress_size)
    chunks: list[bytes] = []
    size = 0
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw),
                                                     read_across_frames=True) as reader:
        while size <= info.file_size:
            chunk = reader.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size != info.file_size:
        raise ValueError(f"{info.filename}: inflates to {size} bytes, not the "
                         f"{info.file_size} its zip directory declares")
    return b"".join(chunks)
