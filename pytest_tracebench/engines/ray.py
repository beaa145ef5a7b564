"""``tracebench analyze --engine ray``: per-trace analysis as Ray tasks, merged here.

Why Ray rather than a scheduler of our own: a corpus of hundreds of thousands of rollouts
outgrows one machine, and Ray already schedules tasks over a cluster, retries lost workers and
moves results. Each task analyses a batch of inputs with the same ``analyze_file`` the local
engine runs, so the two engines cannot disagree about a trace; results (and, for a dashboard,
the traces) come back as the same :class:`~pytest_tracebench.engines.local.Outcome` models and
are merged in input order, so the report equals the local engine's.

Inputs are paths that every node can read (a shared filesystem) or URLs that the worker fetches
itself (``http(s)://``, ``file://``, or an object store through fsspec), so trace bytes never
pass through the driver. The cluster's Python needs ``pytest-tracebench`` installed (or a Ray
``runtime_env`` that installs it).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

from pytest_tracebench.engines.worker import Outcome, analyze_file, init_worker

__all__ = ["EngineError", "connect"]

Runner = Callable[[list[str], "str | None", str, bool], Iterator[Outcome]]


class EngineError(Exception):
    """The engine cannot run (Ray missing, cluster unreachable); one line, no traceback."""


def _analyze_batch(settings_json: str, base: str, batch: list[tuple[str, str | None]],
                   keep_traces: bool = False) -> list[Outcome]:
    init_worker(settings_json, keep_traces)
    return [analyze_file(job, base) for job in batch]


def _connect(address: str | None) -> tuple[Any, bool]:
    """The ``ray`` module, connected; and whether we connected it (so we disconnect)."""
    # Before importing ray: it reads its environment settings when imported.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is not None or os.environ.get("RAY_ADDRESS"):
        _token_auth_like_the_head()
    try:
        import ray
    except ImportError:
        raise EngineError("--engine ray needs Ray: pip install 'pytest-tracebench[ray]'") from None
    if ray.is_initialized():
        return ray, False
    target = address or os.environ.get("RAY_ADDRESS")
    if target and target != "auto" and "://" not in target:
        _probe(target)
    kwargs: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
    if address is None and not os.environ.get("RAY_ADDRESS"):
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        where = address or os.environ.get("RAY_ADDRESS") or "a new local Ray instance"
        raise EngineError(f"cannot connect to Ray at {where}: {detail}") from None
    return ray, True


def _token_auth_like_the_head() -> None:
    """Send Ray's auth token when one exists, as ``ray start`` does when it finds one.

    A head started where a token exists (``~/.ray/auth_token``, ``RAY_AUTH_TOKEN``,
    ``RAY_AUTH_TOKEN_PATH``) turns token authentication on, but a driver connecting with
    ``ray.init(address=...)`` does not (Ray 2.60) and is refused as unauthenticated; an
    explicit ``RAY_AUTH_MODE`` is left alone."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    token_path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(
        os.path.expanduser("~"), ".ray", "auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or os.path.isfile(token_path):
        os.environ["RAY_AUTH_MODE"] = "token"


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with one line, where Ray itself would retry for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"Ray address {address!r} is not HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise EngineError(f"cannot connect to Ray at {address}: "
                          f"{exc.strerror or exc or 'timed out'}") from None


def connect(address: str | None) -> Runner:
    """Connect now (so a bad address fails before any file is listed); the runner."""
    ray, owned = _connect(address)

    def run(inputs: list[str], fmt: str | None, settings_json: str,
            keep_traces: bool = False) -> Iterator[Outcome]:
        """``analyze_file`` outcomes for ``inputs``, in input order, computed on Ray; with
        the traces when ``keep_traces`` (fetched URLs included: the driver never has them)."""
        try:
            yield from _run(ray, inputs, fmt, settings_json, keep_traces)
        finally:
            if owned:
                ray.shutdown()

    return run


def _run(ray: Any, inputs: list[str], fmt: str | None, settings_json: str,
         keep_traces: bool) -> Iterator[Outcome]:
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    # Several batches per CPU keep every worker busy to the end without paying Ray's per-task
    # overhead (about a millisecond) per file.
    batches = max(1, min(len(inputs), cpus * 4))
    size = -(-len(inputs) // batches)
    work = [(path, fmt) for path in inputs]
    task = ray.remote(_analyze_batch)
    base = os.getcwd()
    refs = [task.remote(settings_json, base, work[i:i + size], keep_traces)
            for i in range(0, len(work), size)]
    for ref in refs:
        try:
            yield from ray.get(ref)
        except ray.exceptions.RayError as exc:
            detail = str(exc).strip().splitlines()
            raise EngineError(f"a Ray task failed: {detail[-1][:300] if detail else exc!r}"
                              ) from None
