"""Importers against the real files in tests/data (copied byte-for-byte from ../shared/data)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pytest_tracebench import Trace, TraceLoadError
from pytest_tracebench.exporters import to_atif
from pytest_tracebench.importers import import_path, iter_trace_inputs

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
NATIVE = DATA / "native"
TB = REAL / "terminal-bench-claude-code"
MINI = REAL / "mini-swe-agent"


def _inputs(root: Path) -> list[Path]:
    return [p for p, skip in iter_trace_inputs([root]) if skip is None]


def actions(trace: Trace) -> list[tuple]:
    """What the agent executed: tool steps, without messages and calls never answered."""
    return [(s.kind, s.name, json.dumps(s.input, sort_keys=True)) for s in trace.steps
            if s.kind not in ("message", "llm") and not s.meta.get("unanswered")]


@pytest.mark.parametrize("path", _inputs(REAL), ids=lambda p: str(p.relative_to(REAL)))
def test_every_real_trajectory_imports(path: Path) -> None:
    traces = import_path(path)
    assert len(traces) == 1
    (trace,) = traces
    assert trace.steps, "an imported run has steps"
    kinds = Counter(s.kind for s in trace.steps)
    assert kinds["message"] > 0 and kinds["read"] > 0
    assert trace.header.agent.name in ("mini-swe-agent", "claude-code")


@pytest.mark.parametrize("path", _inputs(NATIVE), ids=lambda p: str(p.relative_to(NATIVE)))
def test_every_native_sample_imports(path: Path) -> None:
    traces = import_path(path)
    assert traces
    for trace in traces:
        assert trace.header.source.format != "tracebench"
        for step in trace.steps:
            assert step.kind in {"llm", "message", "tool", "command", "read", "edit", "test",
                                 "submit", "error"}


def test_mini_swe_agent_steps_match_what_happened() -> None:
    (trace,) = import_path(MINI / "pytest-dev__pytest-5840" / "pytest-dev__pytest-5840.traj.json")
    tests = [s for s in trace.steps if s.kind == "test"]
    assert [s.input["command"] for s in tests] == [
        "python3 test_path_conversion.py", "python3 test_unique_path.py",
        "pytest testing/test_pathlib.py", "pytest testing/test_conftest.py",
        "pytest testing/test_config.py", "pytest testing/test_config.py",
    ]
    config_run = tests[4].output
    assert (config_run["passed"], config_run["failed"]) == (122, 2)
    assert config_run["failing"] == [
        "testing/test_config.py::TestPytestPluginsVariable::"
        "test_pytest_plugins_in_non_top_level_conftest_unsupported_pyargs[True]",
        "testing/test_config.py::TestPytestPluginsVariable::"
        "test_pytest_plugins_in_non_top_level_conftest_unsupported_pyargs[False]",
    ]
    submit = [s for s in trace.steps if s.kind == "submit"]
    assert len(submit) == 1 and submit[0].input["patch"].startswith("diff --git")
    edits = [s for s in trace.steps if s.kind == "edit"]
    assert "src/_pytest/pathlib.py" in {s.input["path"] for s in edits}
    assert trace.header.task.id == "pytest-dev__pytest-5840"
    assert trace.header.agent.model


def test_mini_swe_agent_timeouts_and_format_errors() -> None:
    (trace,) = import_path(MINI / "psf__requests-2317" / "psf__requests-2317.traj.json")
    timed_out = [s for s in trace.steps if isinstance(s.output, dict)
                 and s.output.get("timed_out")]
    assert [s.input["command"] for s in timed_out] == ["python3 test_requests.py"]
    assert timed_out[0].output["ok"] is False
    errors = [s for s in trace.steps if s.kind == "error"]
    assert errors and all(s.name == "format_error" for s in errors)
    assert "EXACTLY ONE action" in errors[0].error


def test_django_runtests_are_parsed_as_unittest() -> None:
    (trace,) = import_path(MINI / "django__django-12262" / "django__django-12262.traj.json")
    last = [s for s in trace.steps if s.kind == "test"][-1]
    assert last.output["runner"] == "unittest"
    assert last.output["failing"] == [
        "template_tests.test_loaders.FileSystemLoaderTests.test_permissions_error"]


def test_claude_code_tools_map_to_step_kinds() -> None:
    (trace,) = import_path(TB / "multi-source-data-merger__LvqheTc" / "claude-code.stream.jsonl")
    by_tool = {(s.name, s.kind) for s in trace.steps if s.kind != "message"}
    assert ("Read", "read") in by_tool
    assert ("Write", "edit") in by_tool
    assert ("Bash", "command") in by_tool
    assert ("Bash", "edit") in by_tool  # cat > file through Bash is an edit
    (prove,) = import_path(TB / "prove-plus-comm__YDACMLN" / "claude-code.stream.jsonl")
    edit = next(s for s in prove.steps if s.name == "Edit")
    assert edit.kind == "edit" and edit.input["path"] == "/workspace/plus_comm.v"
    assert "old" in edit.input and "new" in edit.input


@pytest.mark.parametrize("run", sorted(p.name for p in TB.iterdir()))
def test_atif_and_stream_json_of_one_run_give_the_same_actions(run: str) -> None:
    (atif,) = import_path(TB / run / "trajectory.json")
    (stream,) = import_path(TB / run / "claude-code.stream.jsonl")
    assert atif.header.source.format == "atif"
    assert stream.header.source.format == "claude-code-stream"
    assert actions(atif) == actions(stream)
    assert len(actions(atif)) > 0


def test_native_round_trip_pairs() -> None:
    cc, atif_dir = NATIVE / "claude_code", NATIVE / "atif"
    hello = "harbor__hello-load-atif-trajectory-task-level_trajectory.json"
    (session,) = import_path(cc / "harbor__d7d4e19e-608d-44ef-b166-cd050ef274ba.jsonl")
    (atif,) = import_path(atif_dir / hello)
    assert actions(session) == actions(atif) == [actions(atif)[0]]
    (stream,) = import_path(cc / "evolving-skills__UPWAM6C__claude-code.stream-json.txt")
    (atif2,) = import_path(atif_dir / "evolving-skills__UPWAM6C_trajectory.json")
    (full,) = import_path(cc / "evolving-skills__fe89b91e-5955-48a9-a325-1d1245732392.jsonl")
    assert actions(stream) == actions(atif2)
    # The session file goes on after the headless run ended (the agent then writes skills):
    # the run's actions are exactly its beginning.
    assert actions(full)[: len(actions(stream))] == actions(stream)
    eval_traces = import_path(NATIVE / "inspect_ai" / "inspect_ai__log_formats.eval")
    json_traces = import_path(NATIVE / "inspect_ai" / "inspect_ai__log_formats.json")
    assert [[(s.kind, s.output) for s in t.steps] for t in eval_traces] == \
        [[(s.kind, s.output) for s in t.steps] for t in json_traces]


def _core(trace: Trace) -> list[tuple]:
    return [(s.kind, s.name, s.input, s.output, s.error, bool(s.meta.get("unanswered")))
            for s in trace.steps]


@pytest.mark.parametrize("path", sorted(TB.glob("*/trajectory.json"))
                         + sorted((NATIVE / "atif").glob("*.json")), ids=lambda p: p.parent.name
                         + "/" + p.name)
def test_atif_round_trip_preserves_steps_calls_and_observations(path: Path, tmp_path: Path
                                                               ) -> None:
    (original,) = import_path(path)
    exported = tmp_path / "out.json"
    exported.write_text(json.dumps(to_atif(original)))
    (again,) = import_path(exported)
    assert _core(again) == _core(original)


def test_other_formats_keep_their_actions_through_atif(tmp_path: Path) -> None:
    for path in (MINI / "sympy__sympy-17630" / "sympy__sympy-17630.traj.json",
                 NATIVE / "swe_agent_traj" / "SWE-agent__pydicom__pydicom-1458.traj",
                 NATIVE / "openhands" / "OpenHands__multi_swe_bench_examples_output.jsonl"):
        for trace in import_path(path):
            out = tmp_path / "t.json"
            out.write_text(json.dumps(to_atif(trace)))
            (again,) = import_path(out)
            assert [(s.kind, s.error) for s in again.steps if s.kind != "message"] == \
                [(s.kind, s.error) for s in trace.steps if s.kind != "message"]


def test_multi_run_files_give_one_trace_per_run() -> None:
    output = import_path(NATIVE / "openhands" / "OpenHands__multi_swe_bench_examples_output.jsonl")
    assert [t.header.task.id for t in output] == [
        "ponylang__ponyc-4595", *[t.header.task.id for t in output[1:]]]
    assert len(output) == 3
    popularity = import_path(NATIVE / "inspect_ai" /
                             "inspect_ai__2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval")
    assert len(popularity) == 10


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _one_line_error(path: Path) -> str:
    with pytest.raises(TraceLoadError) as info:
        import_path(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    text = (MINI / "django__django-13820" / "django__django-13820.traj.json").read_text()
    truncated = _write(tmp_path, "cut.traj.json", text[: len(text) // 2])
    assert "mini-swe-agent: not a valid mini-swe-agent trajectory" in _one_line_error(truncated)
    atif = (TB / "raman-fitting__zebXzmX" / "trajectory.json").read_text()
    assert "atif: not a valid" in _one_line_error(_write(tmp_path, "cut.json", atif[:5000]))
    other = _write(tmp_path, "notes.json", json.dumps({"title": "meeting notes"}))
    assert "unknown format; expected one of: tracebench, mini-swe-agent, atif" in \
        _one_line_error(other)
    assert "empty file" in _one_line_error(_write(tmp_path, "empty.jsonl", ""))
    assert "binary file" in _one_line_error(_write(tmp_path, "blob.bin", b"\x7fELF\x00\x01\x02"))
    with pytest.raises(TraceLoadError, match="unknown --format 'nope'"):
        import_path(other, format="nope")


def test_directory_with_one_bad_file_imports_the_rest_and_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    for run in ("django__django-11179", "django__django-13820"):
        source = MINI / run / f"{run}.traj.json"
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "broken.traj.json").write_text('{"trajectory_format": "mini-swe-agent-1", "mes')
    (folder / "report.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "pytest_tracebench", "validate", str(folder)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout.count(": ok: ") == 2
    errors = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{folder / 'broken.traj.json'}: mini-swe-agent: ")
               for line in errors)
    assert f"{folder / 'report.json'}: skipped: SWE-bench harness report" in result.stderr
    assert "Traceback" not in result.stderr


def test_convert_cli_to_atif_and_back(tmp_path: Path) -> None:
    out = tmp_path / "atif"
    result = subprocess.run(
        [sys.executable, "-m", "pytest_tracebench", "convert", str(MINI), "--to", "atif",
         "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.json"))
    assert len(files) == 12
    assert result.stderr.count("skipped: SWE-bench harness report") == 12
    back = tmp_path / "back.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pytest_tracebench", "convert", str(files[0]), "-o", str(back)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(back.read_text().splitlines()[0])["type"] == "trace"


def test_a_third_party_importer_plugs_in_through_the_hook(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "toy_importer.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "from pytest_tracebench.importers.builder import TraceBuilder\n"
        "class Toy:\n"
        "    name = 'toy'\n"
        "    description = 'toy log'\n"
        "    def sniff(self, path, head):\n"
        "        return head.startswith(b'TOY')\n"
        "    def load(self, path):\n"
        "        b = TraceBuilder(format='toy', path=path, trace_id='t')\n"
        "        for line in path.read_text().splitlines()[1:]:\n"
        "            b.shell(line, '')\n"
        "        return [b.build('completed')]\n"
        "@hookimpl\n"
        "def tracebench_importers():\n"
        "    return [Toy()]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from pytest_tracebench.importers import get_importers
    from pytest_tracebench.manager import get_plugin_manager

    importers = get_importers(get_plugin_manager(["toy_importer"]))
    log = _write(tmp_path, "run.toy", "TOY\npytest -q\nsed -i s/a/b/ x.py\n")
    (trace,) = import_path(log, importers=importers)
    assert [s.kind for s in trace.steps] == ["test", "edit"]
    sys.modules.pop("toy_importer", None)
