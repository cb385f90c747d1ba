"""Sanctuary cases: per-case keys, assignment, cut-off, stages and the verification gate.

Issue 9 asks that a case's sensitive parts be readable only by the caseworkers assigned to it,
not by the whole casework desk: a detained caseworker's account, or a colleague who does not
need to know, must not open a case they do not work on. So each case has its own key, a
``DeskKey`` (a case is a compartment; the key material, the wrapping to age recipients and
the HKDF-derived field key are exactly a desk's), kept as ``CaseKeyGeneration`` rows and
wrapped (``CaseKeyWrap``) only to the assignees' account recipients and to the organisation's
recovery recipient, as ``accounts.services`` does for desks.

Decisions:

- **Assigning wraps every generation the assigning caseworker holds**, not only the newest:
  a caseworker taking a case over must read its history (who vouched, which channels are
  known, what was flagged) to keep the person safe; need-to-know is per case, not per period.
- **Unassigning deletes the user's wraps and starts a new generation** wrapped to the
  remaining assignees: data written from then on is sealed under a key the user never held.
  What they could read before they may have copied; remaining assignees keep reading old data
  through their wraps of old generations. Unwrapping is not needed to rotate (wrapping takes
  only public recipients), so a coordinator can cut a caseworker off without opening a case.
- **A coordinator** is an organisation admin or an account assigned to some case as
  ``coordinator``. Any coordinator can ``cut_off`` a detained caseworker: every case they were
  assigned to is unassigned with rotation, and their casework desk membership is revoked
  through ``accounts.services.revoke`` (which also rotates the desk key and ends their
  sessions). A case left with no assignee is readable through the recovery wrap only.
- **Not assigned is not found**: ``open_case_view`` and every function that needs the case
  key raise the same ``NotFound`` ("no case 'C-0007'") for an existing case the actor is not
  assigned to as for a case that does not exist.
- **Plaintext columns** are coded and name no one (``stage``, ``risk``, ``needs``, the day it
  opened, the intake submission's code, a checklist signal's id); who the person is, which
  documented Person they are, their contacts, the request channel, flag reasons and the
  details of attestations are sealed under the case key, padded to 64 bytes, bound to the
  table, the row's uid and the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from refugium.casework import lookup_key
from refugium.casework.stages import FIRST, check_transition
from refugium.casework.verification import Attestation, channel_key, checklist, gate
from refugium.crypto import DecryptionFailed, DeskKey, Recipient
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Membership
from refugium.web.casework import location, recheck, services
from refugium.web.casework.models import (
    Assignment,
    Case,
    CaseAttestation,
    CaseKeyGeneration,
    CaseKeyWrap,
    Flag,
    StageChange,
)
from refugium.web.casework.services import NoAccess, Workspace
from refugium.web.core.auditing import record as audit
from refugium.web.records.sealing import Sealer

NEEDS = ("shelter", "travel", "documents", "medical", "psychological", "legal", "money")
RISKS = tuple(Case.Risk.values)
ROLES = tuple(Assignment.Role.values)
MAX_NAME = 200
MAX_NOTES = 10_000
MAX_CONTACTS = 50


class GateClosed(BadInput):
    """A gated stage without enough independent verification (the message says what)."""

    code = "gate_closed"


# --- Finding a case -------------------------------------------------------------------------


def _canonical_code(code: str) -> tuple[str, int | None]:
    number = code.strip().upper().removeprefix(f"{Case.PREFIX}-")
    if not number.isdigit() or len(number) > 12:
        return code.strip()[:20], None
    return f"{Case.PREFIX}-{int(number):04d}", int(number)


def _no_case(code: str) -> NotFound:
    # One message for a missing case and one the actor is not assigned to: an unassigned
    # caseworker must not learn that the case exists.
    return NotFound(f"no case {code!r}")


def get_case(ws: Workspace, code: str) -> Case:
    """The desk's case by its code (``C-0012``) or number, for an assignee or a coordinator
    (who may unassign from a case they cannot read); callers that show anything go through
    ``_held`` too.

    Raises:
        NotFound: no such case on this desk, or the actor is neither assigned to it nor a
            coordinator (the same error, after the same queries).
    """
    shown, number = _canonical_code(code)
    # The same three look-ups whether or not the case exists, and a refusal right here: a
    # caseworker probing codes must not tell "exists, not mine" from "missing" by how long
    # the 404 takes (the unassigned path used to go on to read assignments and wraps, the
    # missing one stopped here). Number 0 is never a case (ids start at 1).
    found = Case.objects.filter(desk=ws.desk, pk=number or 0).first()
    assigned = Assignment.objects.filter(case_id=number or 0, user=ws.user).exists()
    allowed = assigned or is_coordinator(ws.user)
    if found is None or not allowed:
        raise _no_case(shown)
    return found


def _held(ws: Workspace, case: Case) -> list[tuple[CaseKeyGeneration, DeskKey]]:
    """The generations of the case key the actor holds, newest first, unwrapped with the
    actor's identity.

    Raises:
        NotFound: the actor is not assigned, or holds no wrap of the newest generation.
        DecryptionFailed: a wrap to the actor does not open (damage).
    """
    if ws.user is None or ws.identity is None:
        raise _no_case(case.code)
    if not Assignment.objects.filter(case=case, user=ws.user).exists():
        raise _no_case(case.code)
    wraps = list(
        CaseKeyWrap.objects.filter(generation__case=case, user=ws.user)
        .select_related("generation")
        .order_by("-generation__number")
    )
    newest = case.generations.order_by("-number").values_list("pk", flat=True).first()
    if not wraps or wraps[0].generation_id != newest:
        raise _no_case(case.code)
    return [(w.generation, DeskKey.unwrap(bytes(w.blob), ws.identity)) for w in wraps]


def _keys(ws: Workspace, case: Case) -> list[DeskKey]:
    return [key for _generation, key in _held(ws, case)]


# --- Keys -----------------------------------------------------------------------------------


def _recipient_of(user: User) -> Recipient:
    return Recipient.parse(user.account.recipient)


def _new_generation(case: Case, users: Sequence[User]) -> tuple[CaseKeyGeneration, DeskKey]:
    """A fresh case key wrapped to ``users`` and the recovery recipient only (public keys
    only: no unlocked key is needed to rotate)."""
    key = DeskKey.generate()
    last = case.generations.order_by("-number").values_list("number", flat=True).first() or 0
    generation = CaseKeyGeneration.objects.create(
        case=case, number=last + 1, recipient=str(key.recipient), key_id=key.key_id
    )
    recovery = Recipient.parse(accounts.organisation().recovery_recipient)
    CaseKeyWrap.objects.create(generation=generation, user=None, blob=key.wrap_to(recovery))
    for user in users:
        CaseKeyWrap.objects.create(
            generation=generation, user=user, blob=key.wrap_to(_recipient_of(user))
        )
    return generation, key


SEALED_COLUMNS = ("sealed", "reason", "details")
"""A case's sealed part, a flag's reason, an attestation's details: sealed as the records'
columns are (``records.sealing.Sealer``), but under the case's key."""


