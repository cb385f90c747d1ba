"""The encrypted file store: uploads encrypted as they stream in, durable once acknowledged.

Layout under ``root`` (every folder mode 0700, every file 0600)::

    files/<32 hex>   committed age files, encrypted to a desk's recipients
    tmp/<32 hex>     uploads in progress: age bytes only, never plaintext

No plaintext byte ever reaches the disk: ``Upload.write`` feeds an ``AgeEncryptingWriter``,
which pipes it to a worker process that encrypts, and writes only the ciphertext that comes
back to the temporary file (DESIGN.md section 3).

Names on disk are random (``secrets.token_hex(16)``) and say nothing about the original file
name, its type or the reporter. Timestamps are normalised to ``NORMALISED_TIME`` (the Unix
epoch), as SecureDrop's ``normalize_timestamps`` does, so that a seized disk does not tell
when each file arrived. What cannot be normalised from user space: the inode change time
(ctime) records the commit, the folder's own mtime records the last change, and inode numbers
are roughly allocation-ordered on some filesystems.

"Acknowledged means durable": ``Upload.finish`` fsyncs the file, ``Staged.commit`` renames it
into ``files/`` and fsyncs the folder, and the caller commits its database row only after
``commit`` returns, then shows the receipt. A crash at any step leaves either nothing in
``files/`` or the whole file; ``sweep`` at the next start removes temporary files and files
the database does not know (committed here, crashed before the row was).

All writes under ``root`` go through this module and ``refugium.durable``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from refugium.crypto import (
    AgeEncryptingWriter,
    DecryptingIterator,
    Identity,
    Recipient,
    encrypt_file,
    iter_decrypted,
)
from refugium.durable import fsync_dir
from refugium.errors import BadInput, DecryptionFailed, NotFound

logger = logging.getLogger(__name__)
security_log = logging.getLogger("refugium.security.StoredFileHashMismatch")

#: atime and mtime of every stored file: 1970-01-01T00:00:00Z, so no upload time is kept.
NORMALISED_TIME = 0

_NAME = re.compile(r"[0-9a-f]{32}")
_NAME_BYTES = 16
# How often a whole file's age file is written back while the worker writes it.
_FLUSH_SECONDS = 0.02
_FILE_MODE = 0o600
_DIR_MODE = 0o700

# The age header ends with the line "--- <base64 MAC>\n". An X25519 stanza is about 100
# bytes, so 64 KiB holds hundreds of recipients; a file whose header is not found within
# that (a torn temporary file, or not an age file) has all of its first 64 KiB overwritten.
_MAX_HEADER_BYTES = 1 << 16
_MAC_LINE = b"\n--- "

# O_NOATIME (Linux) keeps reads from recording when a file was last viewed; the kernel allows
# it only to the file's owner, which the server is.
_O_NOATIME = getattr(os, "O_NOATIME", 0)


class TooLarge(BadInput):
    """An upload is larger than the limit it was begun with."""

    code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The file is larger than the limit of {limit} bytes. Send a smaller file, or "
            "split it into parts."
        )
        self.limit = limit


@dataclass(frozen=True)
class SweepReport:
    """What ``EncryptedStore.sweep`` did."""

    temp_removed: int
    """Unfinished uploads removed from ``tmp/``."""
    orphans_removed: int
    """Files in ``files/`` that ``keep`` did not list, removed."""
    kept: int
    """Files in ``files/`` that ``keep`` listed, left alone."""
    missing: tuple[str, ...]
    """Names in ``keep`` with no file: a database row whose file is gone. Sorted."""


class _TempFile:
    """The upload's temporary file, written with ``os.write`` (partial writes retried by
    the sink that calls it), or spliced into (``splice_fd``: nothing buffers it)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.splice_fd = fd

    def write(self, data: memoryview) -> int:
        return os.write(self.fd, data)


