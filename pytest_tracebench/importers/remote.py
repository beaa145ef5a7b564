"""Trace inputs named by URL: fetched into a temporary file, then imported like any file.

Why a temporary file: every importer detects its format from a path (suffix, directory shape,
the first bytes), and a cluster worker may not share the driver's filesystem. ``http(s)://`` and
``file://`` are read with the standard library; any other scheme (``s3://``, ``gs://``, ...)
goes through ``fsspec`` when it is installed, so object stores work without code of our own.
The bytes are only parsed as data, never executed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pytest_tracebench.record.trace_file import _MIB, TraceLoadError, max_trace_bytes, not_regular

_STDLIB_SCHEMES = ("http", "https", "file")
_CHUNK = 1 << 20


def is_url(raw: str) -> bool:
    """``scheme://...`` with a scheme of two letters or more (``C:\\`` is a path)."""
    scheme, sep, _ = raw.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()


@contextmanager
def fetched(url: str, timeout: float = 60.0, deadline: float = 900.0) -> Iterator[Path]:
    """A local copy of ``url`` named like it, removed afterwards; TraceLoadError on failure.

    The copy is bounded like a file we read: at most :func:`~.storage.max_trace_bytes`, within
    ``deadline`` seconds (``timeout`` is per network read); a ``file://`` URL of a FIFO or a
    device is refused before it is opened."""
    name = os.path.basename(urllib.parse.urlsplit(url).path) or "trace"
    folder = tempfile.mkdtemp(prefix="tracebench-fetch-")
    target = Path(folder) / name
    try:
        with target.open("wb") as out:
            _copy(url, out, timeout, time.monotonic() + deadline)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _local_path(url: str) -> str | None:
    """The path a ``file://`` URL names, or ``None`` for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return urllib.request.url2pathname(parts.path)


def _bounded_copy(url: str, source: BinaryIO, out: BinaryIO, end: float) -> None:
    limit = max_trace_bytes()
    copied = 0
    while chunk := source.read(_CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise TraceLoadError(url, f"cannot fetch: more than {limit // _MIB:,} MiB; raise "
                                      f"TRACEBENCH_MAX_TRACE_MB to read it")
        if time.monotonic() > end:
            raise TraceLoadError(url, f"cannot fetch: still downloading after "
                                      f"{copied / 1e6:,.0f} MB; stopped")
        out.write(chunk)


def _copy(url: str, out: BinaryIO, timeout: float, end: float) -> None:
    scheme = url.partition("://")[0].lower()
    local = _local_path(url)
    if local is not None:
        problem = not_regular(local)
        if problem is not None:
            raise TraceLoadError(url, problem)
    if scheme in _STDLIB_SCHEMES:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_trace_bytes():
                    raise TraceLoadError(url, f"cannot fetch: {int(declared) / 1e6:,.0f} MB "
                                              f"is over the {max_trace_bytes() // _MIB:,} MiB "
                                              f"limit; raise TRACEBENCH_MAX_TRACE_MB to read "
                                              f"it")
                _bounded_copy(url, response, out, end)
        except urllib.error.HTTPError as exc:
            raise TraceLoadError(url, f"cannot fetch: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise TraceLoadError(url, f"cannot fetch: {reason}") from None
        return
    try:
        import fsspec  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise TraceLoadError(url, f"reading {scheme}:// URLs needs fsspec and its {scheme} "
                                  "backend (pip install fsspec, e.g. s3fs or gcsfs)") from None
    try:
        with fsspec.open(url, "rb") as source:
            _bounded_copy(url, source, out, end)
    except TraceLoadError:
        raise
    except Exception as exc:  # fsspec backends raise their own types
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise TraceLoadError(url, f"cannot fetch: {detail}") from None
