"""The provocation watchlist of the casework desk (issue 9: "Provocation flags").

Police posed as people asking for help and used detainees' seized phones and contacts. A
contact on this list flags any case that uses it, yet a seized database must not give the
contacts away: a row holds the keyed hash of the contact's canonical form
(``refugium.casework.contacts``) under the casework desk's key, never the contact, and the
reason sealed with the desk's field key, bound to this table, the row's uid and the column.

Plaintext columns are coded and name no one: the desk, the kind of contact, where the entry
came from (by hand, or a detained Person of the records and that Person's id), the day it was
added and by which account.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from refugium.web.accounts.models import Desk


class WatchlistEntry(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone number")
        TELEGRAM = "telegram", _("Telegram username")
        EMAIL = "email", _("E-mail address")
        OTHER = "other", _("Other identifier")

    class Origin(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        DETAINED = "detained", _("Contact of a detained person")

    # What the sealed reason is bound to: known before the row is inserted, so a bulk insert
    # can seal a million reasons without a round trip per row.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the unique (desk, digest) index serves lookups by desk, and a second
    # one tempts SQLite into scanning the whole desk for a check of many contacts at once.
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # KeyedHasher digest of "kind:canonical" (purpose WATCHLIST in services.py).
    digest = models.CharField(max_length=96)
    reason = models.BinaryField()
    # Which Person a "detained" contact came from is not a column: a seized database would
    # show which documented people are detained and watched. It belongs in the sealed reason.
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    # A day, not a timestamp: the moment a contact was listed can tie it to an event.
    added_on = models.DateField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "digest"], name="unique_watchlist_digest"),
        ]

    def __str__(self) -> str:
        return f"watchlist entry {self.pk}"
