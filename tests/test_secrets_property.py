"""Redaction end to end, as a property: every format of the built-in rule set, with values
drawn at random, planted in every field kind and identity field, through the recorder (a
pytest run) and through every importer (a real file of each format with the secrets planted
in its texts), and every output the pipeline writes is grepped: trace files and their names,
the JSON report, JUnit XML, pytest-html, both dashboard modes, converted JSON Lines and ATIF,
the terminal of every verb and ``replay``. Nothing planted may be found.

Few but broad examples (each plants all formats at once) and a derandomized profile keep it
to a few seconds per example.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pytest_tracebench import TraceLoadError
from pytest_tracebench.importers import import_path

from ._secret_samples import leaks, samples

DATA = Path(__file__).parent / "data"
# No shrinking: a failure names the rule and the output already, and shrinking a run of
# subprocesses takes minutes.
PROFILE = settings(max_examples=2, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck),
                   phases=[Phase.explicit, Phase.generate])


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _grep(root: Path, planted: dict[str, tuple[str, list[str]]]) -> dict[str, list[str]]:
    """Every file under ``root`` (contents and relative name) that holds a planted part."""
    found = {}
    for path in _all_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = leaks(text + "\n" + str(path.relative_to(root)), planted)
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


# -- through the recorder -------------------------------------------------------------------

RECORDING_TEST = '''
import json, pytest
SECRETS = json.loads(open({secrets!r}).read())
TEXT = " ; ".join(SECRETS)

@pytest.mark.tracebench(agent="agent " + SECRETS[0], task="task " + SECRETS[1])
@pytest.mark.parametrize("value", [SECRETS[2][:60], SECRETS[3][:60]])
def test_agent_run(trace, value):
    trace.command("curl -H 'x: " + TEXT + "' https://api", exit_code=1, stdout="out " + TEXT,
                  stderr="err " + TEXT)
    trace.read("config.env", content="KEY=" + TEXT + "\\n")
    trace.edit("app.py", old="key = None", new="key = '" + TEXT + "'")
    trace.edit("app.py", diff="@@ -1 +1 @@\\n-x\\n+y = '" + TEXT + "'\\n")
    trace.test_run(passed=1, failed=1, failing=["test_x[" + value + "]"], command="pytest",
                   output="E  assert " + TEXT)
    trace.message("I will use " + TEXT + " now.")
    trace.llm([{{"role": "user", "content": "key is " + TEXT}}], response="ok " + TEXT,
              input_tokens=3, output_tokens=1)
    trace.step("tool", "http", input={{"headers": {{"X-Api-Key": value}}, "q": TEXT,
               "nested": [{{"deep": {{"deeper": TEXT}}}}]}}, output={{"echo": TEXT}},
               error="failed with " + TEXT, meta={{"m": TEXT}})

    @trace.tool
    def fetch(url, token):
        raise RuntimeError("denied for " + token)

    with pytest.raises(RuntimeError):
        fetch("https://x", token=TEXT)
    trace.submit(patch="+ key = '" + TEXT + "'", answer=TEXT)
    assert value == "never"  # a failing test: its id and message reach every report
'''


def _record(folder: Path, planted: dict[str, tuple[str, list[str]]], *extra: str
            ) -> subprocess.CompletedProcess[str]:
    secrets = folder / "secrets.json"  # outside the grepped output folder
    secrets.write_text(json.dumps([text for text, _ in planted.values()]))
    run = folder / "run"
    run.mkdir()
    (run / "test_recorded.py").write_text(RECORDING_TEST.format(secrets=str(secrets)))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--tracebench", "--tracebench-json=out/report.json", "--junit-xml=out/junit.xml",
         "-o", "junit_family=xunit2", "-v", *extra, "test_recorded.py"],
        cwd=run, capture_output=True, text=True, timeout=300)


@PROFILE
@given(seed=st.integers(0, 2**32 - 1))
def test_nothing_planted_through_the_recorder_reaches_any_output(
        tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    planted = samples(random.Random(seed))
    folder = tmp_path_factory.mktemp("recorded")
    first = _record(folder, planted, "--html=out/pytest.html",
                    "--tracebench-html=out/dashboard.html")
    assert first.returncode == 1, first.stdout[-3000:] + first.stderr[-3000:]
    run = folder / "run"
    traces = list((run / ".tracebench" / "traces").glob("*.jsonl"))
    assert len(traces) == 2  # both parametrized runs recorded
    out = run / "out"
    assert {"report.json", "junit.xml", "pytest.html", "dashboard.html"} <= \
        {p.name for p in out.iterdir()}
    assert "tracebench_trace" in (out / "junit.xml").read_text()
    assert _grep(run / ".tracebench", planted) == {}
    assert _grep(out, planted) == {}
    assert leaks(first.stdout + first.stderr, planted) == []
    # The dashboard's other mode.
    second_folder = tmp_path_factory.mktemp("recorded-single")
    second = _record(second_folder, planted, "--tracebench-html=out/single.html",
                     "--tracebench-self-contained-html")
    assert second.returncode == 1, second.stderr[-3000:]
    assert _grep(second_folder / "run", planted) == {}
    assert leaks(second.stdout + second.stderr, planted) == []


# -- through every importer -----------------------------------------------------------------

def _seed_per_format() -> dict[str, Path]:
    """One small file of each format the importers read (the first that imports).

    The importers whose only samples are in the development corpus (SWE-agent, OpenHands
    completions, AutoCodeRover, Terminal-Bench, Laminar) are not here: the repository holds
    no file of theirs to plant into."""
    chosen: dict[str, Path] = {"aider": DATA / "native" / "aider" /
                               "mozgoslav__.aider.chat.history.md"}
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or path.stat().st_size > 150_000 or path.name == "README.md":
            continue
        if path.suffix not in (".json", ".jsonl", ".md"):
            continue
        try:
            traces = import_path(path)
        except (TraceLoadError, OSError, ValueError):
            continue

        if not traces or not traces[0].steps:
            continue
        chosen.setdefault(traces[0].header.source.format, path)
    return chosen


SEEDS = _seed_per_format()


def _plant_json(node: Any, text: str) -> Any:
    """Every string long enough to be content (not a role or a type) gets the secrets."""
    if isinstance(node, str):
        return node + " " + text if len(node) >= 16 else node
    if isinstance(node, list):
        return [_plant_json(item, text) for item in node]
    if isinstance(node, dict):
        return {key: _plant_json(value, text) for key, value in node.items()}
    return node


def _planted_copy(source: Path, target: Path, text: str, single_line: str) -> None:
    raw = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        target.write_text(json.dumps(_plant_json(json.loads(raw), text)), encoding="utf-8")
    elif source.suffix == ".jsonl":
        lines = [json.dumps(_plant_json(json.loads(line), text)) if line.strip() else line
                 for line in raw.splitlines()]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:  # a text format (aider's chat history): every line that says something
        # Single-line secrets only: the importer reads a line of dashes as a separator, so a
        # private key block would come apart into its BEGIN line and a body no rule can tell
        # from other base64 (docs/reliability.md says so).
        text = single_line
        target.write_text("\n".join(line + " " + text if len(line) >= 16 else line
                                    for line in raw.splitlines()) + "\n", encoding="utf-8")


def _tb(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _tb_here(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command, run in this process through ``cli.main`` (the console script's own
    entry point): twenty replays cost no twenty interpreter start-ups."""
    import contextlib
    import io
    import os

    from pytest_tracebench.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse
                code = int(exc.code or 0)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["python", "-m", "pytest_tracebench", *args], code,
                                       out.getvalue(), err.getvalue())


