"""`refugium evidence add FILE` without Django: the head start and the whole ingest. No Django.

The command's fixed cost was Python and Django's set-up (about 0.25 s of CPU), as long as
encrypting and hashing a 64 MiB file. Ingest needs only the desk's public recipient, so
``start`` reads it straight from the data folder's SQLite database (one read-only query),
opens the file and sets the encryption worker going (``EncryptedStore.begin_file``: a
process of its own, which reads the file and writes the age file itself).

``ingest_without_django`` then stores the item as ``services.ingest`` does, in the same
order (the age file fsynced; under the database's write lock the custody entry, the rename
and the folder's fsync, then the row committed), with the same pragmas on its connection,
and writes the row with one INSERT. It is the whole path for one file on a SQLite data
folder. What it does not know it leaves to Django: several files, a PostgreSQL database
(``DATABASE_URL``, never read here), an ``evidence_item`` table with other columns than
``ITEM_COLUMNS`` (a migration this module has not followed), a key rotated since the head
start (read again under the write lock). ``services.ingest`` then takes over the head start if
it fits what the ORM says (the desk's current recipient, the store's folder, the file's path)
and otherwise aborts it and starts again, so what was read here without Django is never
trusted further than it is checked. Nothing is written here before the commit except the age
file in ``store/tmp/``, which an abort or the next sweep removes. ``finish_and_read`` and
``description`` are the steps both paths share, so that an item's description has one
definition.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from refugium.crypto import Recipient
from refugium.datadir import DataDir
from refugium.errors import BadInput, RefugiumError
from refugium.vault.store import EncryptedStore, FileUpload, Staged

if TYPE_CHECKING:
    from refugium.vault.metadata import MetadataReport

# A metadata report is made in memory; larger files are exported instead.
MAX_IN_MEMORY = 256 * 1024 * 1024
MAX_SOURCE_CHARS = 2_000

# The same question as ``Desk.current_generation()`` (accounts.models) asks through the ORM.
_CURRENT_DESK = (
    "SELECT d.id, g.recipient FROM accounts_deskkeygeneration g "
    "JOIN accounts_desk d ON d.id = g.desk_id "
    "WHERE d.name = ? ORDER BY g.number DESC LIMIT 1"
)
# ``evidence.models.Item``'s table as its migrations make it: written only if it is exactly so.
ITEM_COLUMNS = frozenset(
    {"id", "code", "desk_id", "stored_name", "size", "added_on", "commitment", "meta", "case_keyed"}
)
_INSERT_ITEM = (
    "INSERT INTO evidence_item "
    "(code, desk_id, stored_name, size, added_on, commitment, meta, case_keyed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
)


class EarlyIngest:
    """A file being encrypted into the store before Django is up; ``ingest`` takes it over
    (``take``) or it is aborted. Owns the file's descriptor until taken."""

    def __init__(
        self,
        path: Path,
        fd: int,
        store_root: Path,
        recipient: str,
        upload: FileUpload,
        desk_name: str = "",
    ) -> None:
        self.path = path
        self.desk_name = desk_name
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
    return EarlyIngest(path, fd, store_root, recipient, upload, desk_name)


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
            row = db.execute(_CURRENT_DESK, (desk_name,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    if row is None or not isinstance(row[1], str):
        return None
    return row[1]


# --- What both ingest paths share -------------------------------------------------------------


def finish_and_read(fd: int, upload: FileUpload) -> tuple[Staged, str, MetadataReport | None]:
    """Waits for the upload of the file open at ``fd`` and reads what it is: the staged age
    file, the media type sniffed from the first bytes, and the metadata report (None above
    ``MAX_IN_MEMORY``). ``fd`` stays the caller's.

    Raises:
        BadInput: the file changed while it was read (``FileChanged``).
        OSError: reading the file or writing the age file failed.
    """
    from refugium.vault.metadata import report
    from refugium.vault.sniff import PREFIX_BYTES, media_type

    with upload:
        # Read while the worker reads too (pread leaves the offset alone), and before
        # ``finish`` checks that the file did not change.
        prefix = os.pread(fd, PREFIX_BYTES, 0)
        staged = upload.finish()
    kind = media_type(prefix)
    if staged.size > MAX_IN_MEMORY:
        return staged, kind, None
    with os.fdopen(os.dup(fd), "rb") as original:
        return staged, kind, report(original, kind)


def description(
    name: str,
    *,
    source: str,
    staged: Staged,
    salt: str,
    kind: str,
    actor: str,
    found: MetadataReport | None,
) -> dict[str, Any]:
    """An item's description, as ``meta`` seals it to the desk."""
    return {
        "name": name,
        "source": source,
        "sha256": staged.sha256,
        "salt": salt,
        "media_type": kind,
        "added_by": actor,
        "metadata": json.loads(found.to_json())
        if found is not None
        else {"entries": [], "warnings": [], "error": "too large to read at ingest"},
    }


def seal(meta: dict[str, Any], recipients: list[Recipient]) -> bytes:
    """An item's description as its ``meta`` column holds it: JSON, age-encrypted to the
    desk."""
    from refugium.crypto import encrypt as age_encrypt

    return age_encrypt(json.dumps(meta, ensure_ascii=False).encode("utf-8"), recipients)


def check_source(source: str) -> None:
    """Raises:
    BadInput: ``source`` is longer than ``MAX_SOURCE_CHARS``.
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise BadInput(f"--source is at most {MAX_SOURCE_CHARS} characters")


# --- The whole ingest without Django ----------------------------------------------------------


def ingest_without_django(
    started: EarlyIngest, *, source: str, actor: str, data: DataDir | None = None
) -> tuple[str, str] | None:
    """Stores the file ``started`` encrypts as a new item of its desk, as
    ``services.ingest`` does but with no Django: the row is written with one INSERT on a
    connection of its own; returns the item's code and the file's SHA-256.

    Same order and the same guarantees as ``services.ingest``: the age file fsynced, then
    under the database's write lock (BEGIN IMMEDIATE, the pragmas every connection of the
    server runs with) the custody entry appended, the file renamed into place and the folder
    fsynced, the row inserted and committed. Under that lock the desk's current recipient is
    read again: a key rotated since ``started`` began means nothing is stored and None is
    returned, as it is when ``evidence_item`` does not have exactly the columns written here
    (a schema this does not know); the caller then ingests through Django.

    Raises:
        BadInput: the source text is too long, or the file changed while it was read.
        OSError: reading the file or writing the store failed.
    """
    from refugium.crypto import SigningKey, VerifyKey
    from refugium.vault.custody import CustodyLog, commitment, new_salt
    from refugium.web.core.sqlite import PRAGMAS

    check_source(source)
    data = data or DataDir.from_environment()
    if _item_columns(data.database) != ITEM_COLUMNS:
        return None
    fd, upload = started.take()
    with os.fdopen(fd, "rb"):
        staged, kind, found = finish_and_read(fd, upload)
    salt = new_salt()
    recipient = Recipient.parse(started.recipient)
    sealed = seal(
        description(
            started.path.name,
            source=source,
            staged=staged,
            salt=salt,
            kind=kind,
            actor=actor,
            found=found,
        ),
        [recipient],
    )
    code = secrets.token_hex(6)  # as the model's default (evidence.models.new_code)
    content = commitment(staged.sha256, salt)
    log = CustodyLog(
        data.custody_log,
        VerifyKey.from_public_pem(data.log_verify_key.read_bytes()),
        SigningKey.from_private_pem(data.log_signing_key.read_bytes()),
    )
    db = sqlite3.connect(data.database, timeout=20, isolation_level=None)
    try:
        for name, value in PRAGMAS.items():
            db.execute(f"PRAGMA {name} = {value}")
        with staged:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(_CURRENT_DESK, (started.desk_name,)).fetchone()
                if row is None or row[1] != started.recipient:
                    db.execute("ROLLBACK")
                    return None
                log.record("ingested", code, actor=actor, content=content, size=staged.size)
                stored_name = staged.commit()
                db.execute(
                    _INSERT_ITEM,
                    (code, row[0], stored_name, staged.size, _today(), content, sealed),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    finally:
        db.close()
    return code, staged.sha256


def _today() -> str:
    """The day an item is added, as ``timezone.localdate()`` gives it under the settings'
    ``TIME_ZONE`` (UTC; a test checks the two agree)."""
    return datetime.now(UTC).date().isoformat()


def _item_columns(database: Path) -> frozenset[str] | None:
    try:
        db = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute("PRAGMA table_info(evidence_item)").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return frozenset(str(r[1]) for r in rows)
