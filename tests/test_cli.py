"""The `tracebench` command, run as a real subprocess like a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.cli import main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_schema_prints_a_json_schema_that_validates_recorded_records(tmp_path: Path) -> None:
    result = run("schema", "step")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["properties"]["kind"]["description"].startswith("What sort of step")
    rec = TraceRecorder(tmp_path / "t.jsonl")
    rec.command("ls", exit_code=0, stdout="a")
    rec.end()
    step = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[1])
    jsonschema.validate(step, schema)


def test_schema_of_every_model() -> None:
    for what in ("trace", "header", "end", "report"):
        result = run("schema", what)
        assert result.returncode == 0
        assert json.loads(result.stdout)["type"] == "object"


def test_validate_reports_each_file_one_line(tmp_path: Path, seed_trace_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    rec = TraceRecorder(good)
    rec.message("hi")
    rec.end()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "trace", "trace_id": "x"}\n{"type": "step", "index": "one"}\n')
    result = run("validate", str(seed_trace_path), str(tmp_path))
    assert result.returncode == 1
    assert f"{seed_trace_path}: ok: 8 steps, completed, format seed" in result.stdout
    assert f"{good}: ok: 1 steps, completed, format tracebench" in result.stdout
    assert result.stderr.strip().splitlines() == [f"{bad}:2: field 'index': Input should be a "
                                                  "valid integer, unable to parse string as an "
                                                  "integer"]


def test_validate_missing_file_and_empty_directory(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"{tmp_path / 'nope.jsonl'}: no such file or directory"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("validate", str(empty))
    assert result.returncode == 1
    assert "no input files found" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_and_version() -> None:
    exe = Path(sys.executable).with_name("tracebench")
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("tracebench 0.")


@pytest.mark.parametrize("command", ["schema", "validate", "formats", "convert", "analyze",
                                     "report", "compare", "replay", "rerun", "detectors"])
def test_help_of_every_command_prints(command: str) -> None:
    # A literal % in an option's help once made `--help` itself raise (found by fuzzing).
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", command, "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tracebench " + command)


def test_pytest_help_lists_the_tracebench_options() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "score_drop:N[%]" in result.stdout


def test_an_argument_with_a_nul_byte_is_one_line() -> None:
    # Found by the atheris cli target: open() raised "embedded null byte" as a traceback.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from pytest_tracebench.cli import main; "
         "sys.exit(main(['validate', 'a\\x00b']))"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "tracebench: error: argument 2 contains a NUL byte"


def test_replay_of_a_folder_without_a_trace_is_one_line(tmp_path: Path) -> None:
    # Found by fuzzing the command line: `tracebench replay ''` (the current folder) printed a
    # traceback from format detection.
    result = subprocess.run([sys.executable, "-m", "pytest_tracebench", "replay", ""],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unknown format" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("option", ["--repeat=2", "--agent=repair", "--replay=once",
                                    "--require-traces", "--otel=false", "--max-output-chars=99",
                                    "--replay-match=name"])
def test_analyze_refuses_what_only_pytest_honours(option: str, seed_trace_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(seed_trace_path), option])
    assert exc.value.code == 2
    assert "unrecognized arguments: " + option in capsys.readouterr().err


@pytest.mark.parametrize("command, option", [
    ("report", "--detectors=retry_loop"), ("report", "--calibration=m.json"),
    ("compare", "--min-score=5"), ("compare", "--html=x.html"),
    ("detectors", "--fail-under=5")])
def test_each_command_offers_only_what_it_honours(command: str, option: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, *(["r.json"] if command == "report" else ["1", "2"]
                         if command == "compare" else []), option])
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_analyze_help_speaks_of_traces_not_of_pytest(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = capsys.readouterr().out
    for word in ("--tracebench", "session", "`trace`", "`agent` fixture"):
        assert word not in text, word
