"""Where agent commands run: one interface, three backends.

* ``local``: a subprocess in the workspace, with a timeout and an output limit;
* ``bubblewrap`` (Debian's ``bubblewrap``): the same, inside a sandbox whose system is
  read-only, whose only writable places are the workspace and a private ``/tmp``, and which has
  no network; the default when ``bwrap`` works on the machine;
* ``docker``: a container with the workspace mounted and no network, when a Docker engine
  answers.

Every command and its result can be recorded into a trace: a test run becomes a ``test`` step
with its parsed counts, anything else a ``command`` step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pytest_tracebench.parsers import classify_command, parse_test_output

if TYPE_CHECKING:
    from pytest_tracebench.record.recorder import TraceRecorder

DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_OUTPUT = 1_000_000


@dataclass
class CommandResult:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False
    seconds: float = 0.0


class SandboxError(Exception):
    """A backend that cannot run here (the message says why)."""


class Sandbox(Protocol):
    name: str

    def run(self, command: str, *, timeout: float = DEFAULT_TIMEOUT,
            trace: TraceRecorder | None = None) -> CommandResult:
        ...


def _limit(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit] + f"\n...[output cut at {limit} characters]", True


def _execute(argv: list[str], cwd: Path, timeout: float, limit: int,
             env: dict[str, str] | None) -> CommandResult:
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        def text(data: object) -> str:
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else \
                str(data or "")
        out, cut1 = _limit(text(exc.stdout), limit)
        err, cut2 = _limit(text(exc.stderr), limit)
        return CommandResult(None, out, err, True, cut1 or cut2, time.monotonic() - started)
    out, cut1 = _limit(proc.stdout, limit)
    err, cut2 = _limit(proc.stderr, limit)
    return CommandResult(proc.returncode, out, err, False, cut1 or cut2,
                         time.monotonic() - started)


def record(trace: TraceRecorder, command: str, result: CommandResult, cwd: Path) -> None:
    """Record a command as the step it is: a parsed test run, or a command."""
    now = time.time()
    if classify_command(command).kind == "test":
        parsed = parse_test_output(result.stdout + "\n" + result.stderr)
        ok = False if result.timed_out else (parsed.ok if parsed else result.exit_code == 0)
        trace.test_run(passed=parsed.passed if parsed else 0,
                       failed=parsed.failed if parsed else 0,
                       errors=parsed.errors if parsed else 0,
                       skipped=parsed.skipped if parsed else 0,
                       failing=parsed.failing if parsed else [], command=command,
                       exit_code=result.exit_code, output=result.stdout[-20_000:], ok=ok,
                       started_at=now - result.seconds, ended_at=now)
        return
    trace.command(command, exit_code=result.exit_code, stdout=result.stdout,
                  stderr=result.stderr, cwd=cwd, timed_out=result.timed_out,
                  started_at=now - result.seconds, ended_at=now)


class LocalSandbox:
    """Commands run as subprocesses in the workspace (no isolation beyond the timeout)."""

    name = "local"

    def __init__(self, workspace: Path, *, max_output: int = DEFAULT_MAX_OUTPUT,
                 env: dict[str, str] | None = None) -> None:
        self.workspace = Path(workspace).resolve()
        self.max_output = max_output
        self.env = env

    def run(self, command: str, *, timeout: float = DEFAULT_TIMEOUT,
            trace: TraceRecorder | None = None) -> CommandResult:
        result = _execute(["/bin/sh", "-c", command], self.workspace, timeout,
                          self.max_output, self.env)
        if trace is not None:
            record(trace, command, result, self.workspace)
        return result


@lru_cache(maxsize=1)
def bubblewrap_available() -> str | None:
    """``None`` when bubblewrap works here, else why not."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bwrap not found (Debian package bubblewrap)"
    try:
        probe = subprocess.run([binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc",
                                "/proc", "--unshare-net", "--die-with-parent", "true"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap does not run: {exc}"
    if probe.returncode != 0:
        return f"bwrap does not run here: {probe.stderr.strip()[:200]}"
    return None


class BubblewrapSandbox(LocalSandbox):
    """Read-only system, writable workspace and private /tmp, no network."""

    name = "bubblewrap"

    def __init__(self, workspace: Path, *, max_output: int = DEFAULT_MAX_OUTPUT,
                 env: dict[str, str] | None = None) -> None:
        why = bubblewrap_available()
        if why is not None:
            raise SandboxError(why)
        super().__init__(workspace, max_output=max_output, env=env)

    def argv(self, command: str) -> list[str]:
        ws = str(self.workspace)
        return ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--tmpfs", "/tmp", "--bind", ws, ws, "--unshare-net", "--unshare-pid",
                "--die-with-parent", "--new-session", "--chdir", ws, "--setenv", "HOME", ws,
                "/bin/sh", "-c", command]

    def run(self, command: str, *, timeout: float = DEFAULT_TIMEOUT,
            trace: TraceRecorder | None = None) -> CommandResult:
        result = _execute(self.argv(command), self.workspace, timeout, self.max_output,
                          self.env)
        if trace is not None:
            record(trace, command, result, self.workspace)
        return result


@lru_cache(maxsize=1)
def docker_available() -> str | None:
    """``None`` when a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "docker CLI not found"
    try:
        probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"docker does not run: {exc}"
    if probe.returncode != 0:
        return "no Docker engine reachable: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
    return None


class DockerSandbox(LocalSandbox):
    """A container with the workspace at /workspace and no network."""

    name = "docker"

    def __init__(self, workspace: Path, *, image: str = "python:3.11-slim",
                 max_output: int = DEFAULT_MAX_OUTPUT, env: dict[str, str] | None = None
                 ) -> None:
        why = docker_available()
        if why is not None:
            raise SandboxError(why)
        super().__init__(workspace, max_output=max_output, env=env)
        self.image = image

    def run(self, command: str, *, timeout: float = DEFAULT_TIMEOUT,
            trace: TraceRecorder | None = None) -> CommandResult:
        argv = ["docker", "run", "--rm", "--network", "none", "-v",
                f"{self.workspace}:/workspace", "-w", "/workspace", self.image,
                "/bin/sh", "-c", command]
        result = _execute(argv, self.workspace, timeout, self.max_output, self.env)
        if trace is not None:
            record(trace, command, result, self.workspace)
        return result


def get_sandbox(workspace: Path, kind: str = "auto", **options: object) -> LocalSandbox:
    """The backend by name; ``auto`` takes bubblewrap when it works here, else local."""
    if kind == "auto":
        kind = "bubblewrap" if bubblewrap_available() is None else "local"
    if kind == "local":
        return LocalSandbox(workspace, **options)  # type: ignore[arg-type]
    if kind == "bubblewrap":
        return BubblewrapSandbox(workspace, **options)  # type: ignore[arg-type]
    if kind == "docker":
        return DockerSandbox(workspace, **options)  # type: ignore[arg-type]
    raise SandboxError(f"unknown sandbox {kind!r}; expected auto, local, bubblewrap or docker")


def environment_for_python() -> dict[str, str]:
    """An environment whose ``python``/``pytest`` are the running interpreter's."""
    import sys

    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("PYTEST_ADDOPTS", None)
    return env
