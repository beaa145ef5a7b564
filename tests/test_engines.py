"""`tracebench analyze --engine ray` on a real Ray cluster started on loopback, and URL inputs.

The cluster is started by the test with `ray start --head` (two CPUs, no dashboard) and
stopped afterwards; the report must equal the local engine's on the same files. URL inputs
are served by a real HTTP server on loopback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REAL = Path(__file__).parent / "data" / "real"
MINI = REAL / "mini-swe-agent"
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
ENGINE_ENV: dict[str, str] = {}  # what the running cluster needs its clients to see


def tb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**ENV, **ENGINE_ENV}
    env.pop("RAY_AUTH_MODE", None)
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env)


def comparable(report_path: Path) -> dict[str, Any]:
    """The report without what names the run itself (time, argv, output path)."""
    report = json.loads(report_path.read_text())
    for key in ("created_at", "environment"):
        report.pop(key)
    report["config"].pop("json")
    return report


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ray_cluster() -> Iterator[str]:
    """A one-node Ray cluster on loopback, in its own process group; its address.

    Only one test uses it, so under ``-n 2`` one cluster runs at a time. It is stopped by
    signalling its process group, not with ``ray stop`` (which would stop every Ray cluster
    on the machine, a developer's own included).
    """
    pytest.importorskip("ray", reason="Ray is not installed (pip install "
                                      "'pytest-tracebench[ray]')")
    # A home of its own holding a Ray auth token, as a machine that once ran ray.init() has:
    # the head then requires the token, and the engine must send it.
    home = Path(tempfile.mkdtemp(prefix="tbhome"))
    (home / ".ray").mkdir()
    (home / ".ray" / "auth_token").write_text(os.urandom(16).hex())
    env = {**ENV, "HOME": str(home)}
    env.pop("RAY_AUTH_MODE", None)
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="tbray")  # Ray's socket paths must stay short
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
         "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", "--object-store-memory=80000000",
         f"--temp-dir={temp}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True)
    try:
        for _ in range(1200):
            if head.poll() is not None:
                pytest.fail(f"ray start exited {head.returncode}: {head.stdout.read()[-2000:]}"
                            if head.stdout else "ray start exited")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        ENGINE_ENV["HOME"] = str(home)
        yield f"127.0.0.1:{port}"
    finally:
        ENGINE_ENV.pop("HOME", None)
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(5)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def _equal_on_real_runs(tmp_path: Path, address: str) -> None:
    tmp_path.mkdir()
    # Relative paths, run from the repository: the Ray workers' working directory differs.
    cwd = REAL.parent.parent.parent
    rel = str(REAL.relative_to(cwd))
    local = tb("analyze", rel, "--json", str(tmp_path / "local.json"), cwd=cwd)
    ray = tb("analyze", rel, "--engine", "ray", "--address", address,
             "--json", str(tmp_path / "ray.json"), cwd=cwd)
    assert local.returncode == 0, local.stderr
    assert ray.returncode == 0, ray.stderr
    ray_report = comparable(tmp_path / "ray.json")
    assert ray_report == comparable(tmp_path / "local.json")
    assert ray_report["summary"]["traces"] == 18
    assert all(not Path(r["path"]).is_absolute() for r in ray_report["results"])
    # Same skipped duplicates, in the same order, and the same terminal report.
    assert ray.stderr == local.stderr
    assert ray.stdout.replace("ray.json", "local.json") == local.stdout


def _bad_file_like_local(tmp_path: Path, address: str) -> None:
    tmp_path.mkdir()
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "bad.jsonl").write_text('{"type": "header"\n')
    shutil.copy(MINI / "django__django-16527" / "django__django-16527.traj.json", runs)
    local = tb("analyze", str(runs), "--json", str(tmp_path / "l.json"))
    ray = tb("analyze", str(runs), "--engine", "ray", "--address", address,
             "--json", str(tmp_path / "r.json"))
    assert local.returncode == ray.returncode == 1
    assert ray.stderr == local.stderr and "bad.jsonl: unknown format" in ray.stderr
    assert "Traceback" not in ray.stderr


def test_ray_engine_on_a_loopback_cluster_equals_the_local_engine(
        tmp_path: Path, ray_cluster: str, http_root: str) -> None:
    _equal_on_real_runs(tmp_path / "real", ray_cluster)
    _bad_file_like_local(tmp_path / "bad", ray_cluster)
    _urls_like_files(tmp_path / "urls", http_root, ["--engine", "ray", "--address", ray_cluster])


@pytest.fixture
def http_root() -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(MINI))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


RUNS = ("django__django-16527", "pytest-dev__pytest-5840", "psf__requests-2317")


def _by_task(report_path: Path) -> dict[str, Any]:
    results = json.loads(report_path.read_text())["results"]
    return {r["task_id"]: {k: v for k, v in r.items() if k != "path"} for r in results}


def test_url_inputs_analyse_like_the_files(tmp_path: Path, http_root: str) -> None:
    _urls_like_files(tmp_path, http_root, [])


def _urls_like_files(tmp_path: Path, http_root: str, extra: list[str]) -> None:
    tmp_path.mkdir(exist_ok=True)
    urls = [f"{http_root}/{run}/{run}.traj.json" for run in RUNS]
    files = [str(MINI / run / f"{run}.traj.json") for run in RUNS]
    fetched = tb("analyze", *urls, f"{http_root}/missing.traj.json", *extra,
                 "--json", str(tmp_path / "urls.json"), "--html", str(tmp_path / "urls.html"))
    # Verdict files are read beside local files only: a URL names one file.
    direct = tb("analyze", *files, "--verdicts=false", "--json", str(tmp_path / "files.json"))
    assert direct.returncode == 0, direct.stderr
    assert fetched.returncode == 1  # the missing one
    assert f"{http_root}/missing.traj.json: cannot fetch: HTTP 404" in fetched.stderr
    assert _by_task(tmp_path / "urls.json") == _by_task(tmp_path / "files.json")
    paths = [r["path"] for r in json.loads((tmp_path / "urls.json").read_text())["results"]]
    assert sorted(paths) == sorted(urls)
    # The dashboard shows the fetched runs too: the engine hands it the traces (issue 18).
    assert len(list((tmp_path / "urls_files" / "traces").glob("*.js"))) == len(RUNS)


def test_unreachable_cluster_and_misused_address_are_one_line_errors() -> None:
    pytest.importorskip("ray", reason="Ray is not installed")
    refused = tb("analyze", str(MINI), "--engine", "ray", "--address", f"127.0.0.1:{_free_port()}")
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith("tracebench: error: cannot connect to Ray at")
    assert len(refused.stderr.strip().splitlines()) == 1
    misused = tb("analyze", str(MINI), "--address", "127.0.0.1:1")
    assert misused.returncode == 2
    assert misused.stderr.strip() == ("tracebench: error: --address names a Ray cluster; use "
                                      "it with --engine ray")


def test_object_store_scheme_without_fsspec_names_what_to_install(tmp_path: Path) -> None:
    result = tb("analyze", "s3://bucket/run.traj.json")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("s3://bucket/run.traj.json: ")
    assert "fsspec" in line and "Traceback" not in line
