"""The native step encoder against the Python path it stands in for.

The recorder's Python path (``TraceRecorder._step_line``) defines what a step's line holds; the
native encoder (``pytest_tracebench.record._steplog``) only takes the cases it can do exactly
the same way and declines the rest (returns ``None``). So: the same steps recorded both ways
give the same trace file (parsed: the two serialisers may spell a float differently, never its
value), whatever the values — secrets, control characters, lone surrogates, huge integers,
non-JSON objects, deep nesting, lines over the size limit. ``TRACEBENCH_FUZZ_EXAMPLES`` raises
the budgets.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_tracebench import TraceRecorder, load_trace
from pytest_tracebench.record._stepwriter import compile_triggers, native_available
from pytest_tracebench.record.redaction import BUILTIN_PATTERNS, BUILTIN_TRIGGERS, Redactor

LONG_RUN = os.environ.get("TRACEBENCH_FUZZ_EXAMPLES")
EXAMPLES = int(LONG_RUN or "200")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=LONG_RUN is None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

SECRETS = [
    "sk-proj-" + "a1B2c3D4" * 4, "ghp_" + "x" * 36, "AKIA" + "ABCDEFGHIJKLMNOP",
    "password=hunter22", "Authorization: Bearer abcdefghijklmnop", "xoxb-1234567890-abc",
    "pa\u017f\u017fword=hunter22", "to\u212aen=abcdef123", "credent\u0130al=abcdefgh",
    "https://user:pa55word@example.com/x", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
]
TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(SECRETS),
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from(SECRETS),
                       st.sampled_from(["\x00", "\x1f", '"', "\\", "\ud800", "\u2028", "é",
                                        "🙂", "\x7f", "token", "TOKEN", "SK-", "://"])),
             max_size=8).map("".join),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(TEXT, inner, max_size=4),
        st.dictionaries(st.integers(0, 5), inner, max_size=2),  # non-str keys: Python path
        st.builds(PurePosixPath, st.sampled_from(["/tmp/x", "a b/c"])),  # not JSON: Python path
    ),
    max_leaves=12,
)
KINDS = st.sampled_from(["tool", "command", "read", "edit", "message", "llm", "test", "error"])
STEP = st.fixed_dictionaries(
    {"kind": KINDS, "name": TEXT, "input": VALUES, "output": VALUES},
    optional={"error": TEXT, "meta": st.dictionaries(TEXT, VALUES, max_size=3),
              "parent": st.integers(0, 3)},
)


def _recorder(path: Path, native: bool, **kwargs: Any) -> TraceRecorder:
    with mock.patch.dict(os.environ, {"TRACEBENCH_NATIVE": "1" if native else "0"}):
        rec = TraceRecorder(path, trace_id="t", **kwargs)
    assert (rec._encoder is not None) is native
    rec.header.started_at = 1.0
    return rec


def _compiled() -> Any:
    """The built-in triggers as the encoder checks them."""
    triggers = compile_triggers(BUILTIN_TRIGGERS)
    assert triggers is not None
    return triggers


def _records(path: Path) -> list[Any]:
    """The file's records, parsed (NaN and infinities are written as null either way)."""
    out = []
    for line in path.read_bytes().splitlines():
        record = json.loads(line)
        if record.get("type") == "end":
            record.pop("ended_at")
        out.append(record)
    return out


def _same_both_ways(tmp_path: Path, steps: list[dict[str, Any]], **kwargs: Any) -> None:
    files = []
    for native in (True, False):
        path = tmp_path / f"{'native' if native else 'python'}.jsonl"
        rec = _recorder(path, native, **kwargs)
        for i, step in enumerate(steps):
            rec.step(**step, started_at=100.0 + i, ended_at=100.5 + i)
        during = [s.model_dump() for s in rec.steps]
        rec.end()
        assert [s.model_dump() for s in rec.steps] == during  # read back == kept in memory
        files.append(path)
    assert _records(files[0]) == _records(files[1])


def test_the_native_writer_is_built_and_used_here(tmp_path: Path) -> None:
    """On this machine type (gcc and Python headers present) the install builds it."""
    assert native_available()
    with mock.patch.dict(os.environ, {"TRACEBENCH_NATIVE": "1"}):
        rec = TraceRecorder(tmp_path / "t.jsonl")
    assert rec._encoder is not None and rec._triggers is not None
    assert getattr(rec._encoder, "__name__", None) == "pytest_tracebench.record._steplog"


