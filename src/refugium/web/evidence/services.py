"""What the evidence vault does, for ``refugium evidence`` and the researchers' pages alike.

Ingest needs only the desk's public recipient (no unlock). Everything else decrypts with the
identities of the desk's keys that the caller holds. Every event on an item is written to the
chain of custody *before* it happens, as the audit log is: an export or a view the custody
log cannot hold does not happen. The custody log holds codes, account names and commitments;
the item's name, source and SHA-256 stay in its sealed ``meta``.

A sanctuary case's own documents are items too (``Item.case_keyed``, written by
``refugium.web.casework.documents``), encrypted to the case's key rather than the desk's. The
desk's paths here never offer them: ``desk_items`` and ``get`` leave them out, and every
function that would read one refuses it with ``NotFound`` (the message ``get`` gives for an
item that does not exist) before anything is recorded or decrypted. They open from their
case, for its assignees.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.crypto import DecryptionFailed, Identity, Recipient, SigningKey, VerifyKey
from refugium.crypto import decrypt as age_decrypt
from refugium.errors import BadInput, NotFound
from refugium.vault.store import EncryptedStore, FileUpload, checked_sha256
from refugium.web.accounts.models import Desk
from refugium.web.core.auditing import record as audit
from refugium.web.core.storage import file_store
from refugium.web.evidence.early import (
    MAX_IN_MEMORY,
    EarlyIngest,
    check_source,
    description,
    finish_and_read,
    seal,
)
from refugium.web.evidence.models import Item, Link


def custody() -> Any:
    """The data folder's chain of custody (a ``refugium.vault.custody.CustodyLog``), signed
    with the organisation's log-signing key."""
    from refugium.vault.custody import CustodyLog

    data = settings.DATA
    return CustodyLog(
        data.custody_log,
        VerifyKey.from_public_pem(data.log_verify_key.read_bytes()),
        SigningKey.from_private_pem(data.log_signing_key.read_bytes()),
    )


def desk_recipients(desk: Desk) -> list[Recipient]:
    return [Recipient.parse(desk.current_generation().recipient)]


@dataclass(frozen=True)
class Meta:
    """An item's sealed description, decrypted."""

    name: str
    source: str
    sha256: str
    salt: str
    media_type: str
    added_by: str
    metadata: dict[str, Any] = field(default_factory=dict)


def open_meta(item: Item, keys: Sequence[Identity]) -> Meta:
    """Raises:
    NotFound: a case's own document (``desk_keyed``).
    DecryptionFailed: none of ``keys`` opens it, or it is not what ingest wrote.
    """
    desk_keyed(item)
    try:
        raw = json.loads(age_decrypt(bytes(item.meta), keys))
        return Meta(
            name=str(raw["name"]),
            source=str(raw["source"]),
            sha256=str(raw["sha256"]),
            salt=str(raw["salt"]),
            media_type=str(raw["media_type"]),
            added_by=str(raw["added_by"]),
            metadata=dict(raw.get("metadata") or {}),
        )
    except (ValueError, KeyError, TypeError):
        raise DecryptionFailed("An evidence item's description is damaged.") from None


# --- Ingest -------------------------------------------------------------------------------------


@sensitive_variables("meta")
def ingest(
    path: Path, desk: Desk, *, source: str, actor: str, early: EarlyIngest | None = None
) -> tuple[Item, str]:
    """Stores the file at ``path`` as a new item of ``desk``; returns it and its SHA-256.

    Order (DESIGN §3): the file is encrypted into an age file while its SHA-256 is taken (by
    a worker process that reads the file itself) and fsynced; the custody entry is appended;
    the file is renamed into place and the folder fsynced; the row is committed. A kill
    before the commit leaves no row (the sweep at the next start removes the file); a custody
    entry may then name an item that never arrived, which ``refugium evidence list`` never
    shows.

    ``early`` is an upload of this file that `refugium evidence add` started before Django
    was set up (``refugium.web.evidence.early``, which also stores one file without Django
    when it can, in this same order): taken over if it encrypts ``path`` into this data
    folder's store to the desk's current recipient, aborted otherwise (and the file
    encrypted again here).

    Raises:
        BadInput: not a regular file, unreadable, changed while it was read
            (``FileChanged``), or the source text is too long.
    """
    check_source(source)
    recipients = desk_recipients(desk)
    store = file_store()
    if early is not None and early.fits(path, store.root, [str(r) for r in recipients]):
        fd, upload = early.take()
    else:
        if early is not None:
            early.abort()
        fd, upload = _begin(path, store, recipients)
    with os.fdopen(fd, "rb"):
        staged, kind, found = finish_and_read(fd, upload)
    from refugium.vault.custody import commitment, new_salt

    salt = new_salt()
    meta = description(
        path.name, source=source, staged=staged, salt=salt, kind=kind, actor=actor, found=found
    )
    item = Item(
        desk=desk,
        size=staged.size,
        added_on=timezone.localdate(),
        commitment=commitment(staged.sha256, salt),
        meta=seal(meta, recipients),
    )
    with staged, transaction.atomic():
        custody().record(
            "ingested", item.code, actor=actor, content=item.commitment, size=item.size
        )
        item.stored_name = staged.commit()
        item.save()
    return item, staged.sha256


