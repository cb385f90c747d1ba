"""What the researchers' inbox does, for the web pages and ``refugium inbox`` alike.

Both front ends call these functions and nothing else, so they enforce the same access rule,
decrypt the same way and write the same audit entries (issue 4: "command-line parity"). Each
function that shows or changes a submission records its audit entry *before* it acts: a
read the audit log cannot hold does not happen (as a sign-in, in ``accounts.views``).

Keys come in as arguments (the identities of the desk's unlocked key generations); nothing
here stores or logs a key, a text or a file name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.crypto import DecryptionFailed, Identity, Recipient
from refugium.errors import BadInput, Conflict, NotFound, RefugiumError
from refugium.vault.store import checked_sha256
from refugium.web.access import holds_desk_key
from refugium.web.accounts import keyring as keyrings
from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.core.auditing import record
from refugium.web.intake import vocabulary
from refugium.web.intake.models import Attachment, Message, Submission
from refugium.web.intake.submissions import (
    INTAKE_DESK,
    desk_recipient,
    open_json,
    seal_json,
    store,
)

INBOX_DESK = INTAKE_DESK
MAX_REPLY_CHARS = 100_000


class NoAccess(RefugiumError):
    """The account may not use this desk's inbox (not an active member, disabled, or no key
    of the desk unlocked). The web shows the same 404 as for a missing submission."""

    code = "no_access"


# --- Who may read ---------------------------------------------------------------------------


def inbox_desk() -> Desk:
    """Raises:
    NotFound: the organisation has no intake desk.
    """
    return accounts.get_desk(INBOX_DESK)


def identities(user: Any, keyring: keyrings.Keyring | None, desk: Desk) -> list[Identity]:
    """The identities of ``desk``'s key generations that ``keyring`` holds, newest first.

    Raises:
        NoAccess: ``user`` is disabled, not an active member of ``desk``, or holds none of
            its keys (the same rule as ``access.desk_member`` for the web pages).
    """
    if not holds_desk_key(user, keyring, desk.name):
        raise NoAccess(
            f"this account is not an active member of desk {desk.name!r} holding its key"
        )
    assert keyring is not None
    return [key.identity for key in keyring.desk_keys(desk.name)]


@sensitive_variables("passphrase", "identity")
def unlock(name: str, passphrase: str) -> tuple[User, keyrings.Keyring]:
    """For the command line: the user and their keyring, as a sign-in would build it (one
    Argon2id run, no TOTP: whoever runs the command holds the data folder already).

    Raises:
        NotFound: no such user.
        DecryptionFailed: wrong passphrase.
        NoAccess: the account is disabled.
        BadInput: the passphrase is longer than any passphrase can be.
    """
    user = accounts.get_user(name)
    identity = accounts.unlock_identity(name, passphrase)
    if not user.is_active:
        raise NoAccess(f"the account {name!r} is disabled")
    return user, keyrings.build(user, identity)


# --- Listing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    code: str
    received_on: date
    status: str
    unread: bool
    files: int

    @property
    def status_label(self) -> str:
        return str(Submission.Status(self.status).label)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "received_on": self.received_on.isoformat(),
            "status": self.status,
            "unread": self.unread,
            "files": self.files,
        }


def list_rows(desk: Desk) -> list[InboxRow]:
    """Every submission of ``desk``, newest first. Reads only plaintext columns (no key, no
    audit entry: nothing here is testimony)."""
    rows = (
        Submission.objects.filter(desk=desk)
        .annotate(files=Count("messages__attachments"))
        .order_by("-received_on", "-id")
        .values_list("code", "received_on", "status", "unread", "files")
    )
    return [InboxRow(*row) for row in rows]


def get_submission(desk: Desk, code: str) -> Submission:
    """Raises:
    NotFound: no submission with this code on ``desk`` (one on another desk is not found
        either).
    """
    submission = Submission.objects.filter(desk=desk, code=code).first()
    if submission is None:
        raise NotFound(f"no submission {code!r} in the {desk.name} inbox")
    return submission


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentView:
    stored_name: str
    size: int
    readable: bool
    name: str = ""
    sha256: str = ""
    type: str = ""


@dataclass(frozen=True)
class MessageView:
    number: int
    author: str
    sent_on: date
    sent_by: str
    readable: bool
    text: str = ""
    hints: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[AttachmentView] = field(default_factory=list)

    @property
    def from_reporter(self) -> bool:
        return self.author == Message.Author.REPORTER


@dataclass(frozen=True)
class SubmissionView:
    code: str
    received_on: date
    status: str
    messages: list[MessageView]

    @property
    def status_label(self) -> str:
        return str(Submission.Status(self.status).label)


def _text(value: object) -> str:
    """Decrypted JSON is untrusted (a reporter wrote it; the desk recipient is public, so
    anyone could have): anything that is not a string shows as nothing."""
    return value if isinstance(value, str) else ""


def _hints(raw: object) -> list[tuple[str, str]]:
    """(group, label) pairs in English, for the vocabulary's groups only."""
    if not isinstance(raw, dict):
        return []
    pairs = []
    for group in vocabulary.GROUPS:
        value = raw.get(group)
        codes = value if isinstance(value, list) else [value]
        labels = [vocabulary.label(group, c) for c in codes if isinstance(c, str) and c]
        if labels:
            pairs.append((group, ", ".join(labels)))
    return pairs


