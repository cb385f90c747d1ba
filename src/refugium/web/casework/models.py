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


# --- Cases (issue 9, "Cases" and "Per-case keys") -------------------------------------------
#
# A case's sensitive parts are sealed under the case's own key (``CaseKeyGeneration``), wrapped
# only to the caseworkers assigned to it and to the recovery recipient: not to the whole
# casework desk. Plaintext columns are coded and name no one; see each column's comment.


class Case(models.Model):
    """A sanctuary case, shown by its code (``C-0012``) made from its primary key."""

    PREFIX = "C"

    class Risk(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    # The random value the sealed part is bound to (known before the row is inserted).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    # Coded (refugium.casework.stages): which stage says nothing about who the person is, and
    # the desk must count and sort cases by it without unlocking each one.
    stage = models.CharField(max_length=12, default="request")
    # Coded, for triage across cases; a level names no one.
    risk = models.CharField(max_length=10, choices=Risk.choices)
    # Coded set (NEEDS in cases.py), comma-separated and sorted, for grant reports by need.
    needs = models.CharField(max_length=100, blank=True, default="")
    # A day, not a timestamp (as the watchlist's added_on).
    opened_on = models.DateField()
    # The intake submission the case opened from: both are the organisation's own pseudonymous
    # codes. Which documented Person the case is about is NOT a column: it is sealed.
    submission = models.ForeignKey(
        "intake.Submission", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # JSON under the case key: name as written, contacts, notes, request channel, person code.
    sealed = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.PREFIX}-{self.pk:04d}" if self.pk else f"{self.PREFIX}-new"


class CaseKeyGeneration(models.Model):
    """One case key (an age identity, like a desk's). Unassigning starts a new generation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="generations")
    number = models.PositiveIntegerField()
    recipient = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="unique_case_generation"),
        ]
        ordering = ["case", "number"]

    def __str__(self) -> str:
        return f"{self.case.code} key {self.number}"


class CaseKeyWrap(models.Model):
    """A case key as an age file to one assignee, or (``user`` null) to the recovery
    recipient."""

    generation = models.ForeignKey(
        CaseKeyGeneration, on_delete=models.CASCADE, related_name="wraps"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    blob = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "user"], name="unique_case_wrap"),
            models.UniqueConstraint(
                fields=["generation"],
                condition=models.Q(user__isnull=True),
                name="one_recovery_wrap_per_case_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"wrap of {self.generation} ({'recovery' if self.user_id is None else 'assignee'})"


class Assignment(models.Model):
    """Who works on a case, and as what. Holding wraps of the case key goes with it."""

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", _("Caseworker")
        LOGISTICS = "logistics", _("Logistics")
        COORDINATOR = "coordinator", _("Coordinator")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_assignments"
    )
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.CASEWORKER)
    since = models.DateField()

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="unique_case_assignment"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk} on {self.case.code}"


class Flag(models.Model):
    """A provocation flag on a case: a watchlisted contact, or raised by hand. Open until a
    second caseworker clears it; while open it raises the verification gate's bar."""

    class Source(models.TextChoices):
        WATCHLIST = "watchlist", _("Watchlist match")
        MANUAL = "manual", _("Raised by hand")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    class Sealing(models.TextChoices):
        CASE = "case", _("Sealed under the case key")
        RECIPIENT = "recipient", _("Encrypted to the case key's recipient")

    source = models.CharField(max_length=10, choices=Source.choices)
    # Sealed under the case key: the watchlist's reasons name detainees and officers.
    reason = models.BinaryField()
    # How ``reason`` is sealed. A flag raised when the watchlist grows is raised by whoever
    # listed the contact, who may not hold the case key: it is then an age file to the
    # public recipient of the case key's newest generation (``recheck.py``).
    sealing = models.CharField(max_length=10, choices=Sealing.choices, default=Sealing.CASE)
    raised_on = models.DateField()
    # Who raised it, so that a second caseworker, not the same one, clears it.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"flag {self.pk} on {self.case.code}"


class CaseAttestation(models.Model):
    """A verification signal obtained for a case (``refugium.casework.verification``).

    The signal's id is plaintext: a code of the checklist (``referee``, ``callback``) that
    names no one, and the desk may count how cases were verified. Who obtained it, over which
    channel (often a phone number) and on which day are sealed under the case key.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attestations")
    signal = models.CharField(max_length=20)
    details = models.BinaryField()

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"attestation {self.pk} on {self.case.code}"


class StageChange(models.Model):
    """A recorded move of a case from one stage to another (also in the audit log)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=12)
    to_stage = models.CharField(max_length=12)
    on = models.DateField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case.code}: {self.from_stage} to {self.to_stage}"