@FUZZ
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_any_step_gives_the_same_line_both_ways(tmp_path: Path,
                                                steps: list[dict[str, Any]]) -> None:
    _same_both_ways(tmp_path, steps)


@FUZZ
@given(steps=st.lists(STEP, min_size=1, max_size=3), limit=st.integers(50, 400))
def test_lines_over_the_limit_are_truncated_the_same_way(
    tmp_path: Path, steps: list[dict[str, Any]], limit: int
) -> None:
    _same_both_ways(tmp_path, steps, max_output_chars=limit)


@FUZZ
@given(steps=st.lists(STEP, min_size=1, max_size=3))
def test_redaction_off_gives_the_same_line_both_ways(
    tmp_path: Path, steps: list[dict[str, Any]]
) -> None:
    _same_both_ways(tmp_path, steps, redact=False)


@FUZZ
@given(command=TEXT, stdout=TEXT, exit_code=st.one_of(st.none(), st.integers(-3, 300)),
       cwd=st.one_of(st.none(), TEXT), name=st.one_of(st.none(), TEXT),
       timed_out=st.booleans())
def test_command_steps_are_the_same_both_ways(
    tmp_path: Path, command: str, stdout: str, exit_code: int | None, cwd: str | None,
    name: str | None, timed_out: bool
) -> None:
    files = []
    for native in (True, False):
        path = tmp_path / f"{native}.jsonl"
        rec = _recorder(path, native)
        rec.command(command, exit_code=exit_code, stdout=stdout, stderr=stdout[::-1], cwd=cwd,
                    timed_out=timed_out, name=name, started_at=5.0, ended_at=6.0)
        rec.command(["ls", command], stdout=stdout, started_at=5, ended_at=6)
        with rec.span("group"):
            rec.command(command, started_at=7.0, ended_at=7.0)
        rec.end()
        files.append(path)
    native_records, python_records = (_records(f) for f in files)
    for record in native_records + python_records:  # the span closes at "now"
        if record.get("name") == "group":
            record["started_at"] = record["ended_at"] = 0
    assert native_records == python_records


@FUZZ
@given(parts=st.lists(st.one_of(st.text(max_size=40), st.sampled_from(BUILTIN_TRIGGERS),
                                st.sampled_from([t.upper() for t in BUILTIN_TRIGGERS]),
                                st.sampled_from(["\u0130", "\u0131", "\u017f", "\u212a"])),
                      max_size=12))
def test_the_native_secret_check_never_misses_what_the_patterns_find(parts: list[str]) -> None:
    """Its SIMD and byte-pair scans agree, and they flag every text a pattern would change."""
    text = "".join(parts)
    data = text.encode("utf-8", "surrogatepass")
    writer = _compiled()
    simd = writer.might_contain(data)
    assert simd == writer.might_contain(data, False)
    python_says = Redactor(BUILTIN_PATTERNS).might_contain(data)
    assert simd == python_says
    if Redactor(BUILTIN_PATTERNS).redact_value({"k": text}) != {"k": text}:
        assert simd


def _reference_might_contain(data: bytes) -> bool:
    """The pre-check by its definition, without the native scanner: a trigger anywhere in the
    ASCII-lowercased bytes, or one of the letters that fold to ASCII."""
    lowered = data.lower()  # bytes.lower() folds A-Z only, as the native LOWER table does
    text = data.decode("utf-8", "surrogatepass")
    return any(t.encode() in lowered for t in BUILTIN_TRIGGERS) or any(
        letter in text for letter in "\u0130\u0131\u017f\u212a")


@FUZZ
@given(parts=st.lists(st.one_of(st.text(max_size=40), st.sampled_from(BUILTIN_TRIGGERS),
                                st.sampled_from([t.upper() for t in BUILTIN_TRIGGERS]),
                                st.sampled_from([t[:-1] for t in BUILTIN_TRIGGERS]),
                                st.sampled_from(["_", "\x7f", "@", "`", "[", "{", "\x0f"])),
                      max_size=16))
def test_the_pair_table_scan_finds_exactly_the_triggers(parts: list[str]) -> None:
    """The fast scan answers as the definition does, on every block alignment: no trigger
    missed, and no text flagged for a pair that only shares a trigger's folded key."""
    writer = _compiled()
    text = "".join(parts)
    for pad in range(9):
        data = ("." * pad + text).encode("utf-8", "surrogatepass")
        assert writer.might_contain(data) == _reference_might_contain(data), (pad, text)


