"""A case's own documents in the vault, readable only by the case's assignees (issue 9: "each
case's sensitive parts are encrypted under a key wrapped only to the caseworkers assigned to
it (and the recovery recipient), not to the whole desk"; "documents from the vault").

A passport scan, a ticket, a medical letter: the file is the most identifying part of a case.
``tasks.attach_document`` links an item that the whole casework desk can open; what is added
here, only the case's assignees can.

- **The file** is streamed into the vault (``refugium.vault.store``) as an age file encrypted
  to the newest generation of the case key (``CaseKeyGeneration.recipient``) and to the
  organisation's recovery recipient, never to the desk. It is an ``evidence.Item`` of the
  casework desk marked ``case_keyed``, with an empty ``meta``: the desk's listings and every
  desk path of the vault leave it out or refuse it with ``NotFound``, and the start-up sweep
  keeps its file because its row names it.
- **Its description** (name, media type, the caseworker's note, its SHA-256 and the salt of
  its commitment, and which item it is) is sealed under the case key on its
  ``CaseDocument`` (``details``), never under the desk key.
- **Reading it** goes through ``cases._keys``: an unassigned desk member gets the same
  ``NotFound`` as for a case that does not exist, and neither the desk's keys nor their own
  identity open the file or its description.
- **Rotation**: after an unassign, new documents are encrypted to the new generation, which
  the unassigned member never held. Older documents stay encrypted to the generation they
  were added under (nothing is re-encrypted, as for the rest of the case's data): the
  remaining assignees read them through their wraps of the older generations, and what the
  unassigned member could read before, they may have copied.

Integrity is the vault's: the SHA-256 is taken while the file streams in and checked at the
end of every read (a file swapped for another fails instead of completing); opening also
checks that the sealed SHA-256 and salt give the item's commitment, so a description cannot
be paired with another row's file.

**The custody log** records ``ingested``, ``viewed`` (``how=case``) and ``deleted`` for
these items, with the item's random code, the account, the salted commitment and the size,
as for every item: the vault's promise that no event on an item goes unrecorded holds for
them too. The audit log's ``casework.document_add`` / ``casework.document_get`` entries name
the case and are written in the same second, so someone holding both logs can tie the item's
code to the case in time. ``tasks.attach_document`` writes no custody entry to avoid that,
because a desk item's code also goes into export bundles handed to courts. A case document's
code goes nowhere else: it cannot be exported, shared or linked to a record (the desk cannot
open it), so tying it to the case tells no more than the audit log already does (who added or
opened a document of which case, when), plus its size, which its row holds anyway. Dropping
custody entries would have cost the chain of custody for the documents where it matters most.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.crypto import DecryptionFailed, Recipient
from refugium.errors import BadInput, Conflict, NotFound
from refugium.vault.custody import commitment, new_salt
from refugium.vault.store import checked_sha256
from refugium.web.accounts import services as accounts
from refugium.web.casework import cases
from refugium.web.casework.models import Case, CaseDocument
from refugium.web.casework.services import Workspace
from refugium.web.core.auditing import record as audit
from refugium.web.core.storage import file_store
from refugium.web.evidence import services as evidence
from refugium.web.evidence.models import Item

MAX_DOCUMENT_BYTES = 100 * 2**20
"""A scan, a photo, a letter: 100 MiB is far above any of them and keeps a mistaken upload
(a video, a disk image) from filling the data folder."""
MAX_NAME = 255
MAX_NOTE = 2_000
CHUNK = 1 << 20
KIND = "case"
"""``details["kind"]`` of a case's own document; a linked desk item's details have none."""

Content = BinaryIO | Path | bytes
"""What ``add_case_document`` reads: a binary stream (an upload), a ``Path``, or bytes. A
``str`` is refused rather than taken for a path: a page must never read a server file named
by text from a form."""


@dataclass(frozen=True)
class CaseFile:
    """A case's document opened for reading: its description and its bytes, streamed and
    checked against its SHA-256 at the end (``DecryptionFailed`` from the iterator if they do
    not match: cut the download off, never complete it)."""

    number: int
    name: str = field(repr=False)
    media_type: str
    size: int
    note: str = field(repr=False)
    chunks: Iterator[bytes] = field(repr=False)
    case_keyed: bool = True

    def read(self) -> bytes:
        """The whole file in memory (at most ``MAX_DOCUMENT_BYTES`` for a case's own one)."""
        return b"".join(self.chunks)


def _case(ws: Workspace, case: Case | str) -> Case:
    if isinstance(case, str):
        return cases.get_case(ws, case)
    return Case.objects.get(pk=case.pk)


def _name(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise BadInput("name: required")
    if len(text) > MAX_NAME:
        raise BadInput(f"name: longer than {MAX_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise BadInput("name: control characters are not allowed")
    return text


@contextlib.contextmanager
def _source(content: Content) -> Iterator[BinaryIO]:
    """``content`` as a binary stream; a path is opened as ``evidence.ingest`` opens one (no
    symbolic link followed, a FIFO never waited on, only a regular file)."""
    if isinstance(content, bytes | bytearray | memoryview):
        yield io.BytesIO(bytes(content))
        return
    if isinstance(content, str):
        raise BadInput("the document must be bytes, a binary stream or a Path, not text")
    if not isinstance(content, Path):
        yield content
        return
    try:
        fd = os.open(content, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as error:
        raise BadInput(f"{content}: cannot open it ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(f"{content}: not a regular file")
    with os.fdopen(fd, "rb") as opened:
        yield opened


def _recipients(generation: Any) -> list[Recipient]:
    """The case key's generation and the recovery recipient: never the desk."""
    recovery = Recipient.parse(accounts.organisation().recovery_recipient)
    return [Recipient.parse(generation.recipient), recovery]


@sensitive_variables("source", "chunk", "prefix")
def _stream_in(content: Content, recipients: list[Recipient]) -> tuple[Any, str]:
    """Encrypts ``content`` into the vault's ``tmp/`` and returns the staged file and its
    media type. Any failure (too large, unreadable, not bytes) removes the temporary file.

    Raises:
        TooLarge: more than ``MAX_DOCUMENT_BYTES``.
        BadInput: unreadable, not a regular file, not binary, or empty.
    """
    from refugium.vault.sniff import PREFIX_BYTES, media_type

    prefix = b""
    with (
        _source(content) as source,
        file_store().begin(recipients, max_bytes=MAX_DOCUMENT_BYTES) as upload,
    ):
        while True:
            try:
                chunk = source.read(CHUNK)
            except OSError as error:
                raise BadInput(
                    f"the document could not be read ({error.strerror or 'read error'}); "
                    "nothing was stored"
                ) from None
            if not chunk:
                break
            if not isinstance(chunk, bytes | bytearray):
                raise BadInput("the document must be read as bytes, not text")
            if len(prefix) < PREFIX_BYTES:
                prefix += bytes(chunk[: PREFIX_BYTES - len(prefix)])
            upload.write(bytes(chunk))
        staged = upload.finish()
    if staged.size == 0:
        staged.discard()
        raise BadInput("the document is empty; nothing was stored")
    return staged, media_type(prefix)


@sensitive_variables("held", "keys", "name", "note", "sealed", "content")
def add_case_document(
    ws: Workspace,
    case: Case | str,
    name: str,
    content: Content,
    *,
    note: str = "",
    actor: str | None = None,
    today: date | None = None,
) -> CaseDocument:
    """Puts a new document into the vault for the case, readable only by its assignees (and
    the recovery key): the file encrypted to the newest generation of the case key, its name,
    type and ``note`` sealed under that key. Returns its ``CaseDocument`` (its ``pk`` is the
    number ``open_case_document`` takes).

    Order, as ``evidence.ingest``: the file is encrypted into ``tmp/`` and fsynced while its
    SHA-256 is taken; the custody entry is appended; the file is renamed into place; the item
    and the case's row are committed together. If anything fails after the rename, the file is
    shredded: no file without a row, no row without a file. Audited:
    ``casework.document_add`` with the case's code.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: no name, a note too long, an empty or unreadable file (``TooLarge``, a
            ``BadInput``, above ``MAX_DOCUMENT_BYTES``). Nothing is stored.
        Conflict: the case key rotated while the file streamed in. Nothing is stored.
    """
    case = _case(ws, case)
    held = cases._held(ws, case)
    generation = held[0][0]
    keys = [key for _generation, key in held]
    shown = _name(name)
    note = cases._text(note, "note", MAX_NOTE)
    who = actor or ws.actor
    day = today or timezone.localdate()
    staged, kind = _stream_in(content, _recipients(generation))
    salt = new_salt()
    item = Item(
        desk=ws.desk,
        size=staged.size,
        added_on=day,
        commitment=commitment(staged.sha256, salt),
        meta=b"",
        case_keyed=True,
    )
    document = CaseDocument(case=case, attached_on=day, attached_by=ws.user)
    sealed = {
        "kind": KIND,
        "item": item.code,
        "name": shown,
        "media_type": kind,
        "note": note,
        "sha256": staged.sha256,
        "salt": salt,
    }
    document.details = cases._seal(keys, document, "details", sealed)
    stored: str | None = None
    with staged:
        try:
            with transaction.atomic():
                _still_newest(case, generation)
                evidence.custody().record(
                    "ingested", item.code, actor=who, content=item.commitment, size=item.size
                )
                stored = item.stored_name = staged.commit()
                item.save()
                document.save()
                audit(who, "casework.document_add", "case", case.code)
        except BaseException:
            if stored is not None:
                _shred(stored)
            raise
    return document


def _still_newest(case: Case, generation: Any) -> None:
    """Raises:
    Conflict: the case key rotated (someone was unassigned) while the file streamed in: it
        is encrypted to a generation an unassigned caseworker held, so it is not kept.
    """
    newest = case.generations.order_by("-number").values_list("pk", flat=True).first()
    if newest != generation.pk:
        raise Conflict(
            f"{case.code}'s key changed while the document was being added; nothing was "
            "stored, add it again"
        )


def _shred(stored_name: str) -> None:
    with contextlib.suppress(NotFound, OSError):
        file_store().shred(stored_name)


def _row(case: Case, number: int) -> CaseDocument:
    row = CaseDocument.objects.filter(case=case, pk=number).first()
    if row is None:
        raise NotFound(f"{case.code} has no document {number}")
    return row


def _item_of(ws: Workspace, case: Case, number: int, sealed: dict[str, Any]) -> Item:
    item = Item.objects.filter(desk=ws.desk, code=str(sealed["item"]), case_keyed=True).first()
    if item is None:
        raise NotFound(f"{case.code}: document {number} is no longer in the vault")
    return item


@sensitive_variables("keys", "sealed", "identities")
def open_case_document(
    ws: Workspace, case: Case | str, number: int, *, actor: str | None = None
) -> CaseFile:
    """Document ``number`` of the case, decrypted as it is read (stream ``chunks`` to a
    download, or ``read()`` it). A case's own document opens with the case key; a desk item
    linked with ``tasks.attach_document`` opens with the desk's keys through the vault.
    Recorded before anything is decrypted: the custody log's ``viewed`` (``how=case``) and
    the audit's ``casework.document_get`` with the case's code.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist), it has no
            document ``number``, or the file is no longer in the vault.
        DecryptionFailed: damage: the description does not match the item, the file does not
            open (here), or its bytes do not match its SHA-256 (from ``chunks``, at the end).
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    row = _row(case, number)
    sealed = cases._open(keys, row, "details")
    who = actor or ws.actor
    if sealed.get("kind") != KIND:
        return _open_desk_item(ws, case, number, sealed, who)
    item = _item_of(ws, case, number, sealed)
    sha256, salt = str(sealed["sha256"]), str(sealed["salt"])
    if commitment(sha256, salt) != item.commitment:
        raise DecryptionFailed("a case document's description does not match its file")
    evidence.custody().record("viewed", item.code, actor=who, content=item.commitment, how=KIND)
    audit(who, "casework.document_get", "case", case.code)
    identities = [key.identity for key in keys]
    chunks = file_store().iter_plaintext(item.stored_name, identities)
    return CaseFile(
        number=row.pk,
        name=str(sealed["name"]),
        media_type=str(sealed["media_type"]),
        size=item.size,
        note=str(sealed.get("note") or ""),
        chunks=checked_sha256(chunks, sha256),
    )


@sensitive_variables("sealed", "identities")
def _open_desk_item(
    ws: Workspace, case: Case, number: int, sealed: dict[str, Any], who: str
) -> CaseFile:
    """A desk item linked to the case, opened as the vault opens it (its custody entry
    ``viewed`` with ``how=download``)."""
    try:
        item = evidence.get(ws.desk, str(sealed["item"]))
    except NotFound:
        raise NotFound(f"{case.code}: document {number} is no longer in the vault") from None
    identities = [key.identity for key in ws.keys]
    meta, chunks = evidence.plaintext(item, identities, actor=who, how="download")
    audit(who, "casework.document_get", "case", case.code)
    return CaseFile(
        number=number,
        name=meta.name,
        media_type=meta.media_type,
        size=item.size,
        note=str(sealed.get("label") or ""),
        chunks=chunks,
        case_keyed=False,
    )


def delete_case_item(ws: Workspace, case: Case, sealed: dict[str, Any], *, actor: str) -> None:
    """Deletes a case's own document's item from the vault, for ``tasks.detach_document``:
    only the case opens it, so once taken off the case it would be a file nobody can find.
    The custody log's ``deleted`` is written first, then the row goes and the file is
    shredded (its age header overwritten: ``EncryptedStore.shred``). Call it inside the
    detaching transaction. A missing item is nothing to delete."""
    item = Item.objects.filter(desk=ws.desk, code=str(sealed["item"]), case_keyed=True).first()
    if item is None:
        return
    evidence.custody().record("deleted", item.code, actor=actor, content=item.commitment)
    stored = item.stored_name
    item.delete()
    _shred(stored)
