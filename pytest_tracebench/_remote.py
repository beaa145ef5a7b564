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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .storage import TraceLoadError

_STDLIB_SCHEMES = ("http", "https", "file")


def is_url(raw: str) -> bool:
    """``scheme://...`` with a scheme of two letters or more (``C:\\`` is a path)."""
    scheme, sep, _ = raw.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()


@contextmanager
def fetched(url: str, timeout: float = 60.0) -> Iterator[Path]:
    """A local copy of ``url`` named like it, removed afterwards; TraceLoadError on failure."""
    name = os.path.basename(urllib.parse.urlsplit(url).path) or "trace"
    folder = tempfile.mkdtemp(prefix="tracebench-fetch-")
    target = Path(folder) / name
    try:
        with target.open("wb") as out:
            _copy(url, out, timeout)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy(url: str, out: BinaryIO, timeout: float) -> None:
    scheme = url.partition("://")[0].lower()
    if scheme in _STDLIB_SCHEMES:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
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
            shutil.copyfileobj(source, out)
    except Exception as exc:  # fsspec backends raise their own types
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise TraceLoadError(url, f"cannot fetch: {detail}") from None
