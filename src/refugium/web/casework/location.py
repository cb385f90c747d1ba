"""The location compartment of a case: where the person is, seen by one caseworker at a time
(issue 9, "Location compartment"; research note §6, requirements 3, 4 and 10).

People moved a thousand miles away were seized from safe flats. Whoever can read a case must
not, for that reason alone, be able to read where its person sleeps. So a case's safe-house
address, route, tickets, dates and notes live in a compartment per stage (``safe``, ``exit``,
``relocated``), sealed under the compartment's **own key**, not the case key: a fresh
``DeskKey`` on every fill, wrapped only to the case's logistics owner and to the
organisation's recovery recipient, never to the other assignees and never to the desk.

Decisions:

- **The logistics owner** is the case's earliest assignment with role ``logistics``
  (``cases.assign(..., role="logistics")``). Only the owner fills a compartment; a case with
  none refuses one. ``hand_over`` gives the role to another assignee: the owner unwraps the
  compartment keys and wraps them to the newcomer, and their own wraps are deleted. A wrap
  hangs on the owner's *assignment*, so unassigning the owner or cutting them off
  (``cases.cut_off``) deletes it with the assignment: a detained owner's account opens
  nothing, and the next owner fills the compartment again (a fill never needs the old key).
- **Masked by default.** ``location_view`` decrypts nothing unless the actor is the owner and
  holds an unexpired reveal. ``reveal`` needs a reason (sealed under the case key), lasts at
  most ``MAX_REVEAL_MINUTES``, is refused while a provocation flag is open (a lure must not
  learn the address because a flag was ignored: a second caseworker clears it first), and
  tells a second person at once: another assignee, coordinators first, or else the
  organisation's admins. Nobody to tell, no reveal. Both the reveal and every revealed read
  are in the hash-chained audit log (``casework.reveal``, ``casework.location_view``).
- **Filling, when.** A compartment may be filled while the case is in its stage or in the
  stage before it (a safe flat is found during verification, a route planned while safe).
- **Destroyed when its stage ends.** ``stage_changed`` (called by ``cases.move_stage`` in the
  same transaction) deletes the contents and the key wraps of every compartment of the stage
  the case left, and of any compartment the new stage cannot fill (so closing or rejecting a
  case destroys all). A step back ends a stage too: a failed route's tickets go. The rows are
  deleted, not blanked; SQLite runs with ``secure_delete`` (``core/sqlite.py``), so the bytes
  are overwritten in the database file, and after the commit the write-ahead log is
  checkpointed and truncated (``_scrub_wal``) so no old frame keeps them there either.
- **The tombstone** is the compartment's row, kept: the stage, the day destroyed, the coarse
  region the owner gave (sealed under the case key, shown as ``relocated / REGION``), and the
  SHA-256 of the *ciphertext* destroyed. It lets someone holding an old copy (a backup, an
  export) prove which contents were there, and says nothing by itself. It is never a hash of
  the plaintext: an address is low-entropy, and a hash of "Lenina 12, flat 34" is found by
  hashing every address of a city.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework.stages import ENDS, ORDER
from refugium.crypto import DeskKey, Recipient
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts import services as accounts
from refugium.web.casework import cases, notices
from refugium.web.casework.models import (
    Assignment,
    Case,
    Flag,
    LocationCompartment,
    LocationContent,
    LocationKeyWrap,
    LocationReveal,
    StageChange,
)
from refugium.web.casework.services import NoAccess, Workspace
from refugium.web.core.auditing import record as audit

STAGES: Final[tuple[str, ...]] = ("safe", "exit", "relocated")
FIELDS: Final[tuple[str, ...]] = ("address", "route", "tickets", "dates", "notes")
MASK: Final = "••••••"
DEFAULT_REVEAL_MINUTES: Final = 30
MAX_REVEAL_MINUTES: Final = 120
MAX_FIELD: Final = 2_000
MAX_REGION: Final = 60
MAX_REASON: Final = 1_000


class NotLogisticsOwner(NoAccess):
    """An assignee of the case who is not its logistics owner (they know the case exists)."""

    code = "not_logistics_owner"


# --- Who and when ---------------------------------------------------------------------------


def owner(case: Case) -> Assignment | None:
    """The case's logistics owner: its earliest assignment with role ``logistics``."""
    return (
        Assignment.objects.filter(case=case, role=Assignment.Role.LOGISTICS)
        .select_related("user__account")
        .order_by("pk")
        .first()
    )


