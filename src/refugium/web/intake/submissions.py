"""Storing and opening submissions: what the intake views and the desk build on.

The order of a submission is the order of DESIGN §3: the encrypted files are already fsynced
in the store's staging folder; they are renamed into place and the folder fsynced; then the
database rows are committed in one transaction; only then is the receipt shown. A crash
before the commit leaves files with no row, which ``refugium serve`` sweeps at start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from refugium.crypto import (
    DecryptionFailed,
    Identity,
    Receipt,
    Recipient,
    decrypt,
    encrypt,
    profile_by_name,
)
from refugium.vault import EncryptedStore
from refugium.web.accounts.models import Desk, Organisation
from refugium.web.core.storage import file_store
from refugium.web.intake import flood
from refugium.web.intake.models import Attachment, Message, Submission
from refugium.web.intake.reporter_session import ReporterSession
from refugium.web.intake.upload_handler import StagedUpload

INTAKE_DESK = "intake"


def store() -> EncryptedStore:
    return file_store()


def intake_desk() -> Desk:
    return Desk.objects.get(name=INTAKE_DESK)


def desk_recipient(desk: Desk) -> Recipient:
    return Recipient.parse(desk.current_generation().recipient)


def seal_json(value: Any, recipients: Sequence[Recipient]) -> bytes:
    return encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8"), recipients)


def open_json(blob: bytes, identities: Sequence[Identity]) -> Any:
    """Raises:
    DecryptionFailed: none of the identities opens it.
    """
    return json.loads(decrypt(bytes(blob), identities))


def _receipt_keys(receipt: Receipt):  # type: ignore[no-untyped-def]
    salt = bytes(Organisation.objects.values_list("receipt_salt", flat=True).get())
    return receipt.derive(salt, profile_by_name(settings.REFUGIUM_ARGON2_PROFILE))


def _attach(
    message: Message,
    uploads: Sequence[StagedUpload],
    recipients: Sequence[Recipient],
    committed: list[str],
) -> None:
    """Moves each staged file into place (renamed, folder fsynced) and records it; the names
    go into ``committed`` as they land, so the caller can shred them if the transaction
    fails."""
    for upload in uploads:
        name = upload.staged.commit()
        committed.append(name)
        Attachment.objects.create(
            message=message,
            stored_name=name,
            size=upload.staged.size,
            meta=seal_json(
                {"name": upload.name, "sha256": upload.staged.sha256, "type": upload.content_type},
                recipients,
            ),
        )


def create(
    *,
    text: str,
    hints: dict[str, Any],
    uploads: list[StagedUpload],
    language: str,
    form_token: str,
) -> Receipt:
    """Stores a new submission and returns its receipt, which is never stored.

    Raises:
        flood.Refused: the form token was used meanwhile (a double click).
    """
    receipt = Receipt.generate(language if language in ("en", "ru") else "en")
    keys = _receipt_keys(receipt)
    desk = intake_desk()
    recipients = [desk_recipient(desk)]
    files = store()
    committed: list[str] = []
    try:
        with transaction.atomic():
            flood.use_form_token(form_token)
            today = timezone.now().date()
            submission = Submission.objects.create(
                desk=desk,
                lookup_handle=keys.lookup_handle,
                reporter_recipient=str(keys.identity.recipient),
                received_on=today,
            )
            message = Message.objects.create(
                submission=submission,
                author=Message.Author.REPORTER,
                sent_on=today,
                body=seal_json({"text": text, "hints": hints}, recipients),
            )
            # Files are renamed into place (and the folder fsynced) inside the transaction,
            # before its commit: a row never points to a file that is not durable.
            _attach(message, uploads, recipients, committed)
    except BaseException:
        for name in committed:
            files.shred(name)
        raise
    return receipt


def open_with_receipt(receipt: Receipt | str) -> ReporterSession:
    """One Argon2id run, whether or not the receipt opens anything.

    Raises:
        BadInput: given as text, it is not a receipt (``Receipt.parse`` refuses it before
            any Argon2id runs).
    """
    if isinstance(receipt, str):
        receipt = Receipt.parse(receipt)
    keys = _receipt_keys(receipt)
    submission_id = (
        Submission.objects.filter(lookup_handle=keys.lookup_handle)
        .values_list("id", flat=True)
        .first()
    )
    return ReporterSession(submission_id, keys.identity)


@dataclass(frozen=True)
class Reply:
    text: str
    sent_on: Any


def reporter_view(session: ReporterSession) -> tuple[str, list[Reply]]:
    """The status code and the researchers' replies that this session may see."""
    if session.submission_id is None:
        return Submission.Status.NEW, []
    submission = Submission.objects.filter(pk=session.submission_id).first()
    if submission is None:  # deleted meanwhile: look like a receipt with nothing new
        return Submission.Status.NEW, []
    replies = []
    for message in submission.messages.filter(author=Message.Author.DESK):
        try:
            body = open_json(message.body, [session.identity])
        except DecryptionFailed:
            continue
        replies.append(Reply(text=body.get("text", ""), sent_on=message.sent_on))
    return submission.status, replies


def add_from_reporter(
    session: ReporterSession, *, text: str, uploads: list[StagedUpload]
) -> None:
    """Adds the reporter's text and files to their submission; for a session whose receipt
    opened nothing, stores nothing (the caller answers the same either way)."""
    if session.submission_id is None:
        return
    files = store()
    committed: list[str] = []
    try:
        with transaction.atomic():
            submission = Submission.objects.select_for_update().filter(
                pk=session.submission_id
            ).first()
            if submission is None:
                return
            recipients = [desk_recipient(submission.desk)]
            message = Message.objects.create(
                submission=submission,
                author=Message.Author.REPORTER,
                sent_on=timezone.now().date(),
                body=seal_json({"text": text, "hints": {}}, recipients),
            )
            _attach(message, uploads, recipients, committed)
            Submission.objects.filter(pk=submission.pk).update(unread=True)
    except BaseException:
        for name in committed:
            files.shred(name)
        raise