def _attachment_view(attachment: Attachment, keys: Sequence[Identity]) -> AttachmentView:
    try:
        meta = open_json(attachment.meta, keys)
    except (DecryptionFailed, ValueError):
        return AttachmentView(attachment.stored_name, attachment.size, readable=False)
    if not isinstance(meta, dict):
        meta = {}
    return AttachmentView(
        attachment.stored_name,
        attachment.size,
        readable=True,
        name=_text(meta.get("name")),
        sha256=_text(meta.get("sha256")),
        type=_text(meta.get("type")),
    )


@sensitive_variables("keys", "body")
def _message_view(number: int, message: Message, keys: Sequence[Identity]) -> MessageView:
    attachments = [_attachment_view(a, keys) for a in message.attachments.all()]
    common = {
        "number": number,
        "author": message.author,
        "sent_on": message.sent_on,
        "sent_by": message.sent_by.username if message.sent_by else "",
        "attachments": attachments,
    }
    try:
        body = open_json(message.body, keys)
    except (DecryptionFailed, ValueError):
        return MessageView(readable=False, **common)  # type: ignore[arg-type]
    if not isinstance(body, dict):
        body = {}
    return MessageView(
        readable=True,
        text=_text(body.get("text")),
        hints=_hints(body.get("hints")),
        **common,  # type: ignore[arg-type]
    )


@sensitive_variables("keys")
def read(submission: Submission, keys: Sequence[Identity], *, actor: str) -> SubmissionView:
    """Decrypts the whole conversation and marks the submission read.

    A message or file meta that none of ``keys`` opens (a generation the reader never held,
    or damage) is shown as unreadable rather than failing the page.
    """
    record(actor, "submission.read", "submission", submission.code)
    messages = (
        submission.messages.select_related("sent_by")
        .prefetch_related("attachments")
        .order_by("id")
    )
    views = [_message_view(n, m, keys) for n, m in enumerate(messages, start=1)]
    if submission.unread:
        Submission.objects.filter(pk=submission.pk).update(unread=False)
    return SubmissionView(submission.code, submission.received_on, submission.status, views)


def get_attachment(submission: Submission, stored_name: str) -> Attachment:
    """Raises:
    NotFound: no file of that name in this submission (one of another submission is not
        found either).
    """
    attachment = Attachment.objects.filter(
        message__submission=submission, stored_name=stored_name
    ).first()
    if attachment is None:
        raise NotFound("no such file in this submission")
    return attachment


def reporter_attachments(submission: Submission) -> list[Attachment]:
    """The files the reporter sent, oldest first (replies carry none)."""
    return list(
        Attachment.objects.filter(
            message__submission=submission, message__author=Message.Author.REPORTER
        ).order_by("id")
    )


@sensitive_variables("keys")
def open_file(
    submission: Submission, stored_name: str, keys: Sequence[Identity], *, actor: str
) -> tuple[AttachmentView, Iterator[bytes]]:
    """The file's decrypted meta and its plaintext, as an iterator to stream.

    The iterator checks the bytes against the SHA-256 taken at upload and raises
    ``DecryptionFailed`` at the end if they differ, so a caller that streams it cuts the
    download off instead of completing it (age authenticates each chunk already; this
    catches a file swapped for another one encrypted to the same public desk recipient).

    Raises:
        NotFound: no such file in this submission, or its stored file is gone.
        DecryptionFailed: none of ``keys`` opens it.
    """
    attachment = get_attachment(submission, stored_name)
    view = _attachment_view(attachment, keys)
    record(actor, "attachment.download", "attachment", f"{submission.code}:{stored_name}")
    chunks = store().iter_plaintext(stored_name, keys)
    return view, checked_sha256(chunks, view.sha256 if view.readable else "")


