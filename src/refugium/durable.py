"""The one way refugium writes a file it must not lose or half-write.

A crash at any moment leaves either the old file or the whole new one: the bytes go to a
temporary file in the target folder, which is fsynced, renamed over the target with
``os.replace`` (atomic on POSIX), and then the folder itself is fsynced so that the rename
survives a power cut (reliability.md §5.3).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flushes a folder's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Writes ``data`` to ``path`` durably and atomically, with the given permissions.

    Raises:
        OSError: the disk is full or not writable; the target is then untouched and no
            temporary file is left behind.
    """
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(folder)