def test_bytes_that_only_share_a_trigger_s_folded_pair_are_not_flagged() -> None:
    """The pair table folds with | 0x20 ('_' and DEL share a key); the check after it is exact."""
    writer = _compiled()
    for trigger in BUILTIN_TRIGGERS:
        head = trigger[0]
        if head.isalpha():
            continue
        twin = chr(ord(head) ^ 0x20)  # the other byte of the same folded key
        data = (" " + twin + trigger[1:] + " ").encode()
        assert writer.might_contain(data) == _reference_might_contain(data), trigger
        assert writer.might_contain((" " + trigger + " ").encode()), trigger


@pytest.mark.parametrize("offset", range(0, 40, 3))
@pytest.mark.parametrize("trigger", ["sk-", "password", "private key", "://", "AKIA", "xox",
                                     "\u212a", "\u017f"])
def test_a_trigger_is_found_wherever_it_falls_in_the_simd_blocks(offset: int,
                                                                 trigger: str) -> None:
    writer = _compiled()
    for filler in ("x", "e", "t", "\u00e9"):
        data = (filler * offset + trigger + filler * 40).encode()
        assert writer.might_contain(data), (offset, trigger, filler)
        assert writer.might_contain(data, False)
        assert not writer.might_contain((filler * (offset + 50)).encode())


def test_secrets_never_reach_the_file_on_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, True)
    for secret in SECRETS:
        rec.command(f"echo {secret}", stdout=f"out {secret} end", stderr=secret)
        rec.step("tool", "call", input={"arg": secret}, output=[secret])
    rec.end()
    text = path.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert json.dumps(secret)[1:-1] not in text, secret
    assert text.count("[REDACTED]") >= 2 * len(SECRETS)


def test_steps_from_many_threads_all_land_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, True)

    def work(n: int) -> None:
        for i in range(500):
            if i % 2:
                rec.command(f"echo {n} {i}", stdout="x" * (i % 50))
            else:
                rec.step("tool", f"t{n}", input={"i": i}, output=None)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec.end()
    trace = load_trace(path)
    assert sorted(s.index for s in trace.steps) == list(range(4000))
    assert trace.end is not None and trace.end.step_count == 4000
    assert [s.index for s in rec.steps] == list(range(4000))


def test_steps_are_read_back_even_when_the_file_was_unlinked(tmp_path: Path) -> None:
    """The lines live in the file; the open descriptor still reads them after an rm."""
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, True)
    rec.command("pytest -q", exit_code=1, stdout="1 failed")
    path.unlink()
    rec.message("done")
    assert [s.kind for s in rec.steps] == ["command", "message"]
    rec.end()
    assert [s.kind for s in rec.to_trace().steps] == ["command", "message"]


def test_a_special_file_keeps_its_steps_in_memory(tmp_path: Path) -> None:
    rec = TraceRecorder("/dev/null")
    rec.command("true", exit_code=0)
    rec.step("tool", "x", input={"a": 1})
    assert [s.name for s in rec.steps] == ["true", "x"]
    rec.end()
    assert len(rec.to_trace().steps) == 2


def test_timestamps_are_microseconds_both_ways(tmp_path: Path) -> None:
    for native in (True, False):
        path = tmp_path / f"{native}.jsonl"
        rec = _recorder(path, native)
        rec.command("ls")
        rec.end()
        step = load_trace(path).steps[0]
        assert step.started_at == step.ended_at
        assert math.isclose(step.started_at, round(step.started_at, 6), abs_tol=1e-9)


@pytest.mark.parametrize("native", [True, False])
def test_a_forked_child_writing_through_the_same_file_hides_none_of_the_parent_s_steps(
    tmp_path: Path, native: bool
) -> None:
    """The recorder shows what the file holds, including a forked child's lines, both ways."""
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, native)
    rec.command("parent 0")
    rec.command("parent 1")
    pid = os.fork()
    if pid == 0:  # the child records through the inherited descriptor, then leaves at once
        try:
            rec.command("child 0")
            rec.step("tool", "child", input={"x": 1})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    rec.command("parent 2")
    shown = [(s.index, s.name, s.input) for s in rec.steps]
    rec.end()
    assert [(i, n) for i, n, _ in shown if n == "parent"] == [(0, "parent"), (1, "parent"),
                                                              (2, "parent")]
    in_file = [json.loads(line) for line in path.read_bytes().splitlines()[1:-1]]
    assert {r["input"].get("command") for r in in_file} >= {"parent 0", "parent 1", "parent 2"}
    # Both writers read their lines back from the file: the child's too.
    assert sorted((r["index"], r["name"]) for r in in_file) == sorted((i, n) for i, n, _ in shown)