# --- Notices (issue 9: reveals notify a second person, check-in alerts, overdue tasks) ------


class Notice(models.Model):
    """Something a caseworker must see: a location revealed on one of their cases, a check-in
    alert at their tier, an overdue task. Shown on the casework desk's page until read.

    In-app only: refugium needs no outside service, and an e-mail or a messenger push leaves
    a copy on a server and a phone the organisation does not control. The text is coded and
    names no one (an account name, a case code, what happened); anything sensitive about it
    stays sealed on the row it points to.
    """

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("Location revealed")
        CHECKIN = "checkin", _("Check-in alert")
        TASK = "task", _("Task overdue")
        FLAG = "flag", _("Provocation flag")
        REFERRAL = "referral", _("Referral")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="casework_notices"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return f"notice {self.pk} ({self.kind})"


# --- Re-checking cases when the watchlist grows (issue 9: "Provocation flags") --------------


class CaseContact(models.Model):
    """A contact of a case as a keyed digest, so that a contact listed on the watchlist after
    the case opened flags it without anyone opening the case (``recheck.py``).

    The digest is of the contact's lookup key under the casework desk's key, with a purpose
    of its own (``recheck.CASE_CONTACT``), not the watchlist's: a seized database cannot
    join these rows to the watchlist by equal digests. It does show that two cases share a
    contact; that is the price of re-checking without keys, and says who neither is.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contact_digests")
    digest = models.CharField(max_length=96, db_index=True)
    # The flag this contact raised, once it matched: a contact flags its case once.
    flag = models.ForeignKey(
        Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"contact digest {self.pk} of {self.case.code}"


class PendingWatch(models.Model):
    """Contacts of a Person the records say was arrested, waiting for a member of the
    casework desk to list them (``recheck.queue_detained`` and ``drain_pending``).

    Whoever records the arrest works on the documentation desk and may not hold the casework
    desk's key, which the watchlist's keyed digests need. So the contacts, the Person's code
    and the act's code travel as one age file to the casework desk's public recipient; the
    next casework workspace opened lists them and deletes the row.
    """

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    blob = models.BinaryField()
    queued_on = models.DateField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending watch {self.pk}"
# --- Location compartment (issue 9: "Location compartment", "Need-to-know reveal") ----------
#
# A case's safe-house address, route, tickets and dates, one compartment per stage, sealed
# under the compartment's own key wrapped only to the case's logistics owner and the recovery
# recipient (``location.py``). The compartment row outlives its contents as a tombstone: when
# its stage ends, the contents and the key's wraps are deleted, and the row keeps the stage,
# the day, the coarse region (sealed under the case key) and a hash of the ciphertext.


class LocationCompartment(models.Model):
    """One stage's location data of a case, and afterwards its tombstone."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="location_compartments")
    # Coded: which stage the data belongs to (safe, exit, relocated) says where in the process
    # the person is, which the case's own stage column says already; it names no place.
    stage = models.CharField(max_length=12)
    # Sealed under the case key: {"region": ...}, the coarse value ("relocated / REGION")
    # that the tombstone keeps. Every assignee of the case may read it once the stage ends.
    details = models.BinaryField()
    # Days, not timestamps: when a safe flat was filled in can be tied to a journey.
    filled_on = models.DateField()
    destroyed_on = models.DateField(null=True, blank=True)
    # Hex SHA-256 of the ciphertext destroyed (not of the plaintext: see location.py).
    digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "stage"],
                condition=models.Q(destroyed_on__isnull=True),
                name="one_live_location_compartment_per_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"location compartment {self.pk} ({self.stage})"


