"""Property-based fuzzing of every importer and of the analysis behind it.

Seeds are the real and native files in ``tests/data``; hypothesis mutates their JSON structure
(a value replaced by any other JSON value, a key dropped, a list emptied) or their bytes
(truncation, garbage). Whatever comes in, importing gives traces or one ``TraceLoadError`` line,
and analysing what was imported gives a result: never another exception. Budgets are small
here so CI stays fast; ``TRACEBENCH_FUZZ_EXAMPLES`` raises them for a long run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_tracebench import TraceLoadError
from pytest_tracebench.importers import import_path
from pytest_tracebench.pipeline import Pipeline

from .test_fuzz_parsers import no_hang

DATA = Path(__file__).parent / "data"
LONG_RUN = os.environ.get("TRACEBENCH_FUZZ_EXAMPLES")
EXAMPLES = int(LONG_RUN or "25")
MAX_SEED_BYTES = 400_000


def _seeds() -> list[Path]:
    found = []
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".jsonl"):
            continue
        if "/events/" in path.as_posix() or path.stat().st_size > MAX_SEED_BYTES:
            continue  # directory-shaped trajectories are fuzzed through their folder elsewhere
        found.append(path)
    return found


SEEDS = _seeds()
PIPELINE = Pipeline.from_settings()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for n, value in enumerate(node[:50]):
            out += _paths(value, (*prefix, n))
    return out


def _mutate(doc: Any, data: st.DataObject) -> Any:
    paths = _paths(doc)
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="where")]
    action = data.draw(st.sampled_from(["replace", "drop", "empty"]), label="action")
    if not path:
        return data.draw(json_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "drop":
        del parent[key]
    elif action == "empty":
        parent[key] = type(parent[key])() if isinstance(parent[key], (dict, list, str)) else None
    else:
        parent[key] = data.draw(json_values, label="value")
    return doc


def _check(path: Path) -> None:
    with no_hang():  # a hang fails the example instead of blocking the suite
        try:
            traces = import_path(path)
        except TraceLoadError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message
            return
        for trace in traces:
            result = PIPELINE.analyze(trace)
            assert result.score is not None


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.relative_to(DATA).as_posix()[-60:])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=LONG_RUN is None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_structural_mutations_import_or_fail_in_one_line(seed: Path, data: st.DataObject,
                                                         tmp_path: Path) -> None:
    text = seed.read_text(encoding="utf-8", errors="replace")
    out = tmp_path / seed.name
    if seed.suffix == ".jsonl":
        lines = [line for line in text.splitlines() if line.strip()]
        n = data.draw(st.integers(0, len(lines) - 1), label="line")
        try:
            lines[n] = json.dumps(_mutate(json.loads(lines[n]), data))
        except ValueError:
            pass
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        try:
            doc = json.loads(text)
        except ValueError:
            return
        out.write_text(json.dumps(_mutate(doc, data)), encoding="utf-8")
    _check(out)


@pytest.mark.parametrize("seed", SEEDS[::3], ids=lambda p: p.relative_to(DATA).as_posix()[-60:])
@settings(max_examples=max(5, EXAMPLES // 3), deadline=None, derandomize=LONG_RUN is None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.floats(0, 1), junk=st.binary(max_size=64))
def test_truncated_and_garbled_bytes_fail_in_one_line(seed: Path, cut: float, junk: bytes,
                                                      tmp_path: Path) -> None:
    raw = seed.read_bytes()
    out = tmp_path / seed.name
    out.write_bytes(raw[: int(len(raw) * cut)] + junk)
    _check(out)
