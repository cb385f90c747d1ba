"""Check-ins wired to the database: enrolment, the person's answers, the escalation pass,
acknowledging and resolving alerts (issue 9, "Check-ins").

The decisions about the clock, the tiers and the answers are the pure engine's
(``refugium.casework.checkins``); this module stores its inputs, carries out the actions it
returns and tells people. What it adds, and why:

* **No key is unlocked when an answer comes or the pass runs.** The person's page is
  public and the pass runs from cron, with no caseworker signed in, so neither can use a case
  key or the desk's keys. Both use a **server-held secret** instead, 32 random bytes in
  ``keys/checkin-secret`` of the data folder (beside the log-signing key, and for the same
  reason: the server acts for itself), created at first use:

  - the **check-in code** (16 random digits, shown once at enrolment, typed by the person
    with the answer; digits, because a person with a Russian keyboard should not have to
    switch layouts under stress) is stored only as HMAC-SHA-256 under the secret, so that a
    check-in finds its schedule by one indexed look-up;
  - each **answer** is stored only as an Argon2id digest (``crypto.kdf.derive_key``, the
    project's one Argon2id, at the configured profile) of HMAC-SHA-256(secret, answer) with a
    random salt per schedule: the secret is the pepper.

  **What a seized server gives away.** With the database alone: which cases have schedules,
  when check-ins came and whether each counted, the alerts with their reasons and tiers, and
  who acknowledged them, but neither code nor answer, and no way to test a guess. With the
  data folder's secret as well (a whole-disk seizure): a guess at a person's answers can be
  tested offline, one Argon2id run per guess per schedule, so short or guessable answers
  (a PIN) fall and two ordinary words hold longer; and the codes could be recovered by
  trying all 10^16 of them. Nothing here lets a seizer read a case: its content is sealed
  under case keys the server does not hold. Answers are agreed to be forgettable by an
  adversary who holds the person anyway; they guard the phone, not the server.

* **Every reply is the same.** :func:`receive` returns nothing and the page shows one reply
  for a normal answer, a duress answer, a wrong answer and an unknown code. Each well-formed
  check-in runs Argon2id exactly once, a dummy run for an unknown code, so the time taken
  says little either.
* **A duress or wrong answer is acted on at once**: :func:`receive` runs the engine's pass
  for that person in the same transaction, so a duress alert reaches the top tier before the
  reply is sent, not at the next tick.
* **Who is told at each tier** (the tier's ``role`` in ``data/escalation.toml``):
  ``handler`` is the schedule's handler (if no longer active or assigned, every assignee of
  the case); ``coordinator`` is the case's coordinators (``Assignment`` role coordinator) and
  the organisation's admins; ``partner``, and any role this module does not know, is every
  coordinator of any case and every admin, and the ``refugium checkins run`` command prints
  the action for the operator, whose instructions (docs/casework.md) say whom at the partner
  organisation to call. Notices are in-app (``notices.notify``, kind ``checkin``) and name
  only the case code, the alert's number, its reason and its tier.
* **Idempotent.** The engine's limits are strict and every action is stored with the time it
  was taken, so a second pass at the same ``now`` finds nothing to do; a unique constraint on
  (schedule, reason, due time) keeps a pass and a check-in racing from raising one alert twice.
* **Audited**, with the case's code only: ``casework.checkin_enrol``, ``checkin_stop``,
  ``checkin_alert`` (raised), ``checkin_escalate``, ``checkin_renotify``, ``checkin_ack``,
  ``checkin_resolve``. The actor of what the server does by itself is ``system``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework.checkins import (
    MAX_ANSWER_LENGTH,
    Action,
    Alert,
    CheckIn,
    Digest,
    Escalate,
    Escalation,
    Raise,
    Renotify,
    Schedule,
    Tiers,
    Watch,
    apply,
    classify_answer,
    enrol_answers,
    escalation_pass,
    load_tiers,
    normalise_answer,
)
from refugium.crypto import Argon2Profile, derive_key, profile_by_name
from refugium.datadir import DataDir
from refugium.durable import fsync_dir
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.casework import cases, notices
from refugium.web.casework.models import (
    Assignment,
    Case,
    CheckinAlert,
    CheckinEntry,
    CheckinSchedule,
)
from refugium.web.casework.services import Workspace
from refugium.web.core.auditing import record as audit

logger = logging.getLogger(__name__)

SYSTEM: Final = "system"
SECRET_BYTES: Final = 32
CODE_DIGITS: Final = 16
SALT_BYTES: Final = 16
DIGEST_TAG: Final = "argon2id.v1$"
# The purposes of the two uses of the secret, so that one can never stand for the other.
_CODE_PURPOSE: Final = b"refugium.checkin-code.v1\x00"
_ANSWER_PURPOSE: Final = b"refugium.checkin-answer.v1\x00"
_DUMMY_SALT: Final = b"refugium.checkin.dummy-salt"
# An answer typed on a phone: anything longer is refused before it is normalised or hashed.
MAX_ANSWER_INPUT: Final = 4 * MAX_ANSWER_LENGTH
MIN_EVERY: Final = timedelta(minutes=5)
MAX_EVERY: Final = timedelta(days=31)
MAX_GRACE: Final = timedelta(days=7)


# --- The server's check-in secret -----------------------------------------------------------


def secret_path(data: DataDir | None = None) -> Path:
    return (data or settings.DATA).checkin_secret


@sensitive_variables("raw", "secret")
def server_secret(data: DataDir | None = None) -> bytes:
    """The server's check-in secret, created (0600, atomically, exclusively) at first use.

    Never silently replaced: a new secret would turn every enrolled code into an unknown one,
    and every person's next check-in into silence.

    Raises:
        BadInput: the file exists but is not a secret this module wrote (damaged or edited).
        OSError: it cannot be read or created.
    """
    path = secret_path(data)
    try:
        raw = path.read_text("ascii").strip()
    except FileNotFoundError:
        _create_secret(path)
        raw = path.read_text("ascii").strip()
    except UnicodeDecodeError:
        raw = ""
    try:
        secret = bytes.fromhex(raw)
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise BadInput(
            f"{path.name} in the data folder is damaged; restore it from the backup "
            "(a new one would make every check-in code unknown)"
        )
    return secret


def _create_secret(path: Path) -> None:
    """Writes a fresh secret to a temporary file, fsyncs it and links it into place, which
    fails if another process created it first (then theirs is kept)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (secrets.token_bytes(SECRET_BYTES).hex() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


# --- Codes and answers ----------------------------------------------------------------------


_CODE_SEPARATORS = re.compile(r"[\s\-‐-―.]+")


def normalise_code(text: str) -> str:
    """The 16 digits of a check-in code as typed: spaces, dashes and dots dropped,
    full-width digits read as ASCII (NFKC).

    Raises:
        BadInput: not 16 digits once those are dropped.
    """
    folded = unicodedata.normalize("NFKC", text or "")[:64]
    digits = _CODE_SEPARATORS.sub("", folded)
    if len(digits) != CODE_DIGITS or not (digits.isascii() and digits.isdigit()):
        raise BadInput(f"a check-in code is {CODE_DIGITS} digits")
    return digits


def format_code(digits: str) -> str:
    """``1234 5678 9012 3456``: how the code is shown, in groups a person can copy."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


@sensitive_variables("code", "secret")
def _lookup(secret: bytes, code: str) -> str:
    return hmac.new(secret, _CODE_PURPOSE + code.encode("ascii"), hashlib.sha256).hexdigest()


def _profile() -> Argon2Profile:
    return profile_by_name(settings.REFUGIUM_ARGON2_PROFILE)


def _answer_digest(secret: bytes, salt: bytes) -> Digest:
    """The engine's ``Digest`` for one schedule: Argon2id of the answer peppered with the
    server's secret, under the schedule's salt."""
    profile = _profile()

    @sensitive_variables("form", "peppered")
    def digest(form: str) -> str:
        peppered = hmac.new(secret, _ANSWER_PURPOSE + form.encode("utf-8"), hashlib.sha256)
        return DIGEST_TAG + derive_key(peppered.digest(), salt, profile).hex()

    return digest


def _check_answer_input(answer: str) -> None:
    """Raises:
    BadInput: nothing that could be an answer (empty once normalised), or far too long.
    """
    if not isinstance(answer, str) or len(answer) > MAX_ANSWER_INPUT:
        raise BadInput(f"an answer is at most {MAX_ANSWER_LENGTH} letters or digits")
    if not normalise_answer(answer):
        raise BadInput("an answer needs letters or digits")


# --- Enrolment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    """A new schedule and its check-in code, which exists nowhere else: show it once."""

    schedule: CheckinSchedule
    code: str = field(repr=False)


def _minutes(value: timedelta, label: str, low: timedelta, high: timedelta) -> int:
    if not isinstance(value, timedelta) or value % timedelta(minutes=1):
        raise BadInput(f"{label} must be a whole number of minutes")
    if not low <= value <= high:
        raise BadInput(f"{label} must be from {_span(low)} to {_span(high)}")
    return int(value // timedelta(minutes=1))


def _span(value: timedelta) -> str:
    minutes = int(value // timedelta(minutes=1))
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440} days"
    return f"{minutes} minutes"


def _now(now: datetime | None) -> datetime:
    at = now or timezone.now()
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadInput("a time needs a time zone, e.g. 2017-04-02T09:30:00+00:00")
    return at.astimezone(UTC)


def _assigned(case: Case) -> list[User]:
    return [a.user for a in Assignment.objects.filter(case=case).select_related("user")]


@sensitive_variables("normal_answer", "duress_answer", "code", "secret", "digest")
@transaction.atomic
def enrol(
    ws: Workspace,
    case: Case,
    every: timedelta,
    grace: timedelta,
    normal_answer: str,
    duress_answer: str,
    *,
    handler: User | None = None,
    now: datetime | None = None,
) -> Enrolled:
    """Starts check-ins for the case's person: the first is due ``every`` from ``now``.

    The handler (tier 1; default the actor) must be assigned to the case. Returns the
    check-in code, stored nowhere: the caseworker gives it to the person with the agreed
    answers, over a channel known before. Audited: ``casework.checkin_enrol``.

    Raises:
        NotFound: no such case, or the actor is not assigned to it (the same error).
        BadInput: a period or grace out of range, an answer empty or too long, the two
            answers alike (the message never repeats them), a handler not assigned.
        Conflict: the case has an active schedule already (stop it first).
    """
    cases._keys(ws, case)
    at = _now(now)
    every_minutes = _minutes(every, "the check-in period", MIN_EVERY, MAX_EVERY)
    grace_minutes = _minutes(grace, "the grace period", timedelta(0), MAX_GRACE)
    chosen = handler or ws.user
    if chosen is None or not Assignment.objects.filter(case=case, user=chosen).exists():
        raise BadInput("the handler must be assigned to the case")
    if CheckinSchedule.objects.filter(case=case, active=True).exists():
        raise Conflict(f"{case.code} has check-ins already; stop them before enrolling again")
    secret = server_secret()
    salt = secrets.token_bytes(SALT_BYTES)
    normal, duress = enrol_answers(normal_answer, duress_answer, _answer_digest(secret, salt))
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        lookup = _lookup(secret, code)
        if not CheckinSchedule.objects.filter(lookup=lookup).exists():
            break
    schedule = CheckinSchedule.objects.create(
        case=case,
        lookup=lookup,
        salt=salt,
        normal_digest=normal,
        duress_digest=duress,
        every_minutes=every_minutes,
        grace_minutes=grace_minutes,
        starts=at,
        handler=chosen,
    )
    audit(ws.actor, "casework.checkin_enrol", "case", case.code)
    return Enrolled(schedule=schedule, code=format_code(code))


@transaction.atomic
def stop(ws: Workspace, case: Case, *, now: datetime | None = None) -> CheckinSchedule:
    """Ends the case's check-ins (the person is safe, or the code was compromised): no
    check-in is due after ``now`` and the code stops being recognised. Open alerts stay open
    until resolved. Audited: ``casework.checkin_stop``.

    Raises:
        NotFound: the actor is not assigned to the case, or it has no active schedule.
    """
    cases._keys(ws, case)
    schedule = CheckinSchedule.objects.select_for_update().filter(case=case, active=True).first()
    if schedule is None:
        raise NotFound(f"{case.code} has no check-ins")
    schedule.active = False
    schedule.ended_at = max(_now(now), schedule.starts + timedelta(microseconds=1))
    schedule.save(update_fields=["active", "ended_at"])
    audit(ws.actor, "casework.checkin_stop", "case", case.code)
    return schedule


# --- The person's check-in ------------------------------------------------------------------


@sensitive_variables("code", "answer", "secret", "digits", "lookup")
def receive(code: str, answer: str, *, now: datetime | None = None) -> None:
    """Records a check-in from the person's page and acts on it at once. Returns nothing, on
    purpose: the reply must be the same for every outcome (module docstring).

    Raises:
        BadInput: the code is not 16 digits, or the answer is empty or far too long (the
            form says so before anything is looked up; the same for every code).
    """
    digits = normalise_code(code)
    _check_answer_input(answer)
    at = _now(now)
    secret = server_secret()
    lookup = _lookup(secret, digits)
    tiers = load_tiers()
    with transaction.atomic():
        schedule = (
            CheckinSchedule.objects.select_for_update()
            .select_related("case", "handler")
            .filter(lookup=lookup, active=True)
            .first()
        )
        if schedule is None:
            # The same Argon2id cost as a real check, so the time taken does not tell.
            _answer_digest(secret, _DUMMY_SALT)(normalise_answer(answer))
            return
        digest = _answer_digest(secret, bytes(schedule.salt))
        verdict = classify_answer(answer, schedule.normal_digest, schedule.duress_digest, digest)
        check_in = CheckIn(at=at, answer=verdict)
        CheckinEntry.objects.create(schedule=schedule, at=at, counts=check_in.counts)
        for done in _pass_one(schedule, at, tiers, extra=(check_in,)):
            logger.warning("check-in: %s", done.line())


# --- The escalation pass --------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """One action a pass carried out, as the operator's line shows it: codes and tiers."""

    kind: str  # raised, escalated, renotified
    alert: int
    case: str
    reason: str
    tier: int
    role: str
    from_tier: int | None = None

    def line(self) -> str:
        where = f"tier {self.tier} ({self.role})"
        if self.kind == "raised":
            what = f"raised at {where}"
        elif self.kind == "escalated":
            what = f"escalated from tier {self.from_tier} to {where}"
        else:
            what = f"notified again at {where}"
        return f"{self.case}: check-in alert {self.alert} ({self.reason}) {what}"


def run_pass(now: datetime | None = None, *, tiers: Tiers | None = None) -> list[Done]:
    """The escalation pass over every schedule that is active or has an open alert, each
    person in a transaction of their own (one person's failure does not hold back the
    others' alerts). Needs no key. Safe to run twice at the same ``now``.

    Raises:
        BadInput: a ``now`` without a time zone; escalation tiers that break their rules.
    """
    at = _now(now)
    tiers = tiers or load_tiers()
    done: list[Done] = []
    pks = (
        CheckinSchedule.objects.filter(
            Q(active=True) | Q(alerts__pk__isnull=False, alerts__resolved_at__isnull=True)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    for pk in list(pks):
        with transaction.atomic():
            schedule = (
                CheckinSchedule.objects.select_for_update()
                .select_related("case", "handler")
                .get(pk=pk)
            )
            done.extend(_pass_one(schedule, at, tiers))
    return done


def _schedule(row: CheckinSchedule) -> Schedule:
    return Schedule(
        every=timedelta(minutes=row.every_minutes),
        grace=timedelta(minutes=row.grace_minutes),
        starts=row.starts,
        ends=row.ended_at,
    )


def _escalation(row: CheckinAlert, case_ref: str) -> Escalation:
    alert = Alert(case_ref, row.raised_tier, row.raised_at, row.reason, row.due_since)  # type: ignore[arg-type]
    return Escalation(
        alert,
        tier=row.tier,
        tier_since=row.tier_since,
        notified_at=row.notified_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by.username if row.acknowledged_by else None,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by.username if row.resolved_by else None,
    )


_Known = dict[tuple[str, str, datetime], tuple[CheckinAlert, Escalation]]


def _watch(schedule: CheckinSchedule, extra: Sequence[CheckIn]) -> tuple[Watch, _Known]:
    """What the engine needs of one person (``Watch``'s contract): the latest counting
    check-in and every one after it (stored ones that did not count as wrong answers, whose
    alerts exist), every open alert and every resolved one since that check-in."""
    entries = schedule.entries.all()
    last = entries.filter(counts=True).order_by("-at").first()
    since = last.at if last is not None else None
    recent = entries.filter(at__gte=since) if since is not None else entries
    check_ins = [CheckIn(at=e.at, answer="ok" if e.counts else "unknown") for e in recent]
    rows = schedule.alerts.select_related("acknowledged_by", "resolved_by")
    if since is not None:
        rows = rows.filter(Q(resolved_at=None) | Q(due_since__gte=since))
    code = schedule.case.code
    by_key: _Known = {}
    for row in rows:
        escalation = _escalation(row, code)
        by_key[escalation.alert.key] = (row, escalation)
    check_ins = [c for c in check_ins if all(c.at != x.at for x in extra)] + list(extra)
    watch = Watch(
        case_ref=code,
        schedule=_schedule(schedule),
        check_ins=tuple(check_ins),
        escalations=tuple(e for _row, e in by_key.values()),
    )
    return watch, by_key


def _pass_one(
    schedule: CheckinSchedule, now: datetime, tiers: Tiers, *, extra: Sequence[CheckIn] = ()
) -> list[Done]:
    """The engine's pass for one person, its actions stored, audited and notified, in the
    caller's transaction."""
    watch, by_key = _watch(schedule, extra)
    done = []
    for action in escalation_pass([watch], now, tiers):
        known = by_key.get(action.alert.key)
        row, before = known if known is not None else (None, None)
        after = apply(before, action)
        row = _store(schedule, row, after)
        by_key[after.alert.key] = (row, after)
        done.append(_tell(schedule, row, action, tiers, now))
    return done


def _store(schedule: CheckinSchedule, row: CheckinAlert | None, state: Escalation) -> CheckinAlert:
    if row is None:
        # The schedule's row is locked (and SQLite's transactions are IMMEDIATE), so no
        # check-in or pass raises this alert meanwhile; the unique constraint is the backstop.
        return CheckinAlert.objects.create(
            schedule=schedule,
            reason=state.alert.reason,
            due_since=state.alert.due_since,
            raised_at=state.alert.raised_at,
            raised_tier=state.alert.tier,
            tier=state.tier,
            tier_since=state.tier_since,
            notified_at=state.notified_at,
        )
    row.tier = state.tier
    row.tier_since = state.tier_since
    row.notified_at = state.notified_at
    row.save(update_fields=["tier", "tier_since", "notified_at"])
    return row


_AUDIT = {Raise: "casework.checkin_alert", Escalate: "casework.checkin_escalate"}


def _tell(
    schedule: CheckinSchedule, row: CheckinAlert, action: Action, tiers: Tiers, now: datetime
) -> Done:
    # An alert may stand above the top tier if the ladder was shortened since (the engine
    # treats it as the top).
    role = tiers[min(action.tier, tiers.top)].role
    case = schedule.case
    audit(SYSTEM, _AUDIT.get(type(action), "casework.checkin_renotify"), "case", case.code)
    kind = {Raise: "raised", Escalate: "escalated", Renotify: "renotified"}[type(action)]
    done = Done(
        kind=kind,
        alert=row.pk,
        case=case.code,
        reason=row.reason,
        tier=action.tier,
        role=role,
        from_tier=action.from_tier if isinstance(action, Escalate) else None,
    )
    notices.notify(recipients(schedule, role), "checkin", done.line(), case=case, now=now)
    return done


def recipients(schedule: CheckinSchedule, role: str) -> list[User]:
    """Who a tier's notices go to (module docstring): active accounts only."""
    case = schedule.case
    if role == "handler":
        handler = schedule.handler
        if handler.is_active and Assignment.objects.filter(case=case, user=handler).exists():
            return [handler]
        return [u for u in _assigned(case) if u.is_active]
    admins = User.objects.filter(is_active=True, is_superuser=True)
    coordinators = Assignment.objects.filter(role=Assignment.Role.COORDINATOR, user__is_active=True)
    if role == "coordinator":
        coordinators = coordinators.filter(case=case)
    people = {u.pk: u for u in admins}
    people.update({a.user.pk: a.user for a in coordinators.select_related("user")})
    return [people[pk] for pk in sorted(people)]


# --- Acknowledging and resolving ------------------------------------------------------------


def _alert_for(ws: Workspace, number: int) -> CheckinAlert:
    """The alert, for an assignee of its case or a coordinator; the same ``NotFound`` for
    anyone else as for an alert that does not exist.

    Raises:
        NotFound: as said.
    """
    missing = NotFound(f"no check-in alert {number}")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise missing
    row = (
        CheckinAlert.objects.select_for_update()
        .select_related("schedule__case", "acknowledged_by", "resolved_by")
        .filter(pk=number, schedule__case__desk=ws.desk)
        .first()
    )
    if row is None:
        raise missing
    if not cases.is_coordinator(ws.user):
        try:
            cases._keys(ws, row.schedule.case)
        except NotFound:
            raise missing from None
    return row


def _step(ws: Workspace, number: int, now: datetime | None, step: str) -> CheckinAlert:
    row = _alert_for(ws, number)
    at = _now(now)
    state = _escalation(row, row.schedule.case.code)
    try:
        changed = getattr(state, step)(ws.actor, at)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if step == "acknowledge":
        row.acknowledged_by, row.acknowledged_at = ws.user, changed.acknowledged_at
        row.save(update_fields=["acknowledged_by", "acknowledged_at"])
    else:
        row.resolved_by, row.resolved_at = ws.user, changed.resolved_at
        row.save(update_fields=["resolved_by", "resolved_at"])
    return row


@transaction.atomic
def acknowledge(ws: Workspace, number: int, *, now: datetime | None = None) -> CheckinAlert:
    """Someone is acting on the alert: it stops climbing (but is re-notified at its tier
    until resolved). Audited: ``casework.checkin_ack``.

    Raises:
        NotFound: no such alert, or the actor is neither assigned to its case nor a
            coordinator (the same error).
        Conflict: acknowledged already.
    """
    row = _step(ws, number, now, "acknowledge")
    audit(ws.actor, "casework.checkin_ack", "case", row.schedule.case.code)
    return row


@transaction.atomic
def resolve(ws: Workspace, number: int, *, now: datetime | None = None) -> CheckinAlert:
    """The person was reached on a channel known before, and what happened is known: the
    alert ends. For a missed check-in, the clock restarts from now (the engine's rule).
    Audited: ``casework.checkin_resolve``.

    Raises:
        NotFound: as for :func:`acknowledge`.
        Conflict: not acknowledged yet, or resolved already.
        BadInput: a time before the acknowledgement.
    """
    row = _step(ws, number, now, "resolve")
    audit(ws.actor, "casework.checkin_resolve", "case", row.schedule.case.code)
    return row


def open_alerts(ws: Workspace) -> list[CheckinAlert]:
    """The open alerts the actor may act on (assigned cases; every case for a
    coordinator), oldest first. Reads nothing sealed."""
    rows = CheckinAlert.objects.filter(resolved_at=None, schedule__case__desk=ws.desk)
    if not cases.is_coordinator(ws.user):
        rows = rows.filter(schedule__case__assignments__user=ws.user)
    return list(rows.select_related("schedule__case").order_by("pk").distinct())