# --- Changing -------------------------------------------------------------------------------


def check_reply_text(text: str) -> str:
    """Raises:
    BadInput: empty, or longer than ``MAX_REPLY_CHARS``.
    """
    if not text.strip():
        raise BadInput("the reply is empty", code="reply_empty")
    if len(text) > MAX_REPLY_CHARS:
        raise BadInput(
            f"the reply is longer than {MAX_REPLY_CHARS} characters", code="reply_too_long"
        )
    return text


@sensitive_variables("text")
@transaction.atomic
def reply(submission: Submission, text: str, *, user: User) -> Message:
    """Stores a reply encrypted to the desk's current key and to the reporter's
    receipt-derived identity (only their receipt opens it on their side).

    Raises:
        BadInput: as ``check_reply_text``.
    """
    check_reply_text(text)
    record(user.username, "submission.reply", "submission", submission.code)
    recipients = [desk_recipient(submission.desk), Recipient.parse(submission.reporter_recipient)]
    return Message.objects.create(
        submission=submission,
        author=Message.Author.DESK,
        sent_by=user,
        sent_on=timezone.now().date(),
        body=seal_json({"text": text}, recipients),
    )


@transaction.atomic
def set_status(submission: Submission, status: str, *, actor: str) -> None:
    """Raises:
    BadInput: not one of ``Submission.Status``.
    """
    if status not in Submission.Status.values:
        choices = ", ".join(Submission.Status.values)
        raise BadInput(f"status must be one of: {choices}", code="bad_status")
    record(actor, "submission.status", "submission", f"{submission.code}:{status}")
    Submission.objects.filter(pk=submission.pk).update(status=status)


@dataclass(frozen=True)
class Deleted:
    code: str
    files: int
    wal_truncated: bool | None
    """True: SQLite's write-ahead log was checkpointed and emptied; False: it could not be
    (another connection was reading), the deleted rows' old pages may stay in it until the
    next checkpoint; None: not SQLite."""


def delete(submission: Submission, *, actor: str) -> Deleted:
    """Deletes the submission with every message and file.

    Order: rows first (one transaction, with its audit entry), then each file is shredded
    (``EncryptedStore.shred`` overwrites the age header that holds the file key, then
    unlinks), then SQLite's WAL is checkpointed and truncated so that it no longer holds
    the deleted rows (``secure_delete=ON`` zeroes their freed pages in the database file).
    If the rows cannot be deleted (a full disk), nothing was shredded and the submission is
    whole; a crash after the commit leaves files no row names, which ``refugium serve``
    shreds at its next start (``EncryptedStore.sweep``).

    What remains is in docs/inbox.md: blocks an SSD or a copy-on-write filesystem kept,
    backups, and whatever researchers downloaded.

    Raises:
        Conflict: the submission's files are evidence in the documentation database
            (promoted and linked to an Information record); nothing is deleted.
        OSError: a file could not be shredded (the rows are gone; the sweep at the next
            start finishes the job).
    """
    from refugium.web.records.models import InformationFile

    code = submission.code
    linked = InformationFile.objects.filter(attachment__message__submission=submission)
    if linked.exists():
        codes = sorted({f"N-{pk:04d}" for pk in linked.values_list("information_id", flat=True)})
        raise Conflict(
            f"submission {code} was promoted and its files are linked to {', '.join(codes)} in "
            "the records; remove those links there before deleting it"
        )
    names = list(
        Attachment.objects.filter(message__submission=submission).values_list(
            "stored_name", flat=True
        )
    )
    with transaction.atomic():
        record(actor, "submission.delete", "submission", code)
        Submission.objects.filter(pk=submission.pk).delete()
    files = store()
    for name in names:
        try:
            files.shred(name)
        except NotFound:
            continue  # already gone (a sweep, or a crash between commit and shred)
    return Deleted(code=code, files=len(names), wal_truncated=checkpoint_wal())


def checkpoint_wal() -> bool | None:
    """Copies SQLite's WAL into the database and truncates it to zero bytes.

    Returns None on other databases, False when it could not complete: inside a transaction
    (the tests' own) or when another connection kept reading past the busy timeout.
    """
    if connection.vendor != "sqlite":
        return None
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _log, _done = cursor.fetchone()
    return busy == 0