class _Kind(str):
    """A str subclass: the native call hands it to the Python path."""


@pytest.mark.parametrize("native", [True, False])
def test_step_and_command_take_their_arguments_as_the_methods_do(tmp_path: Path,
                                                                 native: bool) -> None:
    """With the native encoder or without, ``trace.step``/``trace.command`` are the class's own
    methods (never replaced on the instance): the same signatures, the same errors, the same
    indices."""
    from pytest_tracebench.record.recorder import RecorderError

    rec = _recorder(tmp_path / "t.jsonl", native)
    assert "step" not in vars(rec) and "command" not in vars(rec)
    assert rec.step.__func__ is TraceRecorder.step  # type: ignore[attr-defined]
    assert rec.step(kind="tool", name="by keyword", input=1) == 0
    assert rec.step(_Kind("tool"), "str subclass") == 1
    with pytest.raises(RecorderError, match="unknown step kind 'teleport'"):
        rec.step("teleport", "x")
    with pytest.raises(RecorderError, match="unknown step kind 5"):
        rec.step(5, "x")  # type: ignore[arg-type]
    for bad in ({"inptu": 1}, {"kind": "tool"}):
        with pytest.raises(TypeError, match=next(iter(bad))):
            rec.step("tool", "x", **bad)
    with pytest.raises(TypeError):
        rec.step("tool")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        rec.step("tool", "x", None)  # type: ignore[misc]
    with pytest.raises(TypeError, match="cwdd"):
        rec.command("ls", cwdd="/")  # type: ignore[call-arg]
    assert rec.command(["ls", "-l"], exit_code=0, cwd=tmp_path) == 2  # not plain: Python path
    assert rec.command("echo hi") == 3
    with rec.span("outer") as span:
        assert rec.step("tool", "inner") == span.index + 1
        assert rec.command("ls") == span.index + 2
    rec.end()
    steps = {s.index: s for s in load_trace(tmp_path / "t.jsonl").steps}
    assert sorted(steps) == [0, 1, 2, 3, 4, 5, 6]  # the refused calls took no index
    assert steps[1].kind == "tool" and steps[2].name == "ls" and steps[2].input == {
        "command": "ls -l", "cwd": str(tmp_path)}
    assert steps[3].output == {"exit_code": None, "stdout": "", "stderr": "",
                               "timed_out": False}
    assert steps[5].parent == steps[6].parent == 4 and steps[4].parent is None


def test_a_subclass_that_overrides_step_keeps_its_own(tmp_path: Path) -> None:
    calls = []

    class Logging(TraceRecorder):
        def step(self, kind: str, name: str, **kwargs: Any) -> int:
            calls.append(name)
            return super().step(kind, name, **kwargs)

    rec = Logging(tmp_path / "t.jsonl")
    rec.step("tool", "mine")
    rec.read("a.py")  # the helpers go through step() too
    rec.command("ls")  # not overridden: the native call
    rec.end()
    assert calls == ["mine", "read"]
    assert [s.name for s in load_trace(tmp_path / "t.jsonl").steps] == ["mine", "read", "ls"]


def test_a_recorder_is_freed_when_dropped(tmp_path: Path) -> None:
    """The writer holds its recorder weakly: no cycle keeps a finished recorder alive."""
    import weakref

    rec = _recorder(tmp_path / "t.jsonl", True)
    rec.step("tool", "x")
    rec.end()
    ref = weakref.ref(rec)
    del rec
    assert ref() is None


@pytest.mark.parametrize("native", [True, False])
def test_uppercase_triggers_still_find_their_secret(tmp_path: Path, native: bool) -> None:
    """A redactor's explicit triggers are compared with the lowercased text, so they are
    lowercased too: with "PASSWORD" the secret used to reach the file unredacted once the
    native check (which refuses uppercase triggers) handed the step to the Python check."""
    path = tmp_path / "t.jsonl"
    redactor = Redactor(BUILTIN_PATTERNS, triggers=["PASSWORD"])
    assert redactor.might_contain("password=hunter22")
    rec = _recorder(path, native, redactor=redactor)
    rec.command("login", stdout="password=hunter22")
    rec.end()
    assert "hunter22" not in path.read_text(encoding="utf-8")


