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

from pytest_tracebench import load_trace

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
