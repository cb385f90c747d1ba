"""The documentation database: HURIDOCS ESF records, encrypted per desk (DESIGN §7).

Base records (Event, Person, Place, Source) and link records (Act, Involvement, Information,
Intervention, chain of events, relationships between persons), as in ESF: a Person is one
record whatever role it plays; the role comes from the link. Place is a record of its own, so
an unofficial detention facility can be linked to many acts (ESF has no Place).

Plaintext columns are the links, the public coded fields the schema allows (act type, month,
region, status, perpetrator type) and bookkeeping (day created, draft or reviewed). What a
researcher writes sits in the sealed ``identity`` and ``details`` columns (``schema.py``).
Records are shown by codes made from their primary keys (``P-0042``), which SQLite never
reuses (Django creates its tables with AUTOINCREMENT).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from refugium.web.accounts.models import Desk
from refugium.web.records import schema
from refugium.web.records.schema import Field

# --- Vocabularies ---------------------------------------------------------------------------


class Vocabulary(models.Model):
    """A controlled list (an ESF micro-thesaurus or one of ours), loaded from the JSON files
    of ``refugium.records.vocabularies`` and extended by administrators without code."""

    key = models.SlugField(max_length=64, unique=True)
    version = models.PositiveIntegerField(default=1)
    esf_number = models.PositiveIntegerField(null=True, blank=True)
    title_en = models.CharField(max_length=200)
    title_ru = models.CharField(max_length=200)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Term(models.Model):
    vocabulary = models.ForeignKey(Vocabulary, on_delete=models.PROTECT, related_name="terms")
    key = models.SlugField(max_length=64)
    # The 12-digit HURIDOCS code for ESF terms; blank for terms of our own.
    code = models.CharField(max_length=12, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    label_en = models.CharField(max_length=300)
    label_ru = models.CharField(max_length=300)
    note_en = models.TextField(blank=True)
    note_ru = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    # Records keep pointing at a retired term; forms stop offering it.
    retired = models.BooleanField(default=False)
    # Added by an administrator: a newer vocabulary file never retires it.
    local = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vocabulary", "key"], name="unique_term_key"),
        ]
        ordering = ["vocabulary", "position", "key"]

    def __str__(self) -> str:
        return f"{self.vocabulary.key}:{self.key}"

    def label(self, language: str = "en") -> str:
        return self.label_ru if language.startswith("ru") and self.label_ru else self.label_en


class TermField(models.ForeignKey):  # type: ignore[type-arg]
    """A public coded column: a term of one vocabulary (the services check which on write)."""

    def __init__(self, vocabulary: str = "", *args: Any, **kwargs: Any) -> None:
        self.vocabulary = vocabulary
        kwargs.setdefault("to", "records.Term")
        kwargs.setdefault("on_delete", models.PROTECT)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("related_name", "+")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["vocabulary"] = self.vocabulary
        return name, path, args, kwargs


def _term(vocabulary: str, verbose: str | Promise) -> TermField:
    return TermField(vocabulary, verbose_name=verbose)


# --- The shape every record shares ---------------------------------------------------------


class Record(models.Model):
    """What every record and link has: a random uid that the sealed columns are bound to,
    the desk whose key seals them, coarse bookkeeping and the two sealed columns."""

    PREFIX: ClassVar[str] = ""
    SCHEMA: ClassVar[tuple[Field, ...]] = ()
    # Plaintext columns besides the bookkeeping: links and the public coded fields.
    PUBLIC: ClassVar[tuple[str, ...]] = ()

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField()
    updated_on = models.DateField()
    identity = models.BinaryField()
    details = models.BinaryField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.PREFIX}-{self.pk:04d}" if self.pk else f"{self.PREFIX}-new"


class Month(models.Model):
    """The public, coarse time of an event or act: the first days of the earliest and latest
    months the sealed date allows. Enough to count by month; the day stays sealed."""

    month_from = models.DateField(null=True, blank=True, db_index=True)
    month_to = models.DateField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True


# --- Base records ---------------------------------------------------------------------------


class Place(Record):
    PREFIX = "L"
    SCHEMA = schema.PLACE
    PUBLIC = ("kind", "region")

    kind = _term("place-kinds", _("kind"))
    region = _term("regions", _("region"))

    class Meta:
        ordering = ["id"]


class Event(Record, Month):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEWED = "reviewed", _("Reviewed")

    PREFIX = "E"
    SCHEMA = schema.EVENT
    PUBLIC = ("month_from", "month_to", "region", "violation_status", "status", "submission")

    region = _term("regions", _("region"))
    violation_status = _term("violation-status", _("violation status"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The inbox submission this event was promoted from, if any.
    submission = models.ForeignKey(
        "intake.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["region", "month_from"], name="event_region_month"),
            # Every list filters by desk; (desk, term) serves the count and the page in id
            # order, where the desk's own index alone made SQLite read every row.
            models.Index(fields=["desk", "region"], name="event_desk_region"),
        ]


class Person(Record):
    PREFIX = "P"
    SCHEMA = schema.PERSON

    class Meta:
        ordering = ["id"]


class Source(Record):
    PREFIX = "S"
    SCHEMA = schema.SOURCE
    PUBLIC = ("person", "submission")

    # When the source is a person in the database (a victim, a witness, a relative).
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="as_source"
    )
    submission = models.ForeignKey(
        "intake.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]


# --- Links ----------------------------------------------------------------------------------


class Act(Record, Month):
    """What was done to one victim within an event. Cannot exist without both."""

    PREFIX = "A"
    SCHEMA = schema.ACT
    PUBLIC = (
        "event",
        "victim",
        "place",
        "act_type",
        "month_from",
        "month_to",
        "region",
        "victim_status",
    )

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="acts")
    victim = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="acts")
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="acts"
    )
    act_type = _term("act-types", _("type of act"))
    region = _term("regions", _("region"))
    victim_status = _term("victim-status", _("status of the victim at the end"))

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["act_type", "month_from"], name="act_type_month"),
            models.Index(fields=["region", "month_from"], name="act_region_month"),
            models.Index(fields=["desk", "act_type"], name="act_desk_type"),
            models.Index(fields=["desk", "region"], name="act_desk_region"),
            # Events filtered by the type of their acts.
            models.Index(fields=["act_type", "event"], name="act_type_event"),
        ]


class Involvement(Record):
    """A perpetrator's part in an act."""

    PREFIX = "V"
    SCHEMA = schema.INVOLVEMENT
    PUBLIC = ("act", "perpetrator", "perpetrator_type")

    act = models.ForeignKey(Act, on_delete=models.PROTECT, related_name="involvements")
    perpetrator = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="involvements")
    perpetrator_type = _term("perpetrator-types", _("type of perpetrator"))

    class Meta:
        ordering = ["id"]