class _TempUpload:
    """What ``Upload`` and ``FileUpload`` share: a temporary file in ``tmp/`` that ``abort``
    deletes, and the context manager that aborts whatever was not finished."""

    _fd: int | None
    _temp_path: Path

    def abort(self) -> None:
        raise NotImplementedError

    def _discard_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        _remove(self._temp_path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class Upload(_TempUpload):
    """One upload in progress: plaintext in through ``write``, ciphertext to ``tmp/``.

    Made by ``EncryptedStore.begin``. Used as a context manager, leaving the block without
    ``finish`` (or with an exception) aborts it.
    """

    def __init__(
        self, store: EncryptedStore, recipients: Sequence[Recipient], max_bytes: int | None
    ) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._size = 0
        self._open = True
        self._temp_path = store.tmp / secrets.token_hex(_NAME_BYTES)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd: int | None = os.open(self._temp_path, flags, _FILE_MODE)
        try:
            self._writer = AgeEncryptingWriter(_TempFile(self._fd), recipients)
        except BaseException:
            self._discard_file()
            raise

    @property
    def size(self) -> int:
        """Plaintext bytes written so far."""
        return self._size

    def write(self, chunk: bytes) -> None:
        """Encrypt the next chunk of the file into the temporary file.

        Raises:
            TooLarge: the plaintext would exceed ``max_bytes``; the upload is aborted and its
                temporary file deleted before this is raised.
            OSError: the disk is full or failing; the upload is aborted.
            RuntimeError: the encrypting worker process failed or died; the upload is
                aborted.
            ValueError: the upload is already finished or aborted.
        """
        if not self._open:
            raise ValueError("the upload is finished or aborted")
        if self._max_bytes is not None and self._size + len(chunk) > self._max_bytes:
            self.abort()
            raise TooLarge(self._max_bytes)
        try:
            self._writer.write(chunk)
        except BaseException:
            self.abort()
            raise
        self._size += len(chunk)

    def finish(self) -> Staged:
        """Finish the age file, normalise its timestamps, and fsync it.

        The file stays in ``tmp/`` until ``Staged.commit``.

        Raises:
            OSError: the disk is full or failing; the upload is aborted.
            RuntimeError: the encrypting worker process failed or died; the upload is
                aborted.
            ValueError: the upload is already finished or aborted.
        """
        if not self._open:
            raise ValueError("the upload is finished or aborted")
        fd = self._fd
        assert fd is not None
        try:
            self._writer.close()
            # Before the fsync, so the normalised times reach the disk with the data.
            os.utime(fd, (NORMALISED_TIME, NORMALISED_TIME))
            os.fsync(fd)
            self._fd = None
            os.close(fd)
        except BaseException:
            self.abort()
            raise
        self._open = False
        # Hashed by the worker process as it encrypted, on the other core than the one
        # that parses the upload.
        sha256 = self._writer.plaintext_sha256
        return Staged(self._store, self._temp_path, sha256, self._size)

    def abort(self) -> None:
        """Stop the upload and delete its temporary file. Calling it again does nothing.

        Raises:
            Nothing.
        """
        if not self._open:
            return
        self._open = False
        self._writer.abort()
        self._discard_file()


class FileChanged(BadInput):
    """The file being added changed (its size or modification time) while it was read."""

    code = "file_changed"

    def __init__(self) -> None:
        super().__init__(
            "The file changed while it was being added. Add it again once nothing writes to it."
        )


class FileUpload(_TempUpload):
    """A whole regular file on this machine, encrypted into ``tmp/`` by a worker process that
    reads it and writes the age file itself (``refugium.crypto.encrypt_file``): nothing passes
    through this process, which is free meanwhile.

    Made by ``EncryptedStore.begin_file``, which returns at once; ``finish`` waits. Used as a
    context manager, leaving the block without ``finish`` (or with an exception) aborts it.
    The source descriptor is the caller's: it stays open.
    """

    def __init__(
        self, store: EncryptedStore, source_fd: int, recipients: Sequence[Recipient]
    ) -> None:
        self._store = store
        self._source_fd = source_fd
        info = os.fstat(source_fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInput("Only a regular file can be added.", code="not_a_file")
        self._before = _file_state(info)
        self._open = True
        self._temp_path = store.tmp / secrets.token_hex(_NAME_BYTES)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd: int | None = os.open(self._temp_path, flags, _FILE_MODE)
        try:
            self._encryption = encrypt_file(source_fd, self._fd, recipients)
        except BaseException:
            self._discard_file()
            raise
        self._flusher = _Flusher(self._fd)

    def finish(self) -> Staged:
        """Wait for the worker, check that the file did not change meanwhile, normalise the
        age file's timestamps and fsync it. The file stays in ``tmp/`` until
        ``Staged.commit``.

        Raises:
            FileChanged: the source's size or modification time changed while it was read,
                or the worker read another number of bytes than its size; the upload is
                aborted.
            OSError: reading the file failed, or the disk is full or failing; the upload
                is aborted.
            RuntimeError: the encrypting worker process failed or died; the upload is
                aborted.
            ValueError: the upload is already finished or aborted.
        """
        if not self._open:
            raise ValueError("the upload is finished or aborted")
        fd = self._fd
        assert fd is not None
        try:
            sha256, size = self._encryption.wait()
            self._flusher.stop()
            after = _file_state(os.fstat(self._source_fd))
            if after != self._before or size != after[0]:
                raise FileChanged()
            # Before the fsync, so the normalised times reach the disk with the data.
            os.utime(fd, (NORMALISED_TIME, NORMALISED_TIME))
            os.fsync(fd)
            self._fd = None
            os.close(fd)
        except BaseException:
            self.abort()
            raise
        self._open = False
        return Staged(self._store, self._temp_path, sha256, size)

    def abort(self) -> None:
        """Stop the worker and delete the temporary file. Calling it again does nothing.

        Raises:
            Nothing.
        """
        if not self._open:
            return
        self._open = False
        self._encryption.abort()
        self._flusher.stop()
        self._discard_file()


class _Flusher:
    """Writes the age file back to the disk while the worker is still writing it
    (``fdatasync`` every ``_FLUSH_SECONDS``, in a thread, on a descriptor of its own), so
    that the fsync that makes it durable once it is whole has only the last part left to
    write: the disk works while the worker encrypts, not after."""

    def __init__(self, fd: int) -> None:
        self._stopped = threading.Event()
        self._fd = os.dup(fd)
        self._thread = threading.Thread(target=self._run, name="age-flush", daemon=True)
        try:
            self._thread.start()
        except BaseException:
            os.close(self._fd)
            raise

    def _run(self) -> None:
        try:
            while not self._stopped.wait(_FLUSH_SECONDS):
                os.fdatasync(self._fd)
        except OSError:
            pass  # the fsync in ``finish`` meets the same error and raises it
        finally:
            os.close(self._fd)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def _file_state(info: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file changed: its size, modification time, inode and device."""
    return info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev


class Staged:
    """A finished, fsynced upload waiting in ``tmp/`` to be committed or discarded.

    Used as a context manager, leaving the block without ``commit`` discards it.
    """

    def __init__(self, store: EncryptedStore, temp_path: Path, sha256: str, size: int) -> None:
        self._store = store
        self.temp_path = temp_path
        self.sha256 = sha256
        """SHA-256 of the plaintext, lower-case hex: the evidence hash for the custody log."""
        self.size = size
        """Size of the plaintext in bytes."""
        self._done = False

    def commit(self) -> str:
        """Move the file into ``files/`` under a new random name, durably, and return the name.

        Once this returns, the file survives a power cut; commit the database row that
        names it next, and only then acknowledge the upload. If that fails, ``shred`` the
        name (or leave it for ``sweep``).

        Raises:
            OSError: the rename or the folder's fsync failed; the file is then removed
                from both folders as far as possible, and ``sweep`` removes any rest.
            ValueError: already committed or discarded.
        """
        if self._done:
            raise ValueError("already committed or discarded")
        self._done = True
        # 128 random bits: a collision with an existing name is not a practical concern.
        name = secrets.token_hex(_NAME_BYTES)
        target = self._store.files / name
        try:
            os.replace(self.temp_path, target)
        except BaseException:
            _remove(self.temp_path)
            raise
        try:
            fsync_dir(self._store.files)
        except BaseException:
            # Not known to be durable, so not acknowledged: take it back out.
            _remove(target)
            raise
        return name

    def discard(self) -> None:
        """Delete the staged file. Calling it again, or after ``commit``, does nothing.

        Raises:
            Nothing.
        """
        if self._done:
            return
        self._done = True
        _remove(self.temp_path)

    def __enter__(self) -> Staged:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()

    def __repr__(self) -> str:
        return f"<Staged {self.size} bytes sha256={self.sha256}>"


class EncryptedStore:
    """Age-encrypted files under one folder, named randomly, written durably.

    Takes its folder as an argument and keeps no global state; keys come in per call.

    Raises:
        OSError: the folders cannot be created or their permissions set.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / "files"
        self.tmp = root / "tmp"
        created = False
        for folder in (root, self.files, self.tmp):
            try:
                folder.mkdir(mode=_DIR_MODE, parents=True)
                created = True
            except FileExistsError:
                pass
            # Also tightens a folder that already existed with looser permissions.
            folder.chmod(_DIR_MODE)
        if created:
            fsync_dir(root)
            fsync_dir(root.parent)
        self._files_real = os.path.realpath(self.files)

    # Uploads

    def begin(self, recipients: Sequence[Recipient], *, max_bytes: int | None = None) -> Upload:
        """Start an upload encrypted to ``recipients``, of at most ``max_bytes`` plaintext.

        Raises:
            BadInput: no recipients were given.
            OSError: the temporary file cannot be created (a full disk, say).
            ValueError: ``max_bytes`` is negative.
        """
        if not recipients:
            raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
        if max_bytes is not None and max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        return Upload(self, recipients, max_bytes)

    def begin_file(self, source_fd: int, recipients: Sequence[Recipient]) -> FileUpload:
        """Start encrypting the whole regular file open at ``source_fd`` into ``tmp/``, in a
        worker process that reads it itself; returns at once (``FileUpload.finish`` waits).
        ``source_fd`` stays the caller's, open until the upload is finished or aborted; its
        offset is left alone.

        Raises:
            BadInput: no recipients were given, or ``source_fd`` is not a regular file.
            OSError: the temporary file cannot be created (a full disk, say), or the worker
                cannot be started.
        """
        if not recipients:
            raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
        return FileUpload(self, source_fd, recipients)

    # Reading

    def open(self, name: str) -> BinaryIO:
        """The stored age file, for reading its raw (encrypted) bytes.

        Raises:
            NotFound: no such file, a name that is not 32 lower-case hex digits, or anything
                other than a regular file in ``files/`` (a symlink is never followed).
        """
        fd = self._open_fd(name, os.O_RDONLY)
        return os.fdopen(fd, "rb")

    def iter_plaintext(
        self, name: str, identities: Sequence[Identity], chunk_size: int = 1 << 16
    ) -> DecryptingIterator:
        """The decrypted file, in pieces of at most ``chunk_size`` bytes; close the iterator
        to stop early (the file is closed with it).

        A wrong key raises here, before the first piece. Damage further on raises
        ``DecryptionFailed`` from the iterator after earlier pieces were yielded: a download
        must then be cut off, never completed.

        Raises:
            NotFound: as for ``open``.
            DecryptionFailed: none of the identities fits, or the file is damaged.
        """
        src = self.open(name)
        try:
            return iter_decrypted(src, identities, chunk_size, close_src=True)
        except BaseException:
            src.close()
            raise

    def size_on_disk(self, name: str) -> int:
        """Size of the stored age file in bytes (ciphertext: the plaintext plus the age
        header and 16 bytes per 64 KiB chunk).

        Raises:
            NotFound: as for ``open``.
        """
        path = self._path(name)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            raise NotFound("No such file.") from None
        if not stat.S_ISREG(info.st_mode):
            raise NotFound("No such file.")
        return info.st_size

    def total_bytes(self) -> int:
        """Bytes held in ``files/`` and ``tmp/`` together (uploads in progress take disk
        space too), for a quota.

        Raises:
            OSError: a folder cannot be read.
        """
        total = 0
        for folder in (self.files, self.tmp):
            with os.scandir(folder) as entries:
                for entry in entries:
                    with contextlib.suppress(FileNotFoundError):
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode):
                            total += info.st_size
        return total

    # Deleting

    def shred(self, name: str) -> None:
        """Crypto-shred a stored file: destroy its wrapped file key, then delete it.

        The age header (everything up to and including the ``---`` MAC line, i.e. the
        recipient stanzas that hold the file key wrapped to each recipient) is overwritten in
        place with random bytes and fsynced; then the file is unlinked and the folder fsynced.
        Without the header the payload cannot be decrypted, even with the desk's key.

        What this cannot promise: on copy-on-write filesystems (btrfs, ZFS), log-structured
        ones, and SSDs (wear levelling, over-provisioning), the overwrite may land on new
        blocks and leave the old header readable to someone with the raw device; snapshots and
        backups keep whatever they copied. Full-disk encryption with a key that is itself
        destroyed is what covers those.

        Raises:
            NotFound: as for ``open``.
            OSError: overwriting or deleting failed (the file may then still be there).
        """
        path = self._path(name)
        fd = self._open_fd(name, os.O_RDWR)
        try:
            _overwrite_header(fd)
        finally:
            os.close(fd)
        os.unlink(path)
        fsync_dir(self.files)

    def sweep(self, keep: Collection[str]) -> SweepReport:
        """Remove what a crash left behind; run at server start, before any upload.

        Deletes everything in ``tmp/`` and every file in ``files/`` whose name is not in
        ``keep`` (the names the database knows: files committed here whose row was never
        committed), shredding each as ``shred`` does. Folders inside are left alone.

        Must not run while uploads are in progress in any process sharing ``root`` (several
        server workers, say): it would delete their temporary files, and a file committed
        here whose row is about to be committed. Run it once, before the workers start.

        Raises:
            OSError: a file cannot be deleted.
        """
        keep = frozenset(keep)
        temp_removed = _sweep_folder(self.tmp, lambda _name: False)
        present: set[str] = set()

        def kept(name: str) -> bool:
            if name in keep and _NAME.fullmatch(name):
                present.add(name)
                return True
            return False

        orphans_removed = _sweep_folder(self.files, kept)
        report = SweepReport(
            temp_removed=temp_removed,
            orphans_removed=orphans_removed,
            kept=len(present),
            missing=tuple(sorted(keep - present)),
        )
        logger.info(
            "Vault sweep: %d unfinished uploads and %d orphaned files removed, %d kept, "
            "%d missing.",
            report.temp_removed,
            report.orphans_removed,
            report.kept,
            len(report.missing),
        )
        return report

    # Paths

    def _path(self, name: str) -> Path:
        # Confinement: the name's shape first, then (as SecureDrop's store.py does) the
        # resolved path must stay inside files/; _open_fd adds O_NOFOLLOW against a symlink
        # swapped in between.
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise NotFound("No such file.")
        path = self.files / name
        real = os.path.realpath(path)
        if os.path.commonpath((real, self._files_real)) != self._files_real:
            raise NotFound("No such file.")
        return path

    def _open_fd(self, name: str, access: int) -> int:
        path = self._path(name)
        # O_NONBLOCK: opening a FIFO someone planted must not hang; it is refused below.
        flags = access | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            try:
                fd = os.open(path, flags | _O_NOATIME)
            except PermissionError:
                fd = os.open(path, flags)
        except FileNotFoundError:
            raise NotFound("No such file.") from None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
                raise NotFound("No such file.") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotFound("No such file.")
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd


def checked_sha256(chunks: Iterator[bytes], expected: str) -> Iterator[bytes]:
    """``chunks`` passed through, checked against the SHA-256 taken when the file was stored;
    ``DecryptionFailed`` at the end if they differ, so a caller streaming a download cuts it
    off instead of completing it. age authenticates each chunk already; this catches a whole
    file swapped for another one encrypted to the same public desk recipient. The source is
    closed however the stream ends (a client that goes away must not leave a worker or a file
    open). An empty ``expected`` (a hash the reader cannot decrypt) checks nothing.

    Raises:
        DecryptionFailed: (from the iterator, at the end) the bytes do not match.
    """
    digest = hashlib.sha256()
    try:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    if expected and digest.hexdigest() != expected.lower():
        # A fixed message (STYLE §6): the caller's audit entry names the file.
        security_log.error("a stored file did not match the SHA-256 taken when it was stored")
        raise DecryptionFailed("the file does not match the hash taken when it arrived")


def _overwrite_header(fd: int) -> None:
    """Overwrite the age header at the start of the open file with random bytes, and fsync."""
    start = os.pread(fd, _MAX_HEADER_BYTES, 0)
    mac = start.find(_MAC_LINE)
    end = start.find(b"\n", mac + len(_MAC_LINE)) if mac >= 0 else -1
    length = end + 1 if end >= 0 else len(start)
    noise = secrets.token_bytes(length)
    offset = 0
    while offset < length:
        offset += os.pwrite(fd, noise[offset:], offset)
    os.fsync(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _sweep_folder(folder: Path, keep: Callable[[str], bool]) -> int:
    """Shred and delete every entry of ``folder`` except regular files ``keep`` accepts."""
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                logger.warning("Vault sweep: a folder in the store was left alone.")
                continue
            regular = entry.is_file(follow_symlinks=False)
            if regular and keep(entry.name):
                continue
            if regular:
                with contextlib.suppress(FileNotFoundError):
                    fd = os.open(entry.path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
                    try:
                        _overwrite_header(fd)
                    finally:
                        os.close(fd)
            _remove(Path(entry.path))
            removed += 1
    if removed:
        fsync_dir(folder)
    return removed