@sensitive_variables("value", "keys")
def _seal(keys: Sequence[DeskKey], row: Any, column: str, value: dict[str, Any]) -> bytes:
    return Sealer(keys, SEALED_COLUMNS).seal(row, column, value)


def _open(keys: Sequence[DeskKey], row: Any, column: str) -> dict[str, Any]:
    """Raises:
    DecryptionFailed: a generation the keys lack, a token from another row, damage, or no
        token at all (every casework row is sealed when it is made).
    """
    if not getattr(row, column):
        raise DecryptionFailed("A sealed column is empty.")
    return Sealer(keys, SEALED_COLUMNS).open(row, column)


# --- Values from outside --------------------------------------------------------------------


def _risk(risk: str) -> str:
    if risk not in RISKS:
        raise BadInput(f"no risk level {risk!r}; levels: {', '.join(RISKS)}")
    return risk


def _needs(needs: Iterable[str]) -> str:
    chosen = set(needs)
    unknown = sorted(chosen - set(NEEDS))
    if unknown:
        raise BadInput(f"no need {unknown[0]!r}; needs: {', '.join(NEEDS)}")
    return ",".join(n for n in NEEDS if n in chosen)


def _text(value: str, label: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise BadInput(f"{label}: longer than {limit} characters")
    return text


def _active_caseworker(ws: Workspace, user: User) -> None:
    """Raises:
    BadInput: ``user`` is disabled or not an active member of the casework desk.
    """
    if (
        not user.is_active
        or not Membership.objects.filter(desk=ws.desk, user=user, active=True).exists()
    ):
        raise BadInput(f"{user.username!r} is not an active member of the casework desk")


def is_coordinator(user: User | None) -> bool:
    """An organisation admin, or an account assigned to some case as coordinator."""
    if user is None:
        return False
    return (
        bool(user.is_superuser)
        or Assignment.objects.filter(user=user, role=Assignment.Role.COORDINATOR).exists()
    )


# --- Opening --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A new case and the reasons of the provocation flags its contacts raised (one per
    line of a watchlist entry's reasons, as ``refugium watchlist check`` prints them)."""

    case: Case
    flags: list[str] = field(repr=False)


@sensitive_variables("contacts", "checked", "name", "notes", "channel", "sealed", "key")
@transaction.atomic
def open_case(
    ws: Workspace,
    *,
    risk: str,
    needs: Iterable[str] = (),
    contacts: Iterable[tuple[str, str | None]] = (),
    submission: Any = None,
    person: Any = None,
    channel: str | None = None,
    name: str = "",
    notes: str = "",
    actor: str | None = None,
    today: date | None = None,
) -> Opened:
    """Opens a case in stage ``request``, assigned to the actor as caseworker, with its first
    key wrapped to the actor and the recovery recipient; every contact is checked against
    the watchlist and each matched entry becomes an open provocation flag.

    ``person`` is a records Person (its code is sealed, never a column); ``channel`` is how
    the request came in (a call-back on it does not count for the verification gate).
    Audited: ``casework.case_open`` and one ``casework.flag`` per flag, with the case's code.

    Raises:
        NoAccess: the workspace has no signed-in account.
        BadInput: an unknown risk or need, a contact that is not one of its kind, text
            longer than allowed, an empty channel.
    """
    if ws.user is None or ws.identity is None:
        raise NoAccess("opening a case needs a signed-in caseworker")
    who = actor or ws.actor
    day = today or timezone.localdate()
    checked = [
        (identifier.strip(), services._kind(identifier, kind)) for identifier, kind in contacts
    ]
    if len(checked) > MAX_CONTACTS:
        raise BadInput(f"more than {MAX_CONTACTS} contacts")
    matches = services.check_contacts(ws, checked)
    if channel is not None:
        channel = channel.strip()
        channel_key(channel)
    sealed = {
        "name": _text(name, "name", MAX_NAME),
        "notes": _text(notes, "notes", MAX_NOTES),
        "contacts": [[identifier, kind] for identifier, kind in checked],
        "channel": channel or None,
        "person": person.code if person is not None else None,
    }
    case = Case.objects.create(
        desk=ws.desk,
        stage=FIRST,
        risk=_risk(risk),
        needs=_needs(needs),
        opened_on=day,
        submission=submission,
        sealed=b"",
    )
    _generation, key = _new_generation(case, [ws.user])
    case.sealed = _seal([key], case, "sealed", sealed)
    case.save(update_fields=["sealed"])
    Assignment.objects.create(case=case, user=ws.user, role=Assignment.Role.CASEWORKER, since=day)
    audit(who, "casework.case_open", "case", case.code)
    reasons: list[str] = []
    by_entry: dict[int, Flag] = {}
    for entry_pk, match in {m.entry.pk: m for m in matches}.items():
        flag = Flag(case=case, source=Flag.Source.WATCHLIST, raised_on=day, raised_by=ws.user)
        flag.reason = _seal([key], flag, "reason", {"reason": match.reason, "entry": entry_pk})
        flag.save()
        by_entry[entry_pk] = flag
        audit(who, "casework.flag", "case", case.code)
        reasons.extend(match.reason.splitlines())
    # Kept as digests too, so that a contact listed later flags this case (recheck.py).
    flagged: dict[str, Flag | None] = {lookup_key(i, k): None for i, k in checked}
    for match in matches:
        flagged[lookup_key(match.identifier.strip(), match.kind)] = by_entry[match.entry.pk]
    recheck.index_contacts(ws, case, flagged)
    return Opened(case=case, flags=reasons)


# --- Assigning ------------------------------------------------------------------------------


@sensitive_variables("held", "key")
@transaction.atomic
def assign(
    ws: Workspace,
    case: Case,
    user: User,
    *,
    role: str = "caseworker",
    actor: str | None = None,
    today: date | None = None,
) -> int:
    """Assigns ``user`` to the case and wraps to them every generation of the case key the
    actor holds (so they read the case's history). Returns the number of generations.
    Audited: ``casework.assign`` with the case's code.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: an unknown role, ``user`` disabled or not an active casework member.
        Conflict: ``user`` is assigned already.
    """
    held = _held(ws, case)
    if role not in ROLES:
        raise BadInput(f"no role {role!r}; roles: {', '.join(ROLES)}")
    _active_caseworker(ws, user)
    if Assignment.objects.filter(case=case, user=user).exists():
        raise Conflict(f"{user.username!r} is assigned to {case.code} already")
    recipient = _recipient_of(user)
    for generation, key in held:
        CaseKeyWrap.objects.update_or_create(
            generation=generation, user=user, defaults={"blob": key.wrap_to(recipient)}
        )
    Assignment.objects.create(case=case, user=user, role=role, since=today or timezone.localdate())
    audit(actor or ws.actor, "casework.assign", "case", case.code)
    return len(held)


def _unassign(case: Case, user: User) -> CaseKeyGeneration:
    """Deletes ``user``'s assignment and wraps of this case and rotates its key for new data
    (no permission check: callers make it)."""
    Assignment.objects.filter(case=case, user=user).delete()
    CaseKeyWrap.objects.filter(generation__case=case, user=user).delete()
    remaining = [
        a.user for a in Assignment.objects.filter(case=case).select_related("user__account")
    ]
    generation, _key = _new_generation(case, remaining)
    return generation


@transaction.atomic
def unassign(ws: Workspace, case: Case, user: User, *, actor: str | None = None) -> int:
    """Takes ``user`` off the case: their wraps are deleted and a new generation of the case
    key, wrapped to the remaining assignees and the recovery recipient, seals what is written
    from now on. Returns the new generation's number. Audited: ``casework.unassign``.

    Raises:
        NotFound: the actor is neither assigned to the case nor a coordinator, or ``user`` is
            not assigned to it.
    """
    if not is_coordinator(ws.user):
        _held(ws, case)
    if not Assignment.objects.filter(case=case, user=user).exists():
        raise NotFound(f"{user.username!r} is not assigned to {case.code}")
    generation = _unassign(case, user)
    audit(actor or ws.actor, "casework.unassign", "case", case.code)
    return generation.number


@dataclass(frozen=True)
class CutOff:
    """What ``cut_off`` did: the cases rotated, and whether the desk membership went too."""

    cases: list[str]
    desk_revoked: bool


@transaction.atomic
def cut_off(ws: Workspace, user: User, *, actor: str | None = None) -> CutOff:
    """Cuts off a caseworker who is detained or whose phone was seized, at once: for every
    case they are assigned to, unassign with rotation; any other wrap of a case key to them
    is deleted; their casework desk membership is revoked (``accounts.services.revoke``,
    which rotates the desk key and ends their sessions). Needs no case key, so it works
    for cases the coordinator cannot read. Audited: ``casework.cut_off`` per case.

    Raises:
        NoAccess: the actor is not a coordinator.
        BadInput: a coordinator cutting off themselves.
    """
    if not is_coordinator(ws.user):
        raise NoAccess("only a coordinator can cut off a caseworker")
    if ws.user is not None and user.pk == ws.user.pk:
        raise BadInput("a coordinator cannot cut off their own account; ask another")
    who = actor or ws.actor
    cases = list(Case.objects.filter(assignments__user=user).order_by("pk").distinct())
    for case in cases:
        _unassign(case, user)
        audit(who, "casework.cut_off", "case", case.code)
    CaseKeyWrap.objects.filter(user=user).delete()
    try:
        accounts.revoke(user.username, ws.desk.name, actor=who)
    except NotFound:
        revoked = False
    else:
        revoked = True
    return CutOff(cases=[case.code for case in cases], desk_revoked=revoked)


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagView:
    number: int
    source: str
    reason: str = field(repr=False)
    raised_on: date | None = None
    cleared: bool = False


@dataclass(frozen=True)
class CaseView:
    """A case as an assignee reads it, decrypted in memory."""

    code: str
    stage: str
    risk: str
    needs: list[str]
    opened_on: date
    submission: str | None
    name: str = field(repr=False)
    contacts: list[tuple[str, str]] = field(repr=False)
    notes: str = field(repr=False)
    channel: str | None = field(repr=False)
    person: str | None = field(repr=False)
    assignees: list[tuple[str, str]]
    flags: list[FlagView]
    attestations: list[Attestation] = field(repr=False)
    transitions: list[tuple[str, str, date, str]]


def _flag_reason(keys: Sequence[DeskKey], flag: Flag) -> dict[str, Any]:
    """A flag's sealed reason, however it was sealed (``Flag.sealing``)."""
    if flag.sealing == Flag.Sealing.RECIPIENT:
        return recheck.open_from_case(keys, flag)
    return _open(keys, flag, "reason")


def _attestations(keys: Sequence[DeskKey], case: Case) -> list[Attestation]:
    found = []
    for row in case.attestations.order_by("pk"):
        details = _open(keys, row, "details")
        found.append(
            Attestation(
                signal=row.signal,
                channel=str(details["channel"]),
                by=str(details["by"]),
                on=date.fromisoformat(details["on"]),
            )
        )
    return found


def open_case_view(ws: Workspace, case: Case | str) -> CaseView:
    """The case decrypted for an assignee. Audited: ``casework.case_view``.

    Raises:
        NotFound: no such case, or the actor is not assigned to it (the same error).
        DecryptionFailed: damage.
    """
    case = get_case(ws, case) if isinstance(case, str) else Case.objects.get(pk=case.pk)
    keys = _keys(ws, case)
    sealed = _open(keys, case, "sealed")
    flags = [
        FlagView(
            number=flag.pk,
            source=flag.source,
            reason=str(_flag_reason(keys, flag)["reason"]),
            raised_on=flag.raised_on,
            cleared=flag.cleared_on is not None,
        )
        for flag in case.flags.order_by("pk")
    ]
    audit(ws.actor, "casework.case_view", "case", case.code)
    return CaseView(
        code=case.code,
        stage=case.stage,
        risk=case.risk,
        needs=[n for n in case.needs.split(",") if n],
        opened_on=case.opened_on,
        submission=case.submission.code if case.submission_id else None,
        name=str(sealed.get("name") or ""),
        contacts=[(str(i), str(k)) for i, k in sealed.get("contacts", [])],
        notes=str(sealed.get("notes") or ""),
        channel=sealed.get("channel"),
        person=sealed.get("person"),
        assignees=[(a.user.username, a.role) for a in case.assignments.select_related("user")],
        flags=flags,
        attestations=_attestations(keys, case),
        transitions=[
            (c.from_stage, c.to_stage, c.on, c.by.username if c.by else "")
            for c in case.stage_changes.select_related("by").order_by("pk")
        ],
    )


# --- Verification and stages ----------------------------------------------------------------


@sensitive_variables("channel", "note", "keys")
@transaction.atomic
def record_attestation(
    ws: Workspace,
    case: Case,
    signal: str,
    channel: str,
    *,
    note: str = "",
    actor: str | None = None,
    on: date | None = None,
) -> CaseAttestation:
    """Records that a verification signal was obtained over ``channel`` (who, how, when),
    sealed under the newest case key. Audited: ``casework.attest``.

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: a signal not on the checklist, an empty channel, an over-long note.
    """
    keys = _keys(ws, case)
    checklist().signal(signal)
    channel_key(channel)
    row = CaseAttestation(case=case, signal=signal)
    row.details = _seal(
        keys,
        row,
        "details",
        {
            "channel": channel.strip(),
            "by": actor or ws.actor,
            "on": (on or timezone.localdate()).isoformat(),
            "note": _text(note, "note", MAX_NOTES),
        },
    )
    row.save()
    audit(actor or ws.actor, "casework.attest", "case", case.code)
    return row


@transaction.atomic
def clear_flag(ws: Workspace, case: Case, number: int, *, today: date | None = None) -> None:
    """Clears an open flag; only a second caseworker, not the one who raised it, may.
    Audited: ``casework.flag_clear``.

    Raises:
        NotFound: the actor is not assigned, or the case has no such open flag.
        BadInput: the actor raised the flag.
    """
    _held(ws, case)
    flag = case.flags.filter(pk=number, cleared_on=None).first()
    if flag is None:
        raise NotFound(f"{case.code} has no open flag {number}")
    if ws.user is not None and flag.raised_by_id == ws.user.pk:
        raise BadInput("a flag is cleared by a second caseworker, not the one who raised it")
    flag.cleared_by = ws.user
    flag.cleared_on = today or timezone.localdate()
    flag.save(update_fields=["cleared_by", "cleared_on"])
    audit(ws.actor, "casework.flag_clear", "case", case.code)


# --- Flags raised by hand (issue 9: "other flags ... can be raised by hand") ---------------

MANUAL_FLAGS: dict[str, Any] = {
    # Research note, requirement 2: provocation signs that raise the verification required.
    "meet_in_person": _("Pushing to meet in person"),
    "refused_callback": _("Refusing a call-back on a known channel"),
    "urgency": _("Urgency pressure: a deadline that leaves no time to verify"),
    # Requirement 14, the search tripwire: raises the case's risk to at least high.
    "wanted_search": _("A relative's or official's 'wanted' or 'missing person' search"),
    "other": _("Another sign of a provocation (say which in the note)"),
}
"""The reasons a caseworker may raise a flag for, by code, with their labels. The code and
the label are sealed in the flag's reason with the note: a plaintext "wanted search" column
would tell a seized database who is being hunted."""
SEARCH_FLAG = "wanted_search"
RAISED_RISK = "high"


@sensitive_variables("note", "keys", "text")
@transaction.atomic
def raise_flag(
    ws: Workspace,
    case: Case,
    reason_code: str,
    note: str = "",
    *,
    actor: str | None = None,
    today: date | None = None,
) -> Flag:
    """Raises a provocation flag by hand: open until a second caseworker clears it, and while
    open it raises the verification gate's bar (as a watchlist match does). A
    ``wanted_search`` flag also raises the case's risk to at least high (research note,
    requirement 14). The other assignees get a notice, so that someone else looks at it.
    Audited: ``casework.flag`` (and ``casework.risk`` when the risk rose).

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: a reason code not in ``MANUAL_FLAGS``, an over-long note, or ``other``
            without a note.
    """
    from refugium.web.casework.notices import notify

    keys = _keys(ws, case)
    if reason_code not in MANUAL_FLAGS:
        raise BadInput(f"no flag reason {reason_code!r}; reasons: {', '.join(MANUAL_FLAGS)}")
    text = _text(note, "note", MAX_NAME * 5)
    if reason_code == "other" and not text:
        raise BadInput("note: say what the sign of a provocation is")
    with translation.override("en"):  # sealed once, read by anyone: one language
        label = str(MANUAL_FLAGS[reason_code])
    who = actor or ws.actor
    day = today or timezone.localdate()
    flag = Flag(case=case, source=Flag.Source.MANUAL, raised_on=day, raised_by=ws.user)
    reason = f"{label}: {text}" if text else label
    flag.reason = _seal(keys, flag, "reason", {"reason": reason, "code": reason_code})
    flag.save()
    audit(who, "casework.flag", "case", case.code)
    if reason_code == SEARCH_FLAG and RISKS.index(case.risk) < RISKS.index(RAISED_RISK):
        Case.objects.filter(pk=case.pk).update(risk=RAISED_RISK)
        case.risk = RAISED_RISK
        audit(who, "casework.risk", "case", case.code)
    others = User.objects.filter(case_assignments__case=case).exclude(
        pk=getattr(ws.user, "pk", None)
    )
    notify(others, "flag", f"{who} raised a flag on {case.code}", case=case)
    return flag


@transaction.atomic
def move_stage(
    ws: Workspace, case: Case, target: str, *, actor: str | None = None, today: date | None = None
) -> StageChange:
    """Moves the case to ``target`` if the stage table allows it and, for a gated stage,
    the verification gate passes (open flags raise its bar). Recorded as a ``StageChange``
    and audited: ``casework.stage``.

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: a move the stage table refuses.
        GateClosed: not enough independent verification (the message lists what is missing).
    """
    keys = _keys(ws, case)
    given, case = case, Case.objects.select_for_update().get(pk=case.pk)
    check_transition(case.stage, target)
    if target in checklist().stages:
        sealed = _open(keys, case, "sealed")
        result = gate(
            target,
            _attestations(keys, case),
            open_flags=case.flags.filter(cleared_on=None).count(),
            request_channel=sealed.get("channel"),
        )
        if not result.ok:
            raise GateClosed(f"{case.code} cannot enter {target!r}: {result.message}")
    change = StageChange.objects.create(
        case=case,
        from_stage=case.stage,
        to_stage=target,
        on=today or timezone.localdate(),
        by=ws.user,
    )
    case.stage = target
    case.save(update_fields=["stage"])
    location.stage_changed(case, change, actor or ws.actor)
    given.stage = target
    audit(actor or ws.actor, "casework.stage", "case", case.code)
    return change
