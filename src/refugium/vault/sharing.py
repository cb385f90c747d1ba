"""Sharing copies: a file with its metadata removed, made by mat2.

The vault keeps the original untouched (it is evidence); what leaves it for a partner, a
journalist or a court's public annex is a copy that gives away no position, serial number or
author (DESIGN.md section 3). mat2 (Debian's ``mat2`` package, run as a command: its PyPI
package needs cairo and GObject built from source) does the cleaning; ``report`` from
``refugium.vault.metadata`` then checks the copy, and a copy that still carries a
warning-level item is refused.

mat2 works on files, so the plaintext has to be written somewhere. It goes only into a
private folder on a RAM-backed filesystem (``/dev/shm``, tmpfs): folder mode 0700, file mode
0600, a fixed file name (``evidence.<ext>``, never the original's name), and mat2's own
temporary files (``TMPDIR``, ``HOME``, caches) in that same folder. The folder is removed in
``finally``, on success, error or ``KeyboardInterrupt``. If ``/dev/shm`` is not a tmpfs or
ramfs, ``strip`` refuses rather than write plaintext to a disk. Residual risk, as for any
process memory: a tmpfs page can be swapped out, so a server that handles evidence should run
with no swap or with encrypted swap.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from refugium.errors import BadInput
from refugium.vault.metadata import report

__all__ = ["SHAREABLE_MEDIA_TYPES", "is_ram_backed", "strip"]

logger = logging.getLogger(__name__)

# The media types a copy is made for: those mat2 cleans *and* ``report`` can check afterwards
# (a copy that cannot be checked is not handed out). The extension tells mat2 which parser to
# use (it goes by the name, through Python's mimetypes).
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tiff",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.graphics": "odg",
    "audio/mpeg": "mp3",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/ogg": "ogg",
    "audio/x-wav": "wav",
    "audio/wav": "wav",
    "audio/x-aiff": "aiff",
    "audio/aiff": "aiff",
    "video/mp4": "mp4",
    "video/x-m4v": "m4v",
}
# mat2 rewrites video, WAV and AIFF with ffmpeg, which its Debian package only suggests.
_NEEDS_FFMPEG = {"video/mp4", "video/x-m4v", "audio/x-wav", "audio/wav", "audio/x-aiff",
                 "audio/aiff"}

#: The media types ``strip`` makes copies of.
SHAREABLE_MEDIA_TYPES = frozenset(_EXTENSIONS)

_RAM_FILESYSTEMS = {"tmpfs", "ramfs"}
_DEFAULT_TIMEOUT = 300.0


def strip(
    data: bytes,
    media_type: str,
    *,
    ram_dir: str | os.PathLike[str] = "/dev/shm",  # noqa: S108 - RAM-backed on purpose
    mat2: str | None = None,
    timeout: float = _DEFAULT_TIMEOUT,
) -> bytes:
    """A copy of ``data`` (a file of ``media_type``) with its metadata removed by mat2.

    The copy is checked with ``report``: if it is unreadable or still carries a warning-level
    item (a GPS position, a serial number, an author), it is refused. ``ram_dir`` and ``mat2``
    are seams for tests; ``ram_dir`` must be on a tmpfs or ramfs.

    Raises:
        BadInput: the media type has no cleaner here, mat2 or ffmpeg is missing, ``ram_dir``
            is not RAM-backed, mat2 failed or timed out, or the copy still carries metadata
            that endangers someone.
    """
    kind = media_type.split(";", 1)[0].strip().lower()
    extension = _EXTENSIONS.get(kind)
    if extension is None:
        shown = kind[:80] or "a file of unknown type"
        raise BadInput(
            f"mat2 cannot clean {shown} here; share a re-encoded copy made by hand",
            code="cannot_strip",
        )
    command = mat2 if mat2 is not None else shutil.which("mat2")
    if command is None:
        raise BadInput(
            "mat2 is not installed; install Debian's mat2 package (scripts/bootstrap does)",
            code="cannot_strip",
        )
    if kind in _NEEDS_FFMPEG and shutil.which("ffmpeg") is None:
        raise BadInput(
            f"cleaning {kind} needs ffmpeg, which is not installed; "
            "install it or share a re-encoded copy made by hand",
            code="cannot_strip",
        )
    ram = Path(ram_dir)
    if not is_ram_backed(ram):
        raise BadInput(
            f"{ram} is not a RAM-backed filesystem (tmpfs); refusing to write plaintext "
            "to disk for mat2",
            code="cannot_strip",
        )

    folder = tempfile.mkdtemp(prefix="refugium-share-", dir=ram)
    try:
        os.chmod(folder, 0o700)
        path = os.path.join(folder, f"evidence.{extension}")
        _write_private(path, data)
        _run_mat2(command, path, folder, kind, timeout)
        with open(path, "rb") as cleaned_file:
            cleaned = cleaned_file.read()
    finally:
        _remove(folder)

    if not cleaned:
        raise BadInput(f"mat2 made an empty copy of this {kind} file", code="cannot_strip")
    check = report(cleaned, kind)
    if check.warnings:
        raise BadInput(
            "the cleaned copy still carries: " + "; ".join(check.warnings) + "; not shared",
            code="cannot_strip",
        )
    if check.error:
        raise BadInput(
            f"the cleaned copy could not be checked ({check.error}); not shared",
            code="cannot_strip",
        )
    return cleaned


def is_ram_backed(folder: Path, mounts: str = "/proc/mounts") -> bool:
    """Whether ``folder`` lies on a tmpfs or ramfs, by the longest mount point in ``mounts``
    that contains it. False when that cannot be told."""
    try:
        target = os.path.realpath(folder)
        if not os.path.isdir(target):
            return False
        with open(mounts, encoding="utf-8", errors="replace") as table:
            lines = table.read().splitlines()
    except OSError:
        return False
    best, best_type = "", ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape_mount(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        # Later lines are later mounts: on the same point, the last one is what is seen.
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type in _RAM_FILESYSTEMS


def _unescape_mount(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash as octal escapes.
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, plain)
    return field


def _write_private(path: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)


def _run_mat2(command: str, path: str, folder: str, kind: str, timeout: float) -> None:
    # mat2 writes temporary files (archive members, PDF pages, cover art) through Python's
    # tempfile and caches through HOME: both point into the private RAM folder.
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": folder,
        "HOME": folder,
        "XDG_CACHE_HOME": folder,
    }
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell, our own file name
            [command, "--inplace", path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=folder,
            umask=0o077,
            start_new_session=True,
        )
    except OSError as exc:
        raise BadInput(
            f"mat2 could not be started ({type(exc).__name__}); is Debian's mat2 installed?",
            code="cannot_strip",
        ) from None
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise BadInput(
            f"mat2 took longer than {timeout:g} s to clean this {kind} file", code="cannot_strip"
        ) from None
    except BaseException:
        _kill_group(process)
        raise
    if status != 0:
        # mat2's own messages can quote the file; only the status is passed on.
        raise BadInput(
            f"mat2 could not clean this {kind} file (exit status {status}); "
            "share a re-encoded copy made by hand",
            code="cannot_strip",
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(timeout=10)


def _remove(folder: str) -> None:
    def retry(function: object, path: str, _exc: object) -> None:
        # A file mat2 left read-only, or a folder without write permission: open it and retry.
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    shutil.rmtree(folder, onerror=retry)
    if os.path.exists(folder):
        logger.error("a sharing copy's private RAM folder could not be removed")