def _owned_by_actor(ws: Workspace, case: Case) -> Assignment:
    """Raises:
    BadInput: the case has no logistics owner.
    NotLogisticsOwner: the actor is not it.
    """
    found = owner(case)
    if found is None:
        raise BadInput(
            f"{case.code} has no logistics owner: assign one (role logistics) first; "
            "only they can hold its location"
        )
    if ws.user is None or found.user_id != ws.user.pk:
        raise NotLogisticsOwner(
            f"only the logistics owner of {case.code} ({found.user.username}) holds its location"
        )
    return found


def fillable(stage: str) -> tuple[str, ...]:
    """The compartments a case in ``stage`` may fill: its own stage's and the next one's."""
    if stage in ENDS or stage not in ORDER:
        return ()
    here = ORDER.index(stage)
    return tuple(s for s in ORDER[here : here + 2] if s in STAGES)


def _live(case: Case) -> list[LocationCompartment]:
    return list(
        LocationCompartment.objects.filter(case=case, destroyed_on=None)
        .select_related("content")
        .order_by("pk")
    )


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _scrub_wal() -> None:
    """Checkpoints the write-ahead log into the database and truncates it, so that frames
    still holding deleted ciphertext or key wraps leave the WAL file. Run after the commit
    (a checkpoint cannot take uncommitted frames); if readers hold the log past the busy
    timeout, the next checkpoint does it."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- Filling --------------------------------------------------------------------------------


def _wrap(content: LocationContent, key: DeskKey, holder: Assignment) -> None:
    """Wraps the compartment key to the owner's account and the recovery recipient only."""
    recovery = Recipient.parse(accounts.organisation().recovery_recipient)
    LocationKeyWrap.objects.create(content=content, assignment=None, blob=key.wrap_to(recovery))
    LocationKeyWrap.objects.create(
        content=content,
        assignment=holder,
        blob=key.wrap_to(Recipient.parse(holder.user.account.recipient)),
    )


