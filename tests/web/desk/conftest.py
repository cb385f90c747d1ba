"""Submissions for the inbox tests, made the way the intake makes them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from refugium.crypto import Identity
from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.intake import flood, submissions
from refugium.web.intake.models import Attachment, Message, Submission
from refugium.web.intake.upload_handler import StagedUpload
from tests import factories

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 300  # 76 KiB: more than one age chunk
DOCUMENT = "Протокол задержания, 3 стр.\n".encode() * 10


@dataclass
class Made:
    submission: Submission
    receipt: str

    @property
    def code(self) -> str:
        return self.submission.code

    def stored_names(self) -> list[str]:
        return list(
            Attachment.objects.filter(message__submission=self.submission)
            .order_by("id")
            .values_list("stored_name", flat=True)
        )


def _staged(name: str, data: bytes, content_type: str) -> StagedUpload:
    desk = submissions.intake_desk()
    upload = submissions.store().begin([submissions.desk_recipient(desk)])
    upload.write(data)
    return StagedUpload(upload.finish(), name, content_type)


@pytest.fixture
def submit(org, settings) -> Callable[..., Made]:  # type: ignore[no-untyped-def]
    """Stores a submission through ``submissions.create``, as the submit view does."""
    settings.REFUGIUM_FORM_MIN_SECONDS = 0

    def _submit(
        text: str = "They took him from the market on Tuesday.",
        files: list[tuple[str, bytes, str]] | None = None,
        hints: dict[str, object] | None = None,
    ) -> Made:
        uploads = [_staged(*f) for f in files or []]
        receipt = submissions.create(
            text=text,
            hints=hints or {},
            uploads=uploads,
            language="en",
            form_token=flood.issue_form_token(),
        )
        session = submissions.open_with_receipt(receipt.to_text())
        submission = Submission.objects.get(pk=session.submission_id)
        return Made(submission, receipt.to_text())

    return _submit


@pytest.fixture
def casework_submission(org) -> Made:  # type: ignore[no-untyped-def]
    """A submission-like row on another desk, with a file encrypted to that desk."""
    desk = Desk.objects.get(name="casework")
    recipient = submissions.desk_recipient(desk)
    today = timezone.now().date()
    submission = Submission.objects.create(
        desk=desk,
        lookup_handle=secrets.token_hex(32),
        reporter_recipient=str(Identity.generate().recipient),
        received_on=today,
    )
    message = Message.objects.create(
        submission=submission,
        author=Message.Author.REPORTER,
        sent_on=today,
        body=submissions.seal_json({"text": "casework only", "hints": {}}, [recipient]),
    )
    upload = submissions.store().begin([recipient])
    upload.write(b"casework file")
    staged = upload.finish()
    Attachment.objects.create(
        message=message,
        stored_name=staged.commit(),
        size=staged.size,
        meta=submissions.seal_json(
            {"name": "case.txt", "sha256": staged.sha256, "type": "text/plain"}, [recipient]
        ),
    )
    return Made(submission, "")


@pytest.fixture
def member(org, login) -> Callable[[str], None]:  # type: ignore[no-untyped-def]
    """Adds ``name`` to the intake desk with its keys granted by the admin."""

    def _member(name: str) -> None:
        factories.add_user(org, name, ["intake"])
        accounts.grant(name, "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)

    return _member


def audit_entries() -> list[tuple[str, str, str, str]]:
    """The verified audit log as (actor, action, object type, object id)."""
    from refugium.web.core.auditing import audit_log

    return [
        (e["body"]["actor"], e["body"]["action"], e["body"]["object"]["type"],
         e["body"]["object"]["id"])
        for e in audit_log().entries()
    ]