class LocationContent(models.Model):
    """The sealed contents of a live compartment, under the compartment's own key. Deleted
    (with its wraps) when the stage ends; rewritten under a fresh key on every fill."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    compartment = models.OneToOneField(
        LocationCompartment, on_delete=models.CASCADE, related_name="content"
    )
    # Public: names the key the contents are sealed under, as CaseKeyGeneration.key_id.
    key_id = models.CharField(max_length=16)
    # JSON under the compartment key: address, route, tickets, dates, notes.
    sealed = models.BinaryField()

    def __str__(self) -> str:
        return f"contents of {self.compartment}"


class LocationKeyWrap(models.Model):
    """The compartment key as an age file to the logistics owner (through their assignment,
    so that unassigning or cutting them off deletes it) or, ``assignment`` null, to the
    recovery recipient."""

    content = models.ForeignKey(LocationContent, on_delete=models.CASCADE, related_name="wraps")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    blob = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content", "assignment"], name="unique_location_key_wrap"
            ),
            models.UniqueConstraint(
                fields=["content"],
                condition=models.Q(assignment__isnull=True),
                name="one_recovery_wrap_per_location_content",
            ),
        ]

    def __str__(self) -> str:
        return f"wrap of {self.content} ({'recovery' if self.assignment_id is None else 'owner'})"


class LocationReveal(models.Model):
    """A limited-time unmasking of a case's location by its logistics owner."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="location_reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Sealed under the case key: why the location was needed can name places and people.
    reason = models.BinaryField()
    # Timestamps, not days: a reveal lasts minutes, and its end must be exact.
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "id"]
        indexes = [models.Index(fields=["case", "user", "expires_at"], name="reveal_lookup")]

    def __str__(self) -> str:
        return f"reveal {self.pk} on {self.case.code}"


# --- Do-not-disclose list and referrals (issue 9: "Do-not-disclose list", "Referrals") -------
#
# Who must never learn of a case (relatives, named officers, suspected informers), the partner
# organisations a case may be referred to, and each referral: a minimal projection of the case
# encrypted to the partner's age recipient, kept on the server only until it is fetched,
# expires or is revoked. See referrals.py for the decisions.


class DoNotDisclose(models.Model):
    """A party who must never be reached about the case: its name, contacts and note sealed
    under the case key; its keyed digests (``DisclosureDigest``) let a referral, an export or
    a message be checked against it without opening it."""

    class Kind(models.TextChoices):
        RELATIVE = "relative", _("Relative")
        OFFICER = "officer", _("Named officer")
        INFORMER = "informer", _("Suspected informer")
        OTHER = "other", _("Other")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="do_not_disclose")
    # Coded: which kind of party names no one, and a refusal may say which kind matched.
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # JSON under the case key: the name as written, the contacts and kinds, a note.
    sealed = models.BinaryField()
    # A day, not a timestamp (as the watchlist's added_on).
    added_on = models.DateField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"do-not-disclose entry {self.pk} on {self.case.code}"


class DisclosureDigest(models.Model):
    """One keyed digest of a do-not-disclose entry's name or contact, under the case key and
    bound to the case (referrals.py): equal parties on two cases give unequal digests."""

    class What(models.TextChoices):
        NAME = "name", _("Name")
        CONTACT = "contact", _("Contact")

    entry = models.ForeignKey(DoNotDisclose, on_delete=models.CASCADE, related_name="digests")
    # The case again, so that a check is one indexed query per case; it names no one.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    # Coded: a refusal says whether a name or a contact matched, never which entry.
    what = models.CharField(max_length=8, choices=What.choices)
    digest = models.CharField(max_length=96)

    class Meta:
        ordering = ["entry", "id"]
        indexes = [models.Index(fields=["case", "digest"], name="disclosure_case_digest")]

    def __str__(self) -> str:
        return f"digest {self.pk} of do-not-disclose entry {self.entry_id}"


class Partner(models.Model):
    """A partner organisation a case may be referred to, shown by its code (``P-0003``).

    Its name, contacts and age recipient are sealed with the casework desk's field cipher:
    even the public key is sealed, since a partner that publishes it would be named by it.
    """

    PREFIX = "P"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    sealed = models.BinaryField()
    # Coded: a retired partner gets no new referral; its past ones stay on record.
    active = models.BooleanField(default=True)
    added_on = models.DateField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.PREFIX}-{self.pk:04d}" if self.pk else f"{self.PREFIX}-new"