@sensitive_variables("values", "region", "key", "keys", "texts")
@transaction.atomic
def fill(
    ws: Workspace,
    case: Case,
    stage: str,
    *,
    region: str,
    address: str = "",
    route: str = "",
    tickets: str = "",
    dates: str = "",
    notes: str = "",
    today: date | None = None,
) -> LocationCompartment:
    """Writes the stage's compartment (creating it, or replacing all of its contents) under
    a fresh key wrapped to the actor, who must be the logistics owner, and the recovery
    recipient. ``region`` is coarse (a country, a federal district): it outlives the
    compartment in its tombstone, readable by every assignee. Audited:
    ``casework.location_fill``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: not a location stage, a stage the case cannot fill now, no logistics
            owner, no region, text longer than allowed.
        NotLogisticsOwner: the actor is assigned but not the logistics owner.
    """
    keys = cases._keys(ws, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if stage not in STAGES:
        raise BadInput(f"no location compartment for stage {stage!r}; stages: {', '.join(STAGES)}")
    if stage not in fillable(case.stage):
        raise BadInput(
            f"{case.code} is in stage {case.stage!r}: it can fill "
            f"{', '.join(fillable(case.stage)) or 'no location compartment'}"
        )
    holder = _owned_by_actor(ws, case)
    texts = {"address": address, "route": route, "tickets": tickets, "dates": dates}
    values = {name: cases._text(value, name, MAX_FIELD) for name, value in texts.items()}
    values["notes"] = cases._text(notes, "notes", MAX_FIELD)
    region = cases._text(region, "region", MAX_REGION)
    if not region:
        raise BadInput("a region is needed: a coarse place (a country, a federal district)")
    day = today or timezone.localdate()
    compartment = LocationCompartment.objects.filter(
        case=case, stage=stage, destroyed_on=None
    ).first() or LocationCompartment(case=case, stage=stage)
    compartment.filled_on = day
    compartment.details = cases._seal(keys, compartment, "details", {"region": region})
    compartment.save()
    _delete_contents(compartment)
    key = DeskKey.generate()
    content = LocationContent(compartment=compartment, key_id=key.key_id)
    content.sealed = cases._seal([key], content, "sealed", values)
    content.save()
    _wrap(content, key, holder)
    audit(ws.actor, "casework.location_fill", "case", case.code)
    transaction.on_commit(_scrub_wal)
    return compartment


def _delete_contents(compartment: LocationCompartment) -> str:
    """Deletes the compartment's contents and key wraps (rows, not blanked columns).
    Returns the hex SHA-256 of the ciphertext deleted, or "" if there was none."""
    content = LocationContent.objects.filter(compartment=compartment).first()
    if content is None:
        return ""
    digest = hashlib.sha256(bytes(content.sealed)).hexdigest()
    LocationKeyWrap.objects.filter(content=content).delete()
    content.delete()
    return digest


# --- Handing over ---------------------------------------------------------------------------


@sensitive_variables("key", "keys")
@transaction.atomic
def hand_over(ws: Workspace, case: Case, user: User, *, now: datetime | None = None) -> int:
    """Makes ``user``, an assignee of the case, its logistics owner: each compartment key
    the actor holds is wrapped to them and the actor's wrap deleted; the actor becomes a
    caseworker of the case and any reveal of theirs ends. Returns how many compartments were
    re-wrapped. Audited: ``casework.location_handover``.

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: no logistics owner; ``user`` is the actor, not assigned to the case, or no
            longer an active casework member (a disabled account gets no key).
        NotLogisticsOwner: the actor is not the logistics owner.
    """
    cases._keys(ws, case)
    holder = _owned_by_actor(ws, case)
    assert ws.identity is not None  # _keys refused a workspace without one
    target = Assignment.objects.filter(case=case, user=user).select_related("user__account").first()
    if target is None:
        raise BadInput(f"{user.username!r} is not assigned to {case.code}: assign them first")
    if target.pk == holder.pk:
        raise BadInput(f"{user.username!r} is the logistics owner of {case.code} already")
    cases._active_caseworker(ws, target.user)
    recipient = Recipient.parse(target.user.account.recipient)
    moved = 0
    for wrap in LocationKeyWrap.objects.filter(
        assignment=holder, content__compartment__destroyed_on=None
    ):
        key = DeskKey.unwrap(bytes(wrap.blob), ws.identity)
        LocationKeyWrap.objects.create(
            content_id=wrap.content_id, assignment=target, blob=key.wrap_to(recipient)
        )
        wrap.delete()
        moved += 1
    holder.role = Assignment.Role.CASEWORKER
    holder.save(update_fields=["role"])
    target.role = Assignment.Role.LOGISTICS
    target.save(update_fields=["role"])
    at = _now(now)
    LocationReveal.objects.filter(case=case, user=ws.user, expires_at__gt=at).update(expires_at=at)
    audit(ws.actor, "casework.location_handover", "case", case.code)
    transaction.on_commit(_scrub_wal)
    return moved


# --- Revealing ------------------------------------------------------------------------------


def _witnesses(case: Case, actor: User) -> list[User]:
    """Who is told of a reveal: the case's other coordinators, else its other assignees,
    else the organisation's admins other than the actor (active accounts only)."""
    others = [
        a
        for a in case.assignments.select_related("user").order_by("pk")
        if a.user_id != actor.pk and a.user.is_active
    ]
    coordinators = [a.user for a in others if a.role == Assignment.Role.COORDINATOR]
    if coordinators:
        return coordinators
    if others:
        return [a.user for a in others]
    return list(
        User.objects.filter(is_superuser=True, is_active=True).exclude(pk=actor.pk).order_by("pk")
    )


@sensitive_variables("reason", "keys")
@transaction.atomic
def reveal(
    ws: Workspace,
    case: Case,
    reason: str,
    minutes: int = DEFAULT_REVEAL_MINUTES,
    *,
    now: datetime | None = None,
) -> LocationReveal:
    """Unmasks the case's location for its logistics owner for ``minutes``, with ``reason``
    sealed under the case key, and tells a second person (``_witnesses``) with a notice.
    Audited: ``casework.reveal``. Nothing is written when it is refused.

    Raises:
        NotFound: the actor is not assigned to the case, or it has no live compartment.
        BadInput: no reason, a reason or a duration out of bounds, no logistics owner,
            nobody to tell.
        NotLogisticsOwner: the actor is not the logistics owner.
        Conflict: the case has an open provocation flag.
    """
    keys = cases._keys(ws, case)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise BadInput("a reveal needs a reason: say why the location is needed now")
    if len(reason) > MAX_REASON:
        raise BadInput(f"reason: longer than {MAX_REASON} characters")
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise BadInput("a reveal lasts a whole number of minutes")
    if not 1 <= minutes <= MAX_REVEAL_MINUTES:
        raise BadInput(f"a reveal lasts 1 to {MAX_REVEAL_MINUTES} minutes")
    _owned_by_actor(ws, case)
    if not _live(case):
        raise NotFound(f"{case.code} has no location to reveal")
    open_flags = Flag.objects.filter(case=case, cleared_on=None).count()
    if open_flags:
        raise Conflict(
            f"{case.code} has {open_flags} open provocation flag(s): no reveal until a "
            "second caseworker clears them"
        )
    witnesses = _witnesses(case, ws.user)
    if not witnesses:
        raise BadInput(
            f"nobody else to tell of a reveal of {case.code}: assign a coordinator first"
        )
    at = _now(now)
    row = LocationReveal(
        case=case, user=ws.user, granted_at=at, expires_at=at + timedelta(minutes=minutes)
    )
    row.reason = cases._seal(keys, row, "reason", {"reason": reason})
    row.save()
    notices.notify(
        witnesses,
        "reveal",
        f"{ws.user.username} revealed the location of {case.code} for {minutes} min",
        case=case,
        now=at,
    )
    audit(ws.actor, "casework.reveal", "case", case.code)
    return row


def revealed_until(case: Case, user: User | None, now: datetime | None = None) -> datetime | None:
    """When the user's current reveal of the case ends, or None if none is running."""
    if user is None:
        return None
    return (
        LocationReveal.objects.filter(case=case, user=user, expires_at__gt=_now(now))
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class RevealRecord:
    """One reveal as the case's assignees review it: who, when, for how long, and why."""

    user: str
    granted_at: datetime
    expires_at: datetime
    reason: str = field(repr=False)


@sensitive_variables("keys")
def reveals(ws: Workspace, case: Case) -> list[RevealRecord]:
    """Every reveal of the case's location, oldest first, with its reason opened: so that
    the second person told of a reveal can judge it. For any assignee (the reason is under
    the case key). Audited: ``casework.reveal_log``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        DecryptionFailed: damage, or a reason under a generation the actor lacks.
    """
    keys = cases._keys(ws, case)
    found = [
        RevealRecord(
            user=row.user.username,
            granted_at=row.granted_at,
            expires_at=row.expires_at,
            reason=str(cases._open(keys, row, "reason")["reason"]),
        )
        for row in LocationReveal.objects.filter(case=case).select_related("user").order_by("pk")
    ]
    audit(ws.actor, "casework.reveal_log", "case", case.code)
    return found


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompartmentView:
    """A live compartment: every field is ``MASK`` unless ``masked`` is False. ``held`` is
    False when the owner holds no wrap of its key (the previous owner was cut off): fill it
    again."""

    stage: str
    filled_on: date
    masked: bool
    held: bool
    address: str = field(repr=False)
    route: str = field(repr=False)
    tickets: str = field(repr=False)
    dates: str = field(repr=False)
    notes: str = field(repr=False)
    region: str = field(repr=False)


@dataclass(frozen=True)
class Tombstone:
    """What is left of a destroyed compartment."""

    stage: str
    destroyed_on: date
    region: str
    digest: str

    @property
    def summary(self) -> str:
        return f"relocated / {self.region}"


@dataclass(frozen=True)
class LocationView:
    """A case's location as one assignee may see it now."""

    code: str
    owner: str | None
    is_owner: bool
    revealed_until: datetime | None
    fillable: tuple[str, ...]
    compartments: list[CompartmentView]
    tombstones: list[Tombstone]


def _masked(compartment: LocationCompartment, held: bool) -> CompartmentView:
    return CompartmentView(
        stage=compartment.stage,
        filled_on=compartment.filled_on,
        masked=True,
        held=held,
        **{name: MASK for name in (*FIELDS, "region")},
    )


@sensitive_variables("keys", "key", "values", "region")
def _opened(
    ws: Workspace,
    keys: Sequence[DeskKey],
    compartment: LocationCompartment,
    holder: Assignment,
) -> CompartmentView:
    wrap = LocationKeyWrap.objects.filter(content=compartment.content, assignment=holder).first()
    if wrap is None or ws.identity is None:
        return _masked(compartment, held=False)
    key = DeskKey.unwrap(bytes(wrap.blob), ws.identity)
    values: dict[str, Any] = cases._open([key], compartment.content, "sealed")
    region = cases._open(keys, compartment, "details")["region"]
    return CompartmentView(
        stage=compartment.stage,
        filled_on=compartment.filled_on,
        masked=False,
        held=True,
        region=str(region),
        **{name: str(values.get(name) or "") for name in FIELDS},
    )


@sensitive_variables("keys")
def location_view(ws: Workspace, case: Case | str, *, now: datetime | None = None) -> LocationView:
    """The case's location compartments, masked unless the actor is the logistics owner
    holding an unexpired reveal, and its tombstones (region and hash, for every assignee).
    A revealed read is audited: ``casework.location_view``.

    Raises:
        NotFound: no such case, or the actor is not assigned to it (the same error).
        DecryptionFailed: damage.
    """
    case = cases.get_case(ws, case) if isinstance(case, str) else Case.objects.get(pk=case.pk)
    keys = cases._keys(ws, case)
    holder = owner(case)
    is_owner = holder is not None and ws.user is not None and holder.user_id == ws.user.pk
    until = revealed_until(case, ws.user, now) if is_owner else None
    live = _live(case)
    if holder is not None and until is not None:
        shown = [_opened(ws, keys, c, holder) for c in live]
    else:
        shown = [_masked(c, held=True) for c in live]
    if any(not c.masked for c in shown):
        audit(ws.actor, "casework.location_view", "case", case.code)
    tombstones = [
        Tombstone(
            stage=c.stage,
            destroyed_on=c.destroyed_on,
            region=str(cases._open(keys, c, "details")["region"]),
            digest=c.digest,
        )
        for c in LocationCompartment.objects.filter(case=case, destroyed_on__isnull=False).order_by(
            "pk"
        )
        if c.destroyed_on is not None
    ]
    return LocationView(
        code=case.code,
        owner=holder.user.username if holder is not None else None,
        is_owner=is_owner,
        revealed_until=until,
        fillable=fillable(case.stage) if is_owner else (),
        compartments=shown,
        tombstones=tombstones,
    )


# --- Destruction ----------------------------------------------------------------------------


def stage_changed(case: Case, change: StageChange, actor: str) -> list[LocationCompartment]:
    """Destroys the compartments whose stage ended with ``change``: the stage the case left,
    and any the new stage cannot fill (all of them when the case closes or is rejected).
    Their contents and key wraps are deleted; each row stays as a tombstone (the day, the
    SHA-256 of the ciphertext). Called by ``cases.move_stage`` in its transaction; needs no
    key, so whoever moves the case destroys what the stage held. Audited:
    ``casework.location_destroy`` per compartment.
    """
    keep = fillable(change.to_stage)
    doomed = list(
        LocationCompartment.objects.filter(case=case, destroyed_on=None)
        .filter(Q(stage=change.from_stage) | ~Q(stage__in=keep))
        .order_by("pk")
    )
    for compartment in doomed:
        compartment.digest = _delete_contents(compartment)
        compartment.destroyed_on = change.on
        compartment.save(update_fields=["digest", "destroyed_on"])
        audit(actor, "casework.location_destroy", "case", case.code)
    if doomed:
        transaction.on_commit(_scrub_wal)
    return doomed
