"""`tracebench analyze`, `report` and `compare` as a user runs them: real subprocesses."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

REAL = Path(__file__).parent / "data" / "real"


def tb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _results(path: Path) -> list[tuple]:
    data = json.loads(path.read_text())
    return sorted((r["task_id"], r["score"]["value"], tuple(f["detector"] for f in r["findings"]))
                  for r in data["results"])


def test_analyze_all_real_runs_in_two_processes_equals_one(tmp_path: Path) -> None:
    one = tb("analyze", str(REAL), "--json", str(tmp_path / "one.json"))
    two = tb("analyze", str(REAL), "-j", "2", "--json", str(tmp_path / "two.json"))
    assert one.returncode == 0 and two.returncode == 0, one.stderr
    assert _results(tmp_path / "one.json") == _results(tmp_path / "two.json")
    report = json.loads((tmp_path / "one.json").read_text())
    assert report["summary"]["traces"] == 18  # 12 SWE-bench + 6 Terminal-Bench runs
    assert one.stderr.count("skipped: the same run as") == 6  # ATIF and stream of one run
    assert "=== Failure Clusters ===" in one.stdout
    assert "incomplete_resolution" in one.stdout and "18 trace(s), mean score" in one.stdout


def test_json_to_stdout_and_gates_set_the_exit_code(tmp_path: Path,
                                                    seed_trace_path: Path) -> None:
    out = tb("analyze", str(seed_trace_path), "--json", "-")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["summary"]["traces"] == 1
    mean = report["results"][0]["score"]["value"]
    assert mean < 90
    gated = tb("analyze", str(seed_trace_path), "--fail-under", "90")
    assert gated.returncode == 1
    assert f"gate fail_under: FAILED: mean score {mean:g} is under fail_under=90 by " \
           f"{round(90 - mean, 2):g}" in gated.stdout
    per_trace = tb("analyze", str(seed_trace_path), "--fail-on", "retry_loop")
    assert per_trace.returncode == 1 and "1 of 1 trace(s) failed" in per_trace.stdout


def test_report_and_compare_on_saved_runs(tmp_path: Path, seed_trace_path: Path) -> None:
    mini = REAL / "mini-swe-agent"
    first = tb("analyze", str(mini / "django__django-11179"), "--save", "base", cwd=tmp_path)
    second = tb("analyze", str(mini), "--autosave", cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    runs = sorted((tmp_path / ".tracebench" / "runs").glob("*.json"))
    assert len(runs) == 2 and runs[0].name == "0001_base.json"
    shown = tb("report", str(runs[1]), "-v", cwd=tmp_path)
    assert shown.returncode == 0
    assert "=== Failure Report: pytest-dev__pytest-5840 (mini-swe-agent) ===" in shown.stdout
    diff = tb("compare", "base", "latest", "--compare-fail", "score_drop:1", cwd=tmp_path)
    assert "per task:" in diff.stdout and "per detector:" in diff.stdout
    assert "only in new" in diff.stdout
    assert diff.returncode == 1 and "gate compare score_drop:1: FAILED" in diff.stdout
    bad = tb("compare", "base", "nope", cwd=tmp_path)
    assert bad.returncode == 1 and "no saved run 'nope'" in bad.stderr
    wrong = tb("compare", "1", "2", "--compare-fail", "score_down:3", cwd=tmp_path)
    assert wrong.returncode == 2 and "cannot read 'score_down:3'" in wrong.stderr


def _on_a_terminal(code: str, size: tuple[int, int] | None = None) -> str:
    """What ``python -c code`` writes to stderr when stderr is a pseudo-terminal (of ``size``
    rows and columns; a bare one reports 0 x 0)."""
    main, secondary = pty.openpty()
    if size is not None:
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=secondary, close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


_ANALYZE = ("import sys; from pytest_tracebench.cli import main; "
            f"sys.exit(main(['analyze', {str(REAL / 'mini-swe-agent')!r}]))")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("size", [None, (30, 120)], ids=["unsized", "30x120"])
def test_progress_bar_on_a_terminal_only(size: tuple[int, int] | None) -> None:
    text = _on_a_terminal(_ANALYZE, size)
    # tqdm's bar, in our format: the count, the bar, elapsed<remaining and the rate (a terminal
    # that reports no size gets 80 columns: tqdm alone would draw nothing there)
    assert re.search(r"analyzing: 12/12 files \|.+\| \d\d:\d\d<\d\d:\d\d, ", text), text
    # the lines printed meanwhile stand on their own lines, not inside the bar
    assert re.search(r"(^|\n)\S*report\.json: skipped: SWE-bench harness report", text), text
    piped = tb("analyze", str(REAL / "mini-swe-agent"))
    assert "analyzing" not in piped.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_without_the_progress_extra_a_terminal_is_told_how_to_get_the_bar() -> None:
    text = _on_a_terminal("import sys; sys.modules['tqdm'] = None; " + _ANALYZE)
    assert "analyzing 12 files (pip install 'pytest-tracebench[progress]' for a progress bar)" \
        in text, text
    assert "|" not in text.split("progress bar)")[1].split("\n")[0]


def test_a_symlink_loop_in_a_folder_is_not_followed(tmp_path: Path) -> None:
    # Found by the atheris cli target: `validate /` walked into /proc/*/root, endlessly.
    runs = tmp_path / "runs"
    shutil.copytree(REAL / "mini-swe-agent" / "django__django-16527", runs / "one")
    (runs / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = tb("analyze", str(runs), "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["traces"] == 1