def test_the_native_write_goes_through_the_writer_s_sink_only_between_header_and_end(
        tmp_path: Path) -> None:
    """The sink opens once the header is in the file and closes first thing at the end, so no
    native write comes before the header or after the count for the end record."""
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, True)
    sink = rec._writer.sink
    assert sink == [-1, 0]  # the header is written with the first step, by the Python path
    rec.step("tool", "first")
    assert sink[0] >= 0 and sink[1] == 0
    rec.command("ls")
    rec.step("tool", "third", input={"x": 1})
    assert sink[1] == 2 and rec._writer.count == 3
    rec.end()
    assert sink[0] == -1
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[0])["type"] == "trace" and json.loads(lines[-1])["step_count"] == 3
    assert [json.loads(line)["name"] for line in lines[1:-1]] == ["first", "ls", "third"]
    assert TraceRecorder("/dev/null")._writer.sink[0] == -1  # not a regular file: never opens


@pytest.mark.parametrize("native", [True, False])
def test_a_write_that_fails_keeps_its_step_in_memory_both_ways(tmp_path: Path,
                                                               native: bool) -> None:
    """A failed write (here EBADF: the descriptor now reads only) keeps the step, detaches
    the file and warns once, whichever call wrote the line."""
    path = tmp_path / "t.jsonl"
    rec = _recorder(path, native)
    rec.command("before")
    read_only = os.open(path, os.O_RDONLY)
    try:
        os.dup2(read_only, rec._fd)
        os.lseek(rec._fd, 0, os.SEEK_END)  # where the lines written so far end
    finally:
        os.close(read_only)
    with pytest.warns(RuntimeWarning, match="cannot write"):
        rec.command("fails")
    assert rec._writer.sink[0] == -1 and rec.write_error is not None
    rec.step("tool", "after")
    assert [s.name for s in rec.steps] == ["before", "fails", "after"]
    rec.end()
    assert [s.name for s in rec.to_trace().steps] == ["before", "fails", "after"]
    assert rec.end_record is not None and rec.end_record.step_count == 3
    assert [s.name for s in load_trace(path).steps] == ["before"]


def test_the_native_write_reports_a_failed_write_with_its_line() -> None:
    from pytest_tracebench.record import _steplog  # type: ignore[attr-defined]

    read_fd, write_fd = os.pipe()
    try:
        sink = [read_fd, 0]  # writing to a pipe's read end fails (EBADF)
        with pytest.raises(OSError) as caught:
            _steplog.write_step(sink, 0, "tool", "x", None, None, None, None, 1.0, 2.0, None,
                                None, 1000)
        assert caught.value.line == (  # type: ignore[attr-defined]
            b'{"type":"step","index":0,"kind":"tool","name":"x","input":null,"output":null,'
            b'"started_at":1.0,"ended_at":2.0}\n')
        assert sink == [-1, 0]  # closed: nothing else is written after a partial line
        assert _steplog.write_step(sink, 1, "tool", "y", None, None, None, None, 1.0, 2.0,
                                   None, None, 1000).startswith(b'{"type":"step","index":1')
        assert _steplog.write_step(sink, 1, "tool", "y", object(), None, None, None, 1.0,
                                   2.0, None, None, 1000) is None
        with pytest.raises(TypeError, match="sink"):
            _steplog.write_step((1, 0), 0, "tool", "x", None, None, None, None, 1.0, 2.0,
                                None, None, 1000)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_steps_recorded_while_the_trace_ends_are_counted_exactly_when_written(
        tmp_path: Path) -> None:
    """Threads record without the lock while another ends the trace: every step that returned
    is in the file and in step_count, every later one raised."""
    from pytest_tracebench.record.recorder import RecorderError

    path = tmp_path / "t.jsonl"
    rec = _recorder(path, True)
    rec.step("tool", "start")
    done = [0] * 4
    started = threading.Barrier(5)

    def work(n: int) -> None:
        started.wait()
        try:
            while True:
                if done[n] % 2:
                    rec.command(f"echo {n}", stdout="x")
                else:
                    rec.step("tool", f"t{n}", input={"i": done[n]})
                done[n] += 1
        except RecorderError:
            pass

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch inside end() too, not only at its lock
    try:
        for t in threads:
            t.start()
        started.wait()
        time.sleep(0.05)
        rec.end()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    trace = load_trace(path)
    assert trace.end is not None and trace.end.step_count == len(trace.steps) == 1 + sum(done)
    assert len(rec.steps) == len(trace.steps)