def test_there_is_a_seed_for_the_importers() -> None:
    assert len(SEEDS) >= 10, sorted(SEEDS)
    for fmt, path in SEEDS.items():
        assert path.is_file(), fmt


@settings(PROFILE, max_examples=1)  # 5 subprocesses and 20 replays: one broad example
@given(seed=st.integers(0, 2**32 - 1))
def test_nothing_planted_in_an_imported_trajectory_reaches_any_output(
        tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    planted = samples(random.Random(seed))
    # One line per secret: multi-line ones (private keys) keep their shape.
    text = "\n".join(value for value, _ in planted.values())
    single_line = " ".join(value for value, _ in planted.values() if "\n" not in value)
    root = tmp_path_factory.mktemp("imported")
    inputs = root / "in"
    imported = []
    for fmt, source in SEEDS.items():
        # The file's name is an identity field too (it becomes the path in every report).
        folder = inputs / f"{fmt}-{planted['github-token'][0]}"
        folder.mkdir(parents=True)
        target = folder / (".aider.chat.history.md" if fmt == "aider" else source.name)
        _planted_copy(source, target, text, single_line)
        imported.append(target)
    out = root / "out"
    runs = [
        _tb(root, "validate", str(inputs)),
        _tb(root, "convert", str(inputs), "-o", str(out / "jsonl")),
        _tb(root, "convert", str(inputs), "--to", "atif", "-o", str(out / "atif")),
        _tb(root, "analyze", str(inputs), "-v", "--json", str(out / "report.json"),
            "--html", str(out / "dashboard.html")),
        _tb(root, "analyze", str(inputs), "--html", str(out / "single.html"),
            "--self-contained-html"),
        *[_tb_here(root, "replay", str(path)) for path in imported],
        *[_tb_here(root, "replay", str(path), "--step", "1") for path in imported],
    ]
    for run in runs:
        assert run.returncode in (0, 1), [*run.args[3:5], run.stderr[-2000:]]
        assert leaks(run.stdout + run.stderr, planted) == [], run.args[3:5]
    converted = list((out / "jsonl").glob("*.jsonl"))
    assert converted  # (a planted copy may no longer import: that is a failure line, above)
    assert list((out / "atif").glob("*.json"))
    assert (out / "report.json").is_file() and (out / "single.html").is_file()
    found = _grep(out, planted)
    assert found == {}, found
    # The planting reached the imported traces (so the empty grep above means something).
    assert sum(leaks(path.read_text(), planted) != [] for path in imported) == len(imported)
