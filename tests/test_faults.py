"""Faults around the trace files: a trace directory that cannot exist, a full disk (a file size
limit), a report that cannot be written. Each keeps what was recorded before the fault and ends
with one clear line, never an INTERNALERROR traceback."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder, load_trace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")

SUITE = textwrap.dedent("""
    def test_one(trace):
        for i in range(50):
            trace.command(f"echo {i}", exit_code=0, stdout="x" * 2000)
""")


def _pytest(folder: Path, *args: str, file_limit: int | None = None
            ) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit gets EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    (folder / "test_suite.py").write_text(SUITE)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--tracebench", *args], cwd=folder, preexec_fn=limit,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_trace_directory_that_cannot_exist_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    proc = _pytest(tmp_path, "--tracebench-dir=file/sub")
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "cannot create the trace directory" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_full_disk_keeps_the_steps_written_before_it(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--tracebench-dir=tb", file_limit=30_000)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert "cannot write: File too large" in out
    (path,) = (tmp_path / "tb" / "traces").glob("*.jsonl")
    trace = load_trace(path)
    assert 5 < len(trace.steps) < 50
    assert [s.input["command"] for s in trace.steps] == [  # type: ignore[index]
        f"echo {i}" for i in range(len(trace.steps))]
    assert trace.end is None  # the run did not end on disk, and the loader says so
    assert any("aborted" in w or "truncated" in w for w in trace.warnings)


def test_a_report_that_cannot_be_written_fails_the_session_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    proc = _pytest(tmp_path, "--tracebench-dir=tb", "--tracebench-json=file/report.json")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.INTERNAL_ERROR, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert f"tracebench: cannot write {tmp_path / 'file'}" in out
    assert len(list((tmp_path / "tb" / "traces").glob("*.jsonl"))) == 1


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (Debian's "
                    "bubblewrap package) to mount the trace directory read-only")
def test_a_read_only_trace_directory_keeps_the_run_and_says_so(tmp_path: Path) -> None:
    # A read-only bind mount (EROFS) holds even for root, unlike directory permissions.
    (tmp_path / "traces_root" / "traces").mkdir(parents=True)
    (tmp_path / "test_suite.py").write_text(SUITE)
    ro = tmp_path / "traces_root"
    result = subprocess.run(
        ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(ro), str(ro),
         sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tracebench",
         f"--tracebench-dir={ro}", "--tracebench-json=report.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    if "Operation not permitted" in result.stderr and "bwrap" in result.stderr:
        pytest.skip(f"bubblewrap cannot create namespaces here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 warning" in result.stdout
    assert "cannot create the trace file: Read-only file system; the steps are kept in " \
           "memory only" in result.stdout
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert list((ro / "traces").iterdir()) == []
    # The test's own analysis still saw all 50 steps.
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["results"][0]["step_count"] == 50


# -- the command line on a full disk, several runs at once, an interrupted session -------------

def _traces(folder: Path, count: int, steps: int = 40) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        rec = TraceRecorder(folder / f"run{n:02d}.jsonl", task=f"task-{n}", agent="a")
        for i in range(steps):
            rec.command(f"echo {i}", exit_code=0, stdout="x" * 200)
        rec.end()
        paths.append(rec.path)
    return paths


_FULL = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit gets EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
from pytest_tracebench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _on_full_disk(kind: str, folder: Path, args: list[str], cwd: Path
                  ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``tracebench ARGS`` writing into ``folder`` while it is full; the names left in it.

    ``enospc``: a 64 KiB tmpfs, 60 KB taken, mounted in a mount namespace of our own (root
    or user namespaces needed); ``efbig``: a file size limit of 2,000 bytes."""
    folder.mkdir()
    listing = cwd / "left.txt"
    if kind == "efbig":
        proc = subprocess.run([sys.executable, "-c", _FULL, *args], cwd=cwd,
                              capture_output=True, text=True, timeout=120)
        return proc, sorted(p.name for p in folder.iterdir())
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) for a private tmpfs")
    script = (f'mount -t tmpfs -o size=64k tmpfs "{folder}" || exit 99; '
              f'head -c 60000 /dev/zero > "{folder}/filler"; "$@"; rc=$?; '
              f'ls -A "{folder}" > "{listing}"; exit $rc')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m",
                           "pytest_tracebench", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode == 99 or "unshare failed" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    return proc, sorted(set(listing.read_text().split()) - {"filler"})


@pytest.mark.parametrize("kind", ["enospc", "efbig"])
@pytest.mark.parametrize("verb", ["analyze-json", "analyze-html", "convert", "convert-atif"])
def test_a_full_disk_names_the_file_and_leaves_no_temporary_file(tmp_path: Path, kind: str,
                                                                  verb: str) -> None:
    paths = _traces(tmp_path / "in", 3)
    out = tmp_path / "full"
    target = {"analyze-json": out / "report.json", "analyze-html": out / "dash.html",
              "convert": out / "run.jsonl", "convert-atif": out / "run.json"}[verb]
    args = {"analyze-json": ["analyze", *map(str, paths), f"--json={target}"],
            "analyze-html": ["analyze", *map(str, paths), f"--html={target}"],
            "convert": ["convert", str(paths[0]), "-o", str(target)],
            "convert-atif": ["convert", "--to", "atif", str(paths[0]), "-o", str(target)],
            }[verb]
    proc, left = _on_full_disk(kind, out, args, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    problem = "No space left on device" if kind == "enospc" else "File too large"
    named = target.with_name("dash_files") if verb == "analyze-html" else target
    assert proc.stderr.strip().splitlines()[-1] == f"tracebench: error: {named}: {problem}"
    assert left == [], left  # no partial file, no temporary one


def test_concurrent_runs_writing_the_same_report_all_succeed(tmp_path: Path) -> None:
    # Six CI jobs (or a retry beside the first run) writing one --json and --html path: each
    # replaces the report whole; none fails because another wrote it meanwhile.
    paths = _traces(tmp_path / "in", 12)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "pytest_tracebench", "analyze", *map(str, paths),
            f"--json={out / 'report.json'}", f"--html={out / 'dash.html'}"]
    for _ in range(2):
        procs = [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, cwd=tmp_path) for _ in range(6)]
        errors = [p.communicate(timeout=240)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, errors
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["traces"] == 12
    assets = out / "dash_files"
    assert (assets / "report.js").read_text().startswith("window.TRACEBENCH_REPORT=")
    assert len(list((assets / "traces").iterdir())) == 12
    assert sorted(p.name for p in out.iterdir()) == ["dash.html", "dash_files", "report.json"]


INTERRUPTED = textwrap.dedent("""
    import os, signal

    def test_one(trace):
        trace.command("echo 1", exit_code=0, stdout="1")

    def test_two(trace):
        for i in range(5):
            trace.command(f"echo {i}", exit_code=0, stdout=str(i))
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the agent runs

    def test_three(trace):
        trace.command("echo 3", exit_code=0, stdout="3")
""")


def test_an_interrupted_test_is_in_the_report_as_interrupted(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(INTERRUPTED)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--tracebench", "--tracebench-dir=tb",
                           "--tracebench-json=report.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    by_test = {r["nodeid"].split("::")[-1]: r for r in report["results"]}
    assert sorted(by_test) == ["test_one", "test_two"]  # test_three never ran
    two = by_test["test_two"]
    assert two["status"] == "aborted" and two["step_count"] == 5
    assert two["outcome"]["test_outcome"] == "interrupted"
    trace = load_trace(two["path"])
    assert trace.end is not None and trace.end.status == "aborted"
    assert len(trace.steps) == 5