class Referral(models.Model):
    """A referral of a case to a partner, shown by its code (``R-0005``). The encrypted
    projection is a ``ReferralFile`` row, deleted once fetched, expired or revoked."""

    PREFIX = "R"

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for the partner")
        FETCHED = "fetched", _("Fetched by the partner")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    # Coded (FIELDS in referrals.py), comma-separated: what was shared, for the case's record.
    fields = models.CharField(max_length=100)
    # JSON under the case key: the person's consent (how it was given, when, who recorded it).
    details = models.BinaryField()
    # SHA-256 of the one-time token: the partner holds no key of ours, so the fetch looks the
    # token up unkeyed; 256 random bits make that safe. The token itself is never stored.
    token_digest = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.WAITING)
    # Days, not timestamps: expiry is by the day, and the moment of a referral is not needed.
    created_on = models.DateField()
    expires_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.PREFIX}-{self.pk:04d}" if self.pk else f"{self.PREFIX}-new"


class ReferralFile(models.Model):
    """The age file for the partner, while it waits. A row of its own so that ending a
    referral deletes it (SQLite's secure_delete overwrites the freed pages), not blanks it."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="file")
    blob = models.BinaryField()

    def __str__(self) -> str:
        return f"file of referral {self.referral_id}"


# --- Tasks, notes, documents and costs (issue 9: "Tasks with deadlines and overdue escalation;
# encrypted notes; documents from the vault; a small ledger of costs per case") --------------
#
# What a case needs done, what was learnt, which vault documents belong to it, and what it
# cost. The text of each is sealed under the case key (``cases._seal``, column ``details``);
# the plaintext columns are what the server needs without any key: the periodic pass that
# escalates overdue tasks, and a coordinator's grant report.


class Task(models.Model):
    """Something an assignee must do for a case by a day. Escalated by ``tasks.overdue_pass``
    when it is overdue: its owner first, then the case's coordinators."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    # Sealed under the case key: title and details ("buy the ticket Grozny-Moscow for the 4th")
    # say where a person goes and when.
    details = models.BinaryField()
    # A day, plaintext: the escalation pass runs from a timer with no key unlocked and must
    # find overdue tasks. A due day says something must happen, not what.
    due_on = models.DateField()
    # An account, plaintext: the pass notifies the owner without opening the task.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="casework_tasks"
    )
    created_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A day, plaintext: a done task is never escalated, and the pass must know without a key.
    done_on = models.DateField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The last escalation step sent (refugium.casework.tasks: 0 none, 1 owner, 2 coordinators)
    # and when the owner was told: a timestamp, because the coordinators' delay is counted in
    # minutes from it (an hour for a critical case). It records when the pass ran, not what
    # anyone did. Together they make sure no step is ever sent twice.
    escalation = models.PositiveSmallIntegerField(default=0)
    owner_notified_at = models.DateTimeField(null=True, blank=True)
    coordinators_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"], name="task_open_due")]

    def __str__(self) -> str:
        return f"task {self.pk} on {self.case.code}"


class CaseNote(models.Model):
    """A caseworker's note on a case, sealed under the case key; author and day plaintext (an
    account and a day name no one outside the organisation, and show who wrote when)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_notes")
    details = models.BinaryField()
    written_on = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case.code}"


class CaseDocument(models.Model):
    """A document of the evidence vault (an ``evidence.Item`` of the casework desk) attached
    to a case. Which item it is lives in ``details``, sealed under the case key, with the
    caseworker's label: the item's code also appears in the custody log and in export bundles
    handed to courts, and a plaintext column would tie that exhibit to this case. The file
    itself stays in the vault, never copied."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    details = models.BinaryField()
    attached_on = models.DateField()
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"document {self.pk} on {self.case.code}"


