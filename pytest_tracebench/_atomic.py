"""Files and folders we write, replaced whole: a reader, or another run writing the same report
at the same time, sees the old version or the new one, never half of either; a write that
fails (a full disk) leaves neither a partial file nor a temporary one, and its error names the
file it was writing."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _sibling(path: Path, tag: str) -> Path:
    """A name beside ``path`` that no other writer picks (hidden, so no walk reads it)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.{tag}")


def named(exc: OSError, path: Path, tmp: Path | None = None) -> OSError:
    """``exc`` naming ``path`` when it names no file (``write()`` on a full disk does not) or
    our temporary file (``os.replace`` onto a folder names the hidden ``.NAME.tmp``, a name
    the user never gave)."""
    if exc.filename and (tmp is None or exc.filename != str(tmp)):
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[IO[str]]:
    """A text file to write in place of ``path``; it replaces ``path`` when the block ends
    without an exception, and is removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        # O_EXCL: the name is ours alone; mode 0o666 less the umask, like open(path, "w").
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise named(exc, path, tmp) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> Path:
    """``path.write_text(text)``, replaced whole."""
    with replacing(path) as fh:
        fh.write(text)
    return path


def new_folder(path: Path) -> Path:
    """An empty folder beside ``path`` to fill, then move in place with :func:`replace_folder`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "new")
    tmp.mkdir()
    return tmp


def replace_folder(new: Path, path: Path) -> None:
    """Move the folder ``new`` to ``path``, replacing what is there (a folder of an earlier or
    concurrent run, removed afterwards). Another run doing the same at the same moment is not
    an error: the last one to move its folder in wins, complete."""
    for _ in range(100):
        try:
            os.rename(new, path)  # onto a missing or empty folder: atomic
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise named(exc, path) from None
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                raise named(exc, path) from None  # not a folder we wrote: keep it
        old = _sibling(path, "old")
        try:
            os.rename(path, old)
        except FileNotFoundError:
            continue  # another run moved it away first
        except OSError as exc:
            raise named(exc, path) from None
        shutil.rmtree(old, ignore_errors=True)
    raise OSError(f"could not replace {path}: other runs kept replacing it")


def remove_folder(path: Path) -> None:
    """Remove the folder ``path`` if it is there, even while another run removes it too."""
    old = _sibling(path, "old")
    try:
        os.rename(path, old)
    except FileNotFoundError:
        return
    shutil.rmtree(old, ignore_errors=True)
