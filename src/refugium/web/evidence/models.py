"""Evidence items as the database keeps them: a random code, the desk, the stored file's
random name, its size, the day it was added and a commitment to its SHA-256.

Everything that says what the file is (its original name, its source, its SHA-256 and the
salt of the commitment, its media type, the metadata report) is one age file to the desk in
``meta``: ingest needs only the desk's public recipient, so an air-gapped or field machine
can add evidence without unlocking anything. The commitment, not the hash, is what the
custody log and this table hold, so a seized server cannot confirm which known files (photos
from a seized phone) the organisation has (``refugium.vault.custody``).
"""

from __future__ import annotations

import secrets

from django.db import models

from refugium.web.accounts.models import Desk


def new_code() -> str:
    """Random, so that an item's code says nothing about how many came before it."""
    return secrets.token_hex(6)


class Item(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    stored_name = models.CharField(max_length=32, unique=True)
    size = models.BigIntegerField()
    added_on = models.DateField()
    commitment = models.CharField(max_length=64)
    meta = models.BinaryField()
    # True for a sanctuary case's own document (``casework.documents``): the file is
    # encrypted to the case key and the recovery recipient, not to the desk, and ``meta`` is
    # empty (its description is sealed under the case key, on the case's CaseDocument).
    # Plaintext so that the desk's listings leave it out without trying to decrypt it; it
    # says only that some case holds the item, not which one.
    case_keyed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-added_on", "-id"]

    def __str__(self) -> str:
        return self.code


class Link(models.Model):
    """An item attached to a record of the documentation database (an event, act, person …).

    By kind and primary key rather than a foreign key per kind: records of any kind can hold
    evidence, and the custody log records each attach and detach by the record's code."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="links")
    record_type = models.CharField(max_length=20)
    record_pk = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "record_type", "record_pk"], name="unique_evidence_link"
            ),
        ]
        indexes = [models.Index(fields=["record_type", "record_pk"], name="evidence_by_record")]

    def __str__(self) -> str:
        return f"{self.item} on {self.record_type} {self.record_pk}"
