"""Sandboxes, tested for real: processes, files, the network namespace."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.agents.sandbox import (
    BubblewrapSandbox,
    DockerSandbox,
    LocalSandbox,
    SandboxError,
    bubblewrap_available,
    docker_available,
    environment_for_python,
    get_sandbox,
)

BWRAP = bubblewrap_available()


def test_local_runs_records_times_out_and_limits_output(tmp_path: Path) -> None:
    box = LocalSandbox(tmp_path, max_output=50)
    rec = TraceRecorder(None)
    result = box.run("echo hello > out.txt && cat out.txt", trace=rec)
    assert (result.exit_code, result.stdout) == (0, "hello\n")
    assert (tmp_path / "out.txt").read_text() == "hello\n"
    slow = box.run("sleep 5", timeout=0.5, trace=rec)
    assert slow.timed_out and slow.exit_code is None
    loud = box.run("yes | head -c 500")
    assert loud.truncated and "output cut at 50" in loud.stdout
    steps = rec.steps
    assert [s.kind for s in steps] == ["command", "command"]
    assert steps[1].output["timed_out"] is True


def test_test_commands_are_recorded_as_parsed_test_runs(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_a(): assert 1\ndef test_b(): assert 0\n")
    box = LocalSandbox(tmp_path, env=environment_for_python())
    rec = TraceRecorder(None)
    box.run("python -m pytest -q -p no:cacheprovider test_x.py", trace=rec)
    (step,) = rec.steps
    assert step.kind == "test"
    assert (step.output["passed"], step.output["failed"]) == (1, 1)
    assert step.output["failing"] == ["test_x.py::test_b"]
    # The run is recorded after it ended: it still took the time the suite ran, not 0 ms.
    assert step.started_at is not None and step.ended_at is not None
    assert step.ended_at > step.started_at


@pytest.mark.skipif(BWRAP is not None, reason=f"bubblewrap unavailable: {BWRAP}")
def test_bubblewrap_cannot_write_outside_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    outside = tmp_path / "outside.txt"
    box = BubblewrapSandbox(workspace)
    inside = box.run("echo ok > inside.txt && cat inside.txt")
    assert inside.stdout == "ok\n" and (workspace / "inside.txt").exists()
    box.run(f"echo pwned > {outside}")  # lands in the sandbox's private /tmp, if anywhere
    assert not outside.exists()
    var = box.run("echo pwned > /var/tmp/tracebench-escape.txt")
    assert var.exit_code != 0 and not Path("/var/tmp/tracebench-escape.txt").exists()
    system = box.run("touch /etc/tracebench-was-here")
    assert system.exit_code != 0 and "Read-only file system" in system.stderr
    assert not Path("/etc/tracebench-was-here").exists()


@pytest.mark.skipif(BWRAP is not None, reason=f"bubblewrap unavailable: {BWRAP}")
def test_bubblewrap_cannot_reach_the_network(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    accepted: list[bool] = []
    thread = threading.Thread(target=lambda: accepted.append(bool(server.accept())),
                              daemon=True)
    thread.start()
    probe = ("python3 -c \"import socket,sys; s=socket.socket(); s.settimeout(3); "
             f"s.connect(('127.0.0.1', {port})); print('connected')\"")
    local = LocalSandbox(tmp_path).run(probe)
    assert local.stdout.strip() == "connected"  # the server is reachable from outside...
    sandboxed = BubblewrapSandbox(tmp_path).run(probe)
    assert sandboxed.exit_code != 0 and "connected" not in sandboxed.stdout  # ...not inside
    server.close()


def test_auto_picks_bubblewrap_when_it_works(tmp_path: Path) -> None:
    box = get_sandbox(tmp_path)
    assert box.name == ("bubblewrap" if BWRAP is None else "local")
    with pytest.raises(SandboxError, match="unknown sandbox 'vm'"):
        get_sandbox(tmp_path, "vm")


DOCKER = docker_available()


@pytest.mark.skipif(DOCKER is not None, reason=f"Docker: {DOCKER}")
def test_docker_runs_without_network(tmp_path: Path) -> None:  # pragma: no cover - no engine
    box = DockerSandbox(tmp_path)
    assert box.run("echo hi").stdout == "hi\n"


def test_docker_refuses_clearly_without_an_engine(tmp_path: Path) -> None:
    if DOCKER is None:
        pytest.skip("a Docker engine is running here")
    with pytest.raises(SandboxError, match=r"[Dd]ocker"):
        DockerSandbox(tmp_path)