class Cost(models.Model):
    """One cost of a case in the ledger, for grant reports.

    Plaintext, so that a coordinator sums them without opening any case: the month, the
    category, the amount (exact integer minor units) and the ISO 4217 currency. A seized
    database therefore shows, per row, "tickets, 12,000.00 RUB, March 2026"; what it does not
    show is *which case* paid it, nor which rows one case paid (no case column: ``case_tag``
    is a keyed hash of the case's uid and the row's uid under the casework desk's key, which
    the server does not hold, so no two rows share it), the day (sealed:
    the day tickets are bought is near the day a person travels), and what it was for
    (sealed: the description names routes, shelters, people). The currency does hint at a
    country, which is why the row must not name its case.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    # KeyedHasher digest of "case uid:row uid" (purpose LEDGER in ledger.py), desk key.
    case_tag = models.CharField(max_length=96)
    # The first day of the month the cost was paid in: all a grant report needs.
    month = models.DateField()
    category = models.CharField(max_length=12)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    # Sealed under the case key: the day, the description, who recorded it.
    details = models.BinaryField()

    class Meta:
        ordering = ["month", "id"]
        indexes = [models.Index(fields=["desk", "month"], name="cost_desk_month")]

    def __str__(self) -> str:
        return f"cost {self.pk}"


# --- Check-ins (issue 9: "Check-ins", a schedule per person in transit or hiding) ----------
#
# The escalation pass runs from cron with no caseworker present and no key unlocked, so what it
# needs is plaintext: when check-ins are due, when they came, which alerts are open at which
# tier. That is coded and names no one. The check-in code and the two agreed answers are never
# stored: the code only as an HMAC under the server's check-in secret, the answers only as
# peppered Argon2id digests (``checkin_store`` says what a seized server can do with them).


class CheckinSchedule(models.Model):
    """How often the person of a case checks in, and who is told first when they do not.

    At most one active schedule per case; a stopped one keeps its check-ins and alerts.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="checkin_schedules")
    # HMAC-SHA-256 of the check-in code under the server's check-in secret: how a check-in
    # finds its schedule with no key unlocked. The code itself is shown once, never stored.
    lookup = models.CharField(max_length=64, unique=True)
    # Argon2id salt of this schedule's answers: one person's digests say nothing of another's.
    salt = models.BinaryField(max_length=16)
    # Peppered Argon2id digests of the normalised answers (``argon2id.v1$`` and hex), never the
    # answers: the pass and the person's page must tell them apart without a caseworker.
    normal_digest = models.CharField(max_length=100)
    duress_digest = models.CharField(max_length=100)
    # Whole minutes: the clock the handler chose (a check-in due this long after the last one,
    # missed this much later still). Minutes name no one.
    every_minutes = models.PositiveIntegerField()
    grace_minutes = models.PositiveIntegerField()
    # Timestamps, not days: the clock runs in minutes, and a due time a day wide is no alarm.
    starts = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Tier 1 of the escalation: an account, not a name.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(active=True),
                name="one_active_checkin_schedule_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"check-in schedule {self.pk}"


class CheckinEntry(models.Model):
    """A check-in the server received, and whether it restarts the clock.

    Neither what was typed nor its digest is kept, and not whether it was the duress answer
    (that is on the alert it raised): only whether it counts (a normal or duress answer) or
    not (a wrong answer, which may be a captor's guess).
    """

    schedule = models.ForeignKey(CheckinSchedule, on_delete=models.CASCADE, related_name="entries")
    # A timestamp: the next check-in is due ``every`` after it.
    at = models.DateTimeField()
    counts = models.BooleanField()

    class Meta:
        ordering = ["schedule", "at", "id"]
        indexes = [models.Index(fields=["schedule", "counts", "at"], name="checkin_entry_clock")]

    def __str__(self) -> str:
        return f"check-in {self.pk}"


class CheckinAlert(models.Model):
    """An alert about a person's check-ins (``refugium.casework.checkins.Escalation``): why,
    the tier it reached, who acknowledged and who resolved it. Its number is its key."""

    class Reason(models.TextChoices):
        MISSED = "missed", _("Check-in missed")
        DURESS = "duress", _("Duress answer")
        UNKNOWN = "unknown", _("Wrong answer")

    schedule = models.ForeignKey(CheckinSchedule, on_delete=models.CASCADE, related_name="alerts")
    # Coded: what a handler must do differs (reach the person, or assume the phone is held).
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # The due time missed, or when the duress or wrong answer came: with the schedule and the
    # reason it identifies the alert, so no pass raises it twice.
    due_since = models.DateTimeField()
    # Opened: when, and at which tier (the alert's own tier, before it climbed).
    raised_at = models.DateTimeField()
    raised_tier = models.PositiveSmallIntegerField()
    # Where it stands: the tier reached, since when, and the latest notification.
    tier = models.PositiveSmallIntegerField()
    tier_since = models.DateTimeField()
    notified_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "reason", "due_since"], name="unique_checkin_alert"
            ),
        ]
        indexes = [models.Index(fields=["resolved_at"], name="checkin_alert_open")]

    def __str__(self) -> str:
        return f"check-in alert {self.pk}"