class Information(Record):
    """Who told us what: a source about an event, a person, or both."""

    PREFIX = "N"
    SCHEMA = schema.INFORMATION
    PUBLIC = ("source", "event", "person")

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="information")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.PROTECT, related_name="information"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="information"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__isnull=False) | models.Q(person__isnull=False),
                name="information_is_about_something",
            ),
        ]


class InformationFile(models.Model):
    """A file of an inbox submission attached as source material. The file stays where the
    intake stored it, encrypted to the intake desk; only the link is new (and audited)."""

    information = models.ForeignKey(Information, on_delete=models.CASCADE, related_name="files")
    attachment = models.ForeignKey("intake.Attachment", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["information", "attachment"], name="unique_information_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.information} file {self.attachment_id}"


class Intervention(Record):
    PREFIX = "I"
    SCHEMA = schema.INTERVENTION
    PUBLIC = ("event", "victim", "party")

    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.PROTECT, related_name="interventions"
    )
    victim = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="interventions"
    )
    # The intervening party, as a person record (an organisation can be one, ESF-style).
    party = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__isnull=False) | models.Q(victim__isnull=False),
                name="intervention_is_about_something",
            ),
        ]


class ChainLink(Record):
    """Chain of events (ESF 22xx): an event that encompasses, caused or followed another."""

    PREFIX = "C"
    SCHEMA = schema.CHAIN
    PUBLIC = ("from_event", "to_event", "chain_type")

    from_event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="chain_out")
    to_event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="chain_in")
    chain_type = _term("chain-types", _("type of chain"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_event=models.F("to_event")), name="chain_not_to_itself"
            ),
            models.UniqueConstraint(fields=["from_event", "to_event"], name="unique_chain_link"),
        ]


class Relationship(Record):
    """Between two persons (ESF biographic details, 23xx): kin, partners, colleagues, and
    relatives or acquaintances who are a danger to the person."""

    PREFIX = "R"
    SCHEMA = schema.RELATIONSHIP
    PUBLIC = ("person", "other")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relationships")
    other = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(person=models.F("other")), name="relationship_not_to_itself"
            ),
        ]


# --- Search and history ---------------------------------------------------------------------


class NameKey(models.Model):
    """Keyed hashes of a person's normalised name forms: exact and folded matches on names
    that exist only encrypted. The key is the desk's; a seized database cannot test a guess."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    digest = models.CharField(max_length=96, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "digest"], name="unique_person_name_key"),
        ]

    def __str__(self) -> str:
        return f"name key of {self.person}"


class ExternalId(models.Model):
    """Keyed hash of the id a source gave a record (``memorial-2017:118``), so that an import
    can refuse a row imported before and acts can point at persons by their source's id."""

    record_type = models.CharField(max_length=20)
    record_pk = models.PositiveBigIntegerField()
    digest = models.CharField(max_length=96)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "digest"], name="unique_external_id"),
        ]
        indexes = [models.Index(fields=["record_type", "record_pk"], name="external_id_record")]

    def __str__(self) -> str:
        return f"source id of {self.record_type} {self.record_pk}"


class Revision(models.Model):
    """One change to a record: who, which day, and the old and new values of each field,
    sealed like the values themselves (identity changes in ``identity``, the rest in
    ``details``), bound to this revision's uid."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record_type = models.CharField(max_length=20)
    record_uid = models.UUIDField(db_index=True)
    actor = models.CharField(max_length=150)
    # The exact time is for researchers' own history, not a reporter's: it stays.
    at = models.DateTimeField()
    action = models.CharField(max_length=10)
    identity = models.BinaryField()
    details = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} of {self.record_type} {self.record_uid} by {self.actor}"


RECORD_TYPES: dict[str, type[Record]] = {
    "event": Event,
    "person": Person,
    "place": Place,
    "source": Source,
    "act": Act,
    "involvement": Involvement,
    "information": Information,
    "intervention": Intervention,
    "chain": ChainLink,
    "relationship": Relationship,
}
