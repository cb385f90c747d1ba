"""Submissions as the server keeps them: encrypted, and with nothing about who sent them.

Plaintext here is limited to what the inbox must sort and count by: a coarse day, a status,
an unread flag, sizes and random names. The reporter's text, hints, file names and file hashes
are age files to the intake desk (and, for replies, to the reporter's receipt identity).
No IP address, user agent, referrer, language or exact time is stored, anywhere.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from refugium.web.accounts.models import Desk


def new_code() -> str:
    """Random, so that an id says nothing about how many submissions came before it."""
    return secrets.token_hex(6)


class Submission(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_REVIEW = "in_review", _("In review")
        PROMOTED = "promoted", _("Promoted to records")
        CLOSED = "closed", _("Closed")

    code = models.CharField(max_length=12, unique=True, default=new_code)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="submissions")
    # HKDF output of one Argon2id run over the receipt: finds the submission, reveals nothing.
    lookup_handle = models.CharField(max_length=64, unique=True)
    # Public half of the receipt-derived identity: replies are encrypted to it.
    reporter_recipient = models.CharField(max_length=100)
    received_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    unread = models.BooleanField(default=True)

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return self.code


class Message(models.Model):
    """One turn of the conversation: the first report, a follow-up, or a reply."""

    class Author(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        DESK = "desk", _("Researchers")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=8, choices=Author.choices)
    # The researcher who wrote a reply; never shown to the reporter.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    sent_on = models.DateField()
    # age file: JSON {"text": ..., "hints": {...}} to the desk (and the reporter, for replies).
    body = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.submission} #{self.pk}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    stored_name = models.CharField(max_length=32, unique=True)
    size = models.BigIntegerField()
    # age file to the desk: JSON {"name": original file name, "sha256": ..., "type": ...}.
    meta = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.stored_name


class UsedFormToken(models.Model):
    """Form tokens are single use. Kept by hash and day only, and purged when they expire."""

    token_hash = models.CharField(max_length=64, unique=True)
    used_on = models.DateField()

    def __str__(self) -> str:
        return self.token_hash[:8]


class RateWindow(models.Model):
    """A count of attempts in the current minute, per kind; older windows are deleted.

    The only time-resolved trace of reporters' activity, and it lives for two minutes at most.
    """

    kind = models.CharField(max_length=16)
    minute = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "minute"], name="one_window_per_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.minute}"
