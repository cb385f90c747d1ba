"""A possible duplicate: two Persons of the documentation desk the linkage model scored as
perhaps the same human being, and a researcher's decision on it.

Stores no name: only the two record links, the model's probability and the decision. A
confirmed match is the merge's record: which Person was kept, which was merged into it (the
merged Person's row, sealed identity and revisions stay, so no source's record is lost) and
which link rows moved, so that a merge can be explained and, by hand, undone.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from refugium.web.accounts.models import Desk
from refugium.web.records.models import Person


class PersonMatch(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed: the same person")
        REJECTED = "rejected", _("Rejected: different persons")

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    # The lower-numbered Person first: one row per pair whichever way the model saw it.
    person_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_on = models.DateField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)
    # Set when confirmed: the Person kept and the one merged into it (both rows stay).
    kept = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merged = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The link rows re-pointed from the merged Person to the kept one, as JSON:
    # {"records.Act.victim": [ids], "evidence.Link.record_pk": [ids], …}. Text, not a
    # JSONField: its CHECK (JSON_VALID) is refused with SQLite's trusted_schema off.
    moved = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="unique_person_match"),
            models.CheckConstraint(
                condition=models.Q(person_a__lt=models.F("person_b")),
                name="person_match_in_order",
            ),
        ]
        indexes = [models.Index(fields=["desk", "status"], name="person_match_desk_status")]

    def __str__(self) -> str:
        return f"{self.person_a.code} ~ {self.person_b.code}"

    @property
    def moved_links(self) -> dict[str, list[int]]:
        """The ids of the link rows a confirmed merge re-pointed, by model and column."""
        return json.loads(self.moved) if self.moved else {}
