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
    source = models.CharField(max_length=10, choices=Source.choices)
    # Sealed under the case key: the watchlist's reasons name detainees and officers.
    reason = models.BinaryField()
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
