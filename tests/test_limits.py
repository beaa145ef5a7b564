"""Huge input: a 100 MB line and multi-GB trace files get one clear line, in bounded memory.

Real files, real subprocesses; memory is the child's peak RSS (VmHWM, Linux) above its RSS
once imports are done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder

_MIB = 1 << 20
REAL_MINI = Path(__file__).parent / "data" / "real" / "mini-swe-agent"

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="reads peak memory from /proc (Linux)")

_PROBE = r"""
import json, sys
from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.settings import Settings
from pytest_tracebench.importers import get_importers
from pytest_tracebench.pipeline import Pipeline
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
Pipeline.from_settings(Settings()); get_importers()
base = status("VmRSS")
errors = []
results = analyze_paths(sys.argv[1:], Settings(), errors=errors)
print(json.dumps({"growth_mb": (status("VmHWM") - base) / 1024, "errors": errors,
                  "results": len(results)}))
"""


def probe(*paths: Path, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, *map(str, paths)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"stderr": out.stderr}


def _recorded(path: Path) -> Path:
    rec = TraceRecorder(path, task="t", agent="a")
    rec.command("ls", exit_code=0, stdout="x")
    rec.end()
    return path


def test_a_100_mb_line_is_refused_with_file_and_line_in_bounded_memory(tmp_path: Path) -> None:
    path = _recorded(tmp_path / "huge.jsonl")
    lines = path.read_text().splitlines()
    big = json.loads(lines[1])
    big["output"]["stdout"] = "A" * 100_000_000  # a writer that did not truncate
    with path.open("w") as fh:
        fh.write(lines[0] + "\n" + json.dumps(big) + "\n" + lines[2] + "\n")
    assert path.stat().st_size > 100_000_000
    result = probe(path)
    assert result["results"] == 0
    assert result["errors"] == [f"{path}:2: line longer than 32 MiB; a trace line holds one "
                                "step (long outputs are truncated when recorded); raise "
                                "TRACEBENCH_MAX_LINE_MB to read it"]
    # Bounded by the limit (reading 32 MiB costs up to twice that while the buffer grows), not
    # by the 100 MB line; a smaller limit gives a smaller bound.
    assert result["growth_mb"] < 2.5 * 32
    smaller = probe(path, env={"TRACEBENCH_MAX_LINE_MB": "4"})
    assert "line longer than 4 MiB" in smaller["errors"][0]
    assert smaller["growth_mb"] < 2.5 * 4 + 5


def test_the_line_limit_is_configurable(tmp_path: Path) -> None:
    path = _recorded(tmp_path / "ok.jsonl")
    lines = path.read_text().splitlines()
    big = json.loads(lines[1])
    big["output"]["stdout"] = "B" * 3_000_000
    path.write_text(lines[0] + "\n" + json.dumps(big) + "\n" + lines[2] + "\n")
    assert probe(path)["results"] == 1
    refused = probe(path, env={"TRACEBENCH_MAX_LINE_MB": "2"})
    assert refused["errors"] and "line longer than 2 MiB" in refused["errors"][0]


@pytest.mark.parametrize("name", ["big.jsonl", "big.traj.json", "big.json"])
def test_a_multi_gb_trace_is_refused_before_reading(tmp_path: Path, name: str) -> None:
    path = _recorded(tmp_path / name) if name.endswith(".jsonl") else tmp_path / name
    if not name.endswith(".jsonl"):
        path.write_text('{"trajectory": [')
    with path.open("r+b") as fh:  # sparse: 3 GiB on paper, no disk used
        fh.truncate(3 << 30)
    result = probe(path)
    assert result["results"] == 0
    first = result["errors"][0]
    assert first == (f"{path}: 3,221 MB is over the 512 MiB limit for loading a whole trace "
                     "(a loaded trace takes 2 to 35 times its size in memory); raise "
                     "TRACEBENCH_MAX_TRACE_MB, or stream it with `tracebench replay`")
    assert result["growth_mb"] < 20


def test_other_files_still_load_after_a_refused_one(tmp_path: Path) -> None:
    big = _recorded(tmp_path / "a_big.jsonl")
    with big.open("r+b") as fh:
        fh.truncate(1 << 30)
    _recorded(tmp_path / "b_fine.jsonl")
    result = probe(tmp_path, env={"TRACEBENCH_MAX_TRACE_MB": "100"})
    assert result["results"] == 1 and len(result["errors"]) == 1
    assert "over the 100 MiB limit" in result["errors"][0]


def _inspect_zip(path: Path, members: int, member_mb: int) -> Path:
    """An Inspect ``.eval`` whose samples are ``member_mb`` MB of tiny messages each: a few
    hundred KB on disk."""
    unit = b'{"role": "user", "content": "x"}, '
    chunk = unit * ((1 << 20) // len(unit))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("header.json", json.dumps({"version": 2, "eval": {"task": "t"}}))
        for n in range(members):
            with archive.open(f"samples/{n}_epoch_1.json", "w") as fh:
                fh.write(b'{"id": 1, "messages": [')
                for _ in range(member_mb):
                    fh.write(chunk)
                fh.write(b'{"role": "user", "content": "x"}]}')
    return path


def test_a_zip_counts_at_its_uncompressed_size(tmp_path: Path) -> None:
    # The limit once saw only the compressed size: a 1.4 MB .eval holding a 400 MB sample
    # went through (and took 15 GB); members of 500 MB each, under the per-member limit, too.
    path = _inspect_zip(tmp_path / "bomb.eval", members=3, member_mb=4)
    assert path.stat().st_size < 200_000
    result = probe(path, env={"TRACEBENCH_MAX_TRACE_MB": "10"})
    assert result["results"] == 0
    assert result["errors"] == [
        f"{path}: 13 MB uncompressed is over the 10 MiB limit for loading a whole trace (a "
        "loaded trace takes 2 to 35 times its size in memory); raise TRACEBENCH_MAX_TRACE_MB, "
        "or stream it with `tracebench replay`"]
    assert result["growth_mb"] < 10
    assert probe(path, env={"TRACEBENCH_MAX_TRACE_MB": "20"})["results"] == 3


def _tiny_steps(path: Path, megabytes: float) -> Path:
    """A mini-swe-agent trajectory of the smallest steps: ~100 bytes of JSON per command."""
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
    for i in range(int(megabytes * 1e6 / 120)):
        messages += [{"role": "assistant", "content": f"THOUGHT\n```bash\nls {i}\n```"},
                     {"role": "user", "content": f"<returncode>0</returncode><output>{i}"
                                                 "</output>"}]
    path.write_text(json.dumps({"trajectory_format": "mini-swe-agent-1", "messages": messages,
                                "info": {"exit_status": "Submitted", "submission": ""}}))
    return path


def _real_scaled(path: Path, megabytes: float) -> Path:
    """A real mini-swe-agent run (tests/data/real) with its turns repeated to ``megabytes``."""
    source = REAL_MINI / "django__django-11179" / "django__django-11179.traj.json"
    data = json.loads(source.read_text())
    turns = data["messages"][2:-1]
    size = len(json.dumps(turns))
    data["messages"] = data["messages"][:2] + turns * max(1, int(megabytes * 1e6 / size)) + \
        data["messages"][-1:]
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("shape", "bound"), [("tiny", 35), ("real", 5)])
def test_memory_is_a_bounded_multiple_of_the_file(tmp_path: Path, shape: str,
                                                  bound: float) -> None:
    # The documented ratio (docs/reliability.md, the size-limit message) is what this
    # measures: the peak of loading and analysing, over the file's size.
    make = _tiny_steps if shape == "tiny" else _real_scaled
    path = make(tmp_path / f"{shape}.traj.json", 3 if shape == "tiny" else 10)
    result = probe(path)
    assert result["results"] == 1, result["errors"]
    ratio = result["growth_mb"] * _MIB / path.stat().st_size
    print(f"{shape}: {path.stat().st_size / 1e6:.1f} MB, peak growth "
          f"{result['growth_mb']:.0f} MB, {ratio:.1f}x")
    assert ratio < bound


_CAPPED_VALIDATE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
from pytest_tracebench.cli import main
sys.exit(main(["validate", sys.argv[2]]))
"""


def test_running_out_of_memory_is_one_line_naming_the_file(tmp_path: Path) -> None:
    # Under an address-space limit (ulimit -v) a file under the size limit can still need
    # more memory than there is: one line naming it, not a MemoryError traceback.
    path = _tiny_steps(tmp_path / "many.traj.json", 6)  # ~170 MB to load; start-up: < 150 MB
    proc = subprocess.run([sys.executable, "-c", _CAPPED_VALIDATE, str(200 << 20), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"{path}: out of memory loading it ({path.stat().st_size / 1e6:,.0f} MB; a loaded "
        "trace takes 2 to 35 times its size in memory); lower TRACEBENCH_MAX_TRACE_MB to "
        "refuse such files before reading")