def _begin(
    path: Path, store: EncryptedStore, recipients: list[Recipient]
) -> tuple[int, FileUpload]:
    """Opens the file at ``path`` and starts encrypting it into ``store``; the descriptor and
    the upload are the caller's.

    Raises:
        BadInput: not a regular file, or unreadable.
    """
    try:
        # O_NONBLOCK: a FIFO put where a file was expected must not hang the command.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as error:
        raise BadInput(f"{path}: cannot open it ({error.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BadInput(f"{path}: not a regular file")
        return fd, store.begin_file(fd, recipients)
    except BaseException:
        os.close(fd)
        raise


def files_under(paths: Sequence[Path]) -> list[Path]:
    """Every regular file named, and every regular file under each folder named, sorted;
    symbolic links are not followed (a link could lead out of the folder being added).

    Raises:
        BadInput: a path does not exist or is neither a file nor a folder.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_symlink():
            raise BadInput(f"{path}: a symbolic link; give the file it points to")
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, names in os.walk(path, followlinks=False):
                dirs.sort()
                found += [
                    Path(root) / n
                    for n in sorted(names)
                    if (Path(root) / n).is_file() and not (Path(root) / n).is_symlink()
                ]
        else:
            raise BadInput(f"{path}: no such file or folder")
    return found


# --- Finding, reading, downloading --------------------------------------------------------------


def desk_items(desk: Desk) -> Any:
    """The items of ``desk`` its keys open (a case's own documents are left out), newest
    first: what a listing of the desk's vault shows."""
    return Item.objects.filter(desk=desk, case_keyed=False)


def _not_found(code: str, desk_name: str) -> NotFound:
    return NotFound(f"no evidence item {code!r} on desk {desk_name!r}")


def get(desk: Desk, code: str) -> Item:
    """Raises:
    NotFound: no item with this code on ``desk`` (one on another desk is not found either,
        nor a case's own document: the same message, so that a desk member not assigned to
        the case learns nothing of it).
    """
    item = desk_items(desk).filter(code=code.strip().lower()).first()
    if item is None:
        raise _not_found(code, desk.name)
    return item


def desk_keyed(item: Item) -> Item:
    """``item`` if the desk's key opens it.

    Raises:
        NotFound: ``item`` is a case's own document (as ``get`` says of a missing item).
    """
    if item.case_keyed:
        raise _not_found(item.code, item.desk.name)
    return item


def show(item: Item, keys: Sequence[Identity], *, actor: str) -> tuple[Meta, list[dict[str, Any]]]:
    """The item's description and its custody history; recorded as a view.

    Raises:
        NotFound: a case's own document (``desk_keyed``); nothing is recorded.
    """
    desk_keyed(item)
    log = custody()
    log.record("viewed", item.code, actor=actor, content=item.commitment)
    audit(actor, "evidence.show", "evidence", item.code)
    meta = open_meta(item, keys)
    history = [entry["body"] for entry in log.entries(item=item.code)]
    return meta, history


@sensitive_variables("keys")
def plaintext(
    item: Item, keys: Sequence[Identity], *, actor: str, how: str
) -> tuple[Meta, Iterator[bytes]]:
    """The item's description and its original, streamed and checked against its SHA-256
    at the end (a swapped file fails instead of completing); recorded in the custody log as
    ``viewed`` with ``how``.

    Raises:
        NotFound: a case's own document (``desk_keyed``); nothing is recorded.
    """
    desk_keyed(item)
    custody().record("viewed", item.code, actor=actor, content=item.commitment, how=how)
    audit(actor, f"evidence.{how}", "evidence", item.code)
    meta = open_meta(item, keys)
    chunks = file_store().iter_plaintext(item.stored_name, keys)
    return meta, checked_sha256(chunks, meta.sha256)


# --- Links to records ---------------------------------------------------------------------------


def attach(item: Item, record: Any, *, actor: str) -> None:
    from refugium.web.records.services import kind_of

    desk_keyed(item)
    kind = kind_of(record)
    if Link.objects.filter(item=item, record_type=kind, record_pk=record.pk).exists():
        return
    with transaction.atomic():
        custody().record(
            "attached", item.code, actor=actor, content=item.commitment, record=record.code
        )
        Link.objects.create(item=item, record_type=kind, record_pk=record.pk)


def detach(item: Item, record: Any, *, actor: str) -> None:
    from refugium.web.records.services import kind_of

    kind = kind_of(record)
    link = Link.objects.filter(item=item, record_type=kind, record_pk=record.pk).first()
    if link is None:
        return
    with transaction.atomic():
        custody().record(
            "detached", item.code, actor=actor, content=item.commitment, record=record.code
        )
        link.delete()


def linked_records(item: Item) -> list[Any]:
    from refugium.web.records.models import RECORD_TYPES

    found = []
    for link in item.links.order_by("id"):
        model = RECORD_TYPES.get(link.record_type)
        record = model.objects.filter(pk=link.record_pk).first() if model else None
        if record is not None:
            found.append(record)
    return found


def items_of(record: Any) -> list[Item]:
    from refugium.web.records.services import kind_of

    links = Link.objects.filter(record_type=kind_of(record), record_pk=record.pk)
    return [link.item for link in links.select_related("item").order_by("id")]


# --- Sharing copies and export bundles ----------------------------------------------------------


@sensitive_variables("keys", "data", "copy")
def share(item: Item, keys: Sequence[Identity], *, actor: str) -> tuple[bytes, str]:
    """A copy with the metadata stripped (mat2), and its SHA-256. The original is untouched;
    the custody log records a commitment to the copy next to the original's.

    Raises:
        BadInput: too large to clean in memory, or a type mat2 cannot clean.
    """
    from refugium.vault.custody import commitment
    from refugium.vault.sharing import strip

    if item.size > MAX_IN_MEMORY:
        raise BadInput(
            f"{item.code} is larger than {MAX_IN_MEMORY // 2**20} MiB; export it and make a "
            "sharing copy by hand"
        )
    meta, chunks = plaintext(item, keys, actor=actor, how="share")
    data = b"".join(chunks)
    copy = strip(data, meta.media_type)
    copy_hash = hashlib.sha256(copy).hexdigest()
    custody().record(
        "shared",
        item.code,
        actor=actor,
        content=item.commitment,
        copy=commitment(copy_hash, meta.salt),
    )
    return copy, copy_hash


@sensitive_variables("keys")
def export(items: Sequence[Item], keys: Sequence[Identity], out: Path, *, actor: str) -> Any:
    """An export bundle a court can check without refugium (``refugium.vault.bundle``).

    Raises:
        Conflict / BadInput: ``out`` exists; DecryptionFailed: a file does not match its hash.
        NotFound: one of ``items`` is a case's own document; nothing is written.
    """
    from refugium.vault.bundle import BundleItem, write_bundle

    for item in items:
        desk_keyed(item)
    log = custody()
    bundle_items = []
    for item in items:
        meta = open_meta(item, keys)
        log.record("exported", item.code, actor=actor, content=item.commitment)
        audit(actor, "evidence.export", "evidence", item.code)
        bundle_items.append(
            BundleItem(
                item=item.code,
                name=meta.name,
                salt=meta.salt,
                sha256=meta.sha256,
                size=item.size,
                media_type=meta.media_type,
                details={"source": meta.source, "added_on": item.added_on.isoformat()},
                chunks=lambda item=item: file_store().iter_plaintext(item.stored_name, keys),
            )
        )
    data = settings.DATA
    return write_bundle(
        out, bundle_items, log, SigningKey.from_private_pem(data.log_signing_key.read_bytes())
    )
