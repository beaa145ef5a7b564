"""Bad input to every verb of the command line: devices, FIFOs, documents nested 100,000 deep, zip
bombs, text that is not UTF-8, downloads that never end, file names that hold terminal escapes.

Each verb runs as a real process under an address-space cap (``RLIMIT_AS``) and a timeout, so
a hang, unbounded memory or a traceback fails the test; the answer must be one line naming the
file. Every input is generated here.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /dev/zero, RLIMIT_AS")

CAP = 1 << 30  # a verb needs ~300 MB of address space for these inputs; 1 GiB fails fast
DEPTH = 100_000

_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from pytest_tracebench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def capped(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``tracebench ARGS`` under the memory cap; a hang past ``timeout`` fails the test."""
    try:
        return subprocess.run([sys.executable, "-c", _CAPPED.format(cap=CAP), *args],
                              capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tracebench {' '.join(args)} did not finish in {timeout} s")


_DRIVER = """
import contextlib, io, json, resource, sys, traceback
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from pytest_tracebench.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            traceback.print_exc()
            code = None
    results.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""


def capped_each(runs: list[list[str]], cwd: Path, timeout: float = 120
                ) -> list[subprocess.CompletedProcess[str]]:
    """Each argument vector through ``main()`` in turn, in one process under the memory cap
    (one interpreter start for many runs); what each returned and printed."""
    proc = capped_process([sys.executable, "-c", _DRIVER.format(cap=CAP), json.dumps(runs)],
                          cwd, timeout)
    assert proc.returncode == 0, proc.stderr
    return [subprocess.CompletedProcess(argv, code, out, err)
            for argv, (code, out, err) in zip(runs, json.loads(proc.stdout), strict=True)]


def capped_process(command: list[str], cwd: Path, timeout: float
                   ) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command[3:]} did not finish in {timeout} s")


def _bomb(path: Path) -> Path:
    """An Inspect ``.eval`` of 8 samples of 80 MB of tiny messages each: 4 MB on disk, 640 MB
    uncompressed, each sample under the old per-member limit."""
    unit = b'{"role": "user", "content": "x"}, '
    chunk = unit * ((1 << 20) // len(unit))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("header.json", json.dumps({"version": 2, "eval": {"task": "t"}}))
        for n in range(8):
            with archive.open(f"samples/{n}_epoch_1.json", "w", force_zip64=True) as fh:
                fh.write(b'{"id": 1, "messages": [')
                for _ in range(80):
                    fh.write(chunk)
                fh.write(b'{"role": "user", "content": "x"}]}')
    return path


def _recorded(path: Path, steps: int = 2) -> Path:
    rec = TraceRecorder(path, task="t", agent="a")
    for i in range(steps):
        rec.command(f"echo {i}", exit_code=0, stdout=str(i))
    rec.end()
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    fifo = folder / "pipe.jsonl"
    os.mkfifo(fifo)
    link = folder / "zero.jsonl"
    link.symlink_to("/dev/zero")
    deep = folder / "deep.json"
    deep.write_text("[" * DEPTH + "]" * DEPTH)
    # Our own trace whose one step holds a value nested 100,000 deep.
    deep_step = _recorded(folder / "deep_step.jsonl", steps=0)
    header = deep_step.read_text().splitlines()[0]
    deep_step.write_text(header + "\n" + '{"type": "step", "index": 0, "kind": "tool", '
                         '"name": "x", "input": ' + "[" * DEPTH + "]" * DEPTH + "}\n")
    return {"zero": Path("/dev/zero"), "link": link, "fifo": fifo, "deep": deep,
            "deep_step": deep_step, "bomb": _bomb(folder / "bomb.eval")}


def _one_line_each(proc: subprocess.CompletedProcess[str], paths: list[Path]) -> None:
    err = proc.stderr
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    for path in paths:
        naming = [line for line in lines if f"{path}:" in line]
        assert len(naming) == 1, (path, err)
    assert len(lines) == len(paths), err


MULTI = ["validate", "convert", "analyze", "calibrate"]


@pytest.mark.parametrize("verb", MULTI)
def test_verbs_taking_many_files_refuse_each_bad_one_in_one_line(
        verb: str, inputs: dict[str, Path], tmp_path: Path) -> None:
    paths = list(inputs.values())
    args = [verb, *map(str, paths)]
    if verb == "convert":
        args += ["-o", str(tmp_path / "out/")]
    proc = capped(*args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("ok:") == 0
    if verb == "calibrate":
        # calibrate walks past files that hold no run (counted, not named: its design); the
        # ones it takes for runs are named, and it ends with its own one line.
        assert "Traceback" not in proc.stderr, proc.stderr
        *named, last = proc.stderr.strip().splitlines()
        assert last.startswith("tracebench: error: calibration needs"), proc.stderr
        assert all(any(line.startswith(f"{p}:") for p in paths) for line in named), named
        return
    _one_line_each(proc, paths)


SINGLE = {
    "report": lambda p, tmp: ["report", str(p)],
    "compare": lambda p, tmp: ["compare", str(p), str(p)],
    "replay": lambda p, tmp: ["replay", str(p)],
    "replay-no-findings": lambda p, tmp: ["replay", "--no-findings", str(p)],
    "replay-follow": lambda p, tmp: ["replay", "--follow", "--timeout", "3", str(p)],
    "rerun": lambda p, tmp: ["rerun", str(p), "--workspace", str(tmp)],
}


@pytest.mark.parametrize("verb", sorted(SINGLE))
def test_verbs_taking_one_file_refuse_it_in_one_line(verb: str, inputs: dict[str, Path],
                                                     tmp_path: Path) -> None:
    procs = capped_each([SINGLE[verb](path, tmp_path) for path in inputs.values()], tmp_path)
    for (name, path), proc in zip(inputs.items(), procs, strict=True):
        # Following a live trace skips a damaged line with a warning and follows on.
        live = verb == "replay-follow" and name == "deep_step"
        assert proc.returncode == (0 if live else 1), (name, proc.stdout, proc.stderr)
        _one_line_each(proc, [path])


def test_a_fifo_inside_a_folder_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "a_pipe.jsonl")
    good = _recorded(tmp_path / "b_good.jsonl")
    for verb in ("validate", "analyze"):
        proc = capped(verb, str(tmp_path), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"{tmp_path / 'a_pipe.jsonl'}: skipped: not a regular file (a FIFO)"]
    assert f"{good}: ok: 2 steps" in capped("validate", str(tmp_path)).stdout


def test_a_fifo_inside_a_folder_trace_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "session"
    (run / "events").mkdir(parents=True)
    (run / "events" / "0.json").write_text('{"id": 0, "source": "user", "message": "hi"}')
    os.mkfifo(run / "events" / "1.json")
    proc = capped("validate", str(run))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{run}: holds events/1.json, which is not a regular file " \
                                  "(a FIFO)"


# -- report and compare on files that are not reports ---------------------------------------

NOT_REPORTS = {
    "deep": ("[" * DEPTH + "]" * DEPTH).encode(),
    "deep-object": ('{"results": ' + "[" * DEPTH + "]" * DEPTH + "}").encode(),
    "latin-1": '{"results": [], "title": "caf\xe9"}'.encode("latin-1"),
    "utf-16": '{"results": []}'.encode("utf-16"),
    "binary": bytes(range(256)) * 8,
}


@pytest.mark.parametrize("kind", [*NOT_REPORTS, "eval"])
def test_report_and_compare_on_a_file_that_is_no_report(kind: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    path = tmp_path / f"r-{kind}.json"
    if kind == "eval":
        path = tmp_path / "log.eval"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("header.json", json.dumps({"version": 2, "eval": {}}))
    else:
        path.write_bytes(NOT_REPORTS[kind])
    for argv in (["report", str(path)], ["compare", str(path), str(path)]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"tracebench: error: {path}: "), err


def test_a_report_over_the_size_limit_is_refused_before_reading(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(3 << 30)  # sparse: 3 GiB on paper
    assert main(["report", str(path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"tracebench: error: {path}: 3,221 MB is over the 512 MiB limit for a report; raise "
        "TRACEBENCH_MAX_TRACE_MB to read it")


def test_compare_names_a_file_that_is_not_a_saved_run(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "/dev/zero", "/dev/zero"]) == 1
    assert capsys.readouterr().err.strip() == (
        "tracebench: error: /dev/zero: not a regular file (a character device)")


# -- downloads ------------------------------------------------------------------------------

@pytest.fixture
def endless_server() -> Iterator[str]:
    class Endless(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            if self.path.endswith("/declared.jsonl"):
                self.send_header("Content-Length", str(10 << 20))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while True:
                    self.wfile.write(chunk)
            except OSError:
                return

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/run.jsonl"
    server.shutdown()
    server.server_close()


def test_an_endless_download_stops_at_the_limit(endless_server: str, tmp_path: Path) -> None:
    proc = capped("analyze", endless_server, env={"TRACEBENCH_MAX_TRACE_MB": "2"},
                  cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"{endless_server}: cannot fetch: more than 2 MiB; raise "
                                   "TRACEBENCH_MAX_TRACE_MB to read it")


def test_a_download_declared_over_the_limit_is_refused_before_reading(endless_server: str,
                                                                     tmp_path: Path) -> None:
    url = endless_server.replace("run.jsonl", "declared.jsonl")
    proc = capped("analyze", url, env={"TRACEBENCH_MAX_TRACE_MB": "2"}, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"{url}: cannot fetch: 10 MB is over the 2 MiB limit; raise "
                                   "TRACEBENCH_MAX_TRACE_MB to read it")


@pytest.mark.parametrize("url", ["file:///dev/zero", "file:///proc/self/fd/0"])
def test_a_file_url_is_read_like_the_file(url: str, tmp_path: Path) -> None:
    proc = capped("analyze", url, cwd=tmp_path, timeout=30)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(url + ": ") and "not a regular file" in \
        lines[0], proc.stderr


def test_a_file_url_of_a_trace_is_analysed(tmp_path: Path) -> None:
    path = _recorded(tmp_path / "run.jsonl")
    proc = capped("analyze", path.as_uri(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 trace(s)" in proc.stdout


# -- names and strings that reach the terminal -------------------------------------------------

FORGED = "x\n\x1b[32mok: 99 steps, completed, format tracebench\x1b[0m\r"


def test_file_names_with_escapes_cannot_forge_lines(tmp_path: Path) -> None:
    folder = tmp_path / ("d" + FORGED)
    folder.mkdir()
    good = _recorded(folder / ("good" + FORGED + ".jsonl"))
    bad = folder / ("bad" + FORGED + ".jsonl")
    bad.write_text('{"type": "trace", "trace_id": "x"}\n{"type": "step", "index": "one"}\n')
    (folder / ("report.json")).write_text("{}")  # a companion file: skipped, by name
    ws = tmp_path / "ws"
    ws.mkdir()
    runs = {
        "validate": ["validate", str(folder)],
        "convert": ["convert", str(folder), "-o", str(tmp_path / "out/")],
        "analyze": ["analyze", str(folder), f"--json={folder / 'r.json'}"],
        "replay": ["replay", str(bad)],
        "replay-good": ["replay", "--step", "9", str(good)],
        "rerun": ["rerun", str(bad), "--workspace", str(ws)],
        "report": ["report", str(folder / "nope.json")],
    }
    for verb, proc in zip(runs, capped_each(list(runs.values()), tmp_path), strict=True):
        out = proc.stdout + proc.stderr
        assert "\x1b" not in out and "\r" not in out, (verb, out)
        forged = [line for line in out.splitlines() if line.startswith(("ok: 99", "\x1b"))]
        assert forged == [], (verb, out)
        assert "x\\x0a\\x1b[32mok: 99" in out, (verb, out)


def test_a_saved_report_s_strings_cannot_forge_lines(tmp_path: Path) -> None:
    # A saved report is data like a trace: its task ids, agents and detector names reach the
    # terminal through `tracebench report`, and a per-trace gate's message names tasks.
    trace = _recorded(tmp_path / "run.jsonl")
    assert main(["analyze", str(trace), f"--json={tmp_path / 'r.json'}"]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    for result in data["results"]:
        result["task_id"] = result["nodeid"] = result["agent"] = "t" + FORGED
        result["findings"] = [{"detector": "d" + FORGED, "category": "flow",
                               "severity": "high", "message": "m" + FORGED, "steps": [0]}]
    data["summary"]["findings_per_detector"] = {"d" + FORGED: 1}
    (tmp_path / "r.json").write_text(json.dumps(data))
    for args in (["report", str(tmp_path / "r.json"), "--min-score=100"],
                 ["report", str(tmp_path / "r.json"), "-v"]):
        (proc,) = capped_each([args], tmp_path)
        out = proc.stdout + proc.stderr
        assert "\x1b" not in out and "\r" not in out, out
        assert [line for line in out.splitlines() if line.startswith(("ok: 99", "\x1b"))] == []


# -- issue 17: what still escaped -----------------------------------------------------------

def _saved_report(tmp_path: Path, seed: Path) -> Path:
    out = tmp_path / "report.json"
    assert main(["analyze", str(seed), "--json", str(out)]) == 0
    return out


def test_a_report_holding_lone_surrogates_is_read_and_written(
        tmp_path: Path, seed_trace_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_saved_report(tmp_path, seed_trace_path).read_text())
    data["results"][0]["task_id"] = "\ud800task"
    bad = tmp_path / "surrogate.json"
    bad.write_text(json.dumps(data))  # ASCII with a \ud800 escape: valid JSON, no text
    capsys.readouterr()
    assert main(["compare", str(bad), str(bad)]) == 0
    assert main(["report", str(bad), "--json", str(tmp_path / "again.json")]) == 0
    assert "\ufffdtask" in capsys.readouterr().out
    assert json.loads((tmp_path / "again.json").read_text())["results"][0]["task_id"] == \
        "\ufffdtask"


def test_compare_with_a_missing_file_names_it(tmp_path: Path, seed_trace_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    report = _saved_report(tmp_path, seed_trace_path)
    capsys.readouterr()
    missing = tmp_path / "nope.json"
    assert main(["compare", str(report), str(missing)]) == 1
    assert capsys.readouterr().err.strip() == f"tracebench: error: {missing}: no such file"


def test_convert_keeps_two_inputs_of_one_trace_id_apart(tmp_path: Path, seed_trace_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "trace.json").write_bytes(seed_trace_path.read_bytes())
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "a"), str(tmp_path / "b"), "-o", f"{out}/"]) == 0
    written = sorted(out.iterdir())
    assert len(written) == 2, written
    targets = [line.split(" -> ")[1].split(" (")[0] for line in
               capsys.readouterr().out.splitlines()]
    assert sorted(targets) == sorted(str(p) for p in written)


def test_json_onto_a_folder_names_the_folder(tmp_path: Path, seed_trace_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "DIR"
    folder.mkdir()
    assert main(["analyze", str(seed_trace_path), "--json", str(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"tracebench: error: {folder}: Is a directory", err
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())
