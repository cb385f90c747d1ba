"""`refugium evidence add FILE` starts encrypting before Django is set up. No Django imports.

The command's fixed cost is Python and Django's set-up (about 0.25 s of CPU), which on a
64 MiB file is as long as encrypting and hashing it. Ingest needs only the desk's public
recipient, so ``start`` reads it straight from the data folder's SQLite database (one
read-only query, no Django), opens the file and sets the encryption worker going
(``EncryptedStore.begin_file``: a process of its own, which reads the file and writes the age
file itself). Django is then set up on the other core while the file is encrypted, and
``refugium.web.evidence.services.ingest`` takes the upload over: it waits for it and commits
in the usual order (fsync, custody entry, rename, fsync of the folder, row).

What was read here is only a head start, never trusted: ``ingest`` compares it with what
the ORM gives once Django is up (the desk's current recipient, the store's folder, the file's
path) and, at any difference, aborts the early upload and starts again the ordinary way. So a
schema this query no longer matches, a key rotated in between, a PostgreSQL database
(``DATABASE_URL``, not read here) or any error here costs only the head start. Nothing is
written here except the age file in ``store/tmp/``, which an abort or the next sweep removes.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

from refugium.crypto import Recipient
from refugium.datadir import DataDir
from refugium.errors import RefugiumError
from refugium.vault.store import EncryptedStore, FileUpload

# The same question as ``Desk.current_generation()`` (accounts.models) asks through the ORM.
_CURRENT_RECIPIENT = (
    "SELECT g.recipient FROM accounts_deskkeygeneration g "
    "JOIN accounts_desk d ON d.id = g.desk_id "
    "WHERE d.name = ? ORDER BY g.number DESC LIMIT 1"
)


class EarlyIngest:
    """A file being encrypted into the store before Django is up; ``ingest`` takes it over
    (``take``) or it is aborted. Owns the file's descriptor until taken."""

    def __init__(
        self, path: Path, fd: int, store_root: Path, recipient: str, upload: FileUpload
    ) -> None:
        self.path = path
        self.store_root = store_root
        self.recipient = recipient
        self._fd: int | None = fd
        self._upload: FileUpload | None = upload

    def fits(self, path: Path, store_root: Path, recipients: list[str]) -> bool:
        """Whether this is the upload ``ingest`` would start for ``path`` into the store at
        ``store_root`` encrypted to ``recipients`` (compared as text)."""
        return (
            self._upload is not None
            and path == self.path
            and store_root == self.store_root
            and recipients == [self.recipient]
        )

    def take(self) -> tuple[int, FileUpload]:
        """The file's descriptor and the upload, which are the caller's from now on.

        Raises:
            ValueError: already taken or aborted.
        """
        fd, upload = self._fd, self._upload
        if fd is None or upload is None:
            raise ValueError("the early upload was taken or aborted")
        self._fd, self._upload = None, None
        return fd, upload

    def abort(self) -> None:
        """Stop the worker, delete its temporary file and close the file; after ``take``,
        or again, nothing.

        Raises:
            Nothing.
        """
        fd, upload = self._fd, self._upload
        self._fd, self._upload = None, None
        if upload is not None:
            upload.abort()
        if fd is not None:
            os.close(fd)


def start(path: Path, desk_name: str, data: DataDir | None = None) -> EarlyIngest | None:
    """Start encrypting the file at ``path`` to ``desk_name``'s current recipient, or None
    where there is no head start to take (a PostgreSQL database, no such desk, not a regular
    file, or any error: the ordinary path then meets it and reports it).

    Raises:
        Nothing.
    """
    if os.environ.get("DATABASE_URL"):
        return None
    data = data or DataDir.from_environment()
    recipient = current_recipient(data.database, desk_name)
    if recipient is None:
        return None
    try:
        # As ingest opens it: O_NOFOLLOW (a link is refused there), O_NONBLOCK (a FIFO).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        store_root = data.root / "store"
        upload = EncryptedStore(store_root).begin_file(fd, [Recipient.parse(recipient)])
    except (OSError, RefugiumError):
        os.close(fd)
        return None
    return EarlyIngest(path, fd, store_root, recipient, upload)


def current_recipient(database: Path, desk_name: str) -> str | None:
    """The newest key generation's recipient of the desk named ``desk_name``, read from the
    SQLite database at ``database`` (read-only), or None if there is none or it cannot be
    read.

    Raises:
        Nothing.
    """
    if not database.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute(_CURRENT_RECIPIENT, (desk_name,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    if row is None or not isinstance(row[0], str):
        return None
    return row[0]
