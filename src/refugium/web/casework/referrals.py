"""The do-not-disclose list of a case, partner organisations, and referrals (issue 9).

In 2017 people moved a thousand miles away were found again through relatives and informers,
once with a relative who said she was "wanted". A case therefore records who must never learn
of it (``DoNotDisclose``), and anything that would carry the case to someone (a referral
here; exports and messages through ``check_disclosure``) is refused when it would reach them.

Decisions:

- **Digests under the case key, bound to the case.** A do-not-disclose entry's name and
  contacts are sealed under the case key; to check without opening them, each is also kept
  as a keyed digest (``DisclosureDigest``) under the *case* key (only its assignees can test a
  guess against it, not every member of the desk) with the purpose bound to the case's uid,
  so the same relative on two cases gives two unrelated digests and a seized database does
  not show that the cases are linked. A check digests the outgoing names and contacts the
  same way under every generation of the case key the actor holds.
- **Partners are sealed whole.** A partner's name, contacts and age recipient are sealed with
  the casework desk's field cipher (the watchlist's reasons are sealed the same way), not
  kept as desk-wide digests: a desk-wide digest of a partner's contact, equal to one on a
  case's list, would show in a seized database which partner is compromised for which case.
  The public key is sealed too: a partner that publishes it would be named by it.
- **Contacts match in every written form and across a mistaken kind.** Each contact is taken
  through ``refugium.casework.contacts`` (E.164 for phones, and so on) under the kind given
  and, when it differs, under the kind it looks like, so a phone number saved as "other"
  still meets the same number saved as a phone.
- **Names match as written, and across scripts** (``name_keys``): a floor, not a fuzzy match.
- **A referral is a minimal projection**: only fields from ``FIELDS`` the caseworker chose
  (never the location compartment, flags' reasons, notes or this list), with the person's
  consent sealed under the case key, encrypted to the partner's age recipient
  (``refugium.crypto.encrypt``: an age file the partner opens with the stock ``age`` tool).
- **Expiry and revocation are real.** The age file is a ``ReferralFile`` row deleted when
  the partner fetches it once, when it expires (``expire_referrals``, run by the periodic
  pass) or is revoked; SQLite's ``secure_delete`` overwrites the freed pages. The partner
  gets a random token (256 bits), shown once; only its SHA-256 is stored (the partner holds
  no key of ours, so the lookup cannot be keyed; at 256 bits it need not be). An unknown,
  expired, revoked or fetched token gets the same ``NotFound``.
- **Refusals write nothing but the audit entry** (``casework.referral_refused``), and say
  only which kind of thing matched (a name, a contact), never the entry.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework import guess_kind, lookup_key
from refugium.crypto import DeskKey, KeyedHasher, Recipient, encrypt
from refugium.errors import BadInput, Conflict, NotFound
from refugium.linkage.names import name_keys as linkage_name_keys
from refugium.web.casework import cases, services
from refugium.web.casework.models import (
    Case,
    DisclosureDigest,
    DoNotDisclose,
    Partner,
    Referral,
    ReferralFile,
)
from refugium.web.casework.notices import notify
from refugium.web.casework.services import NoAccess, Workspace
from refugium.web.core.auditing import record as audit
from refugium.web.records.sealing import Sealer, pad

FIELDS = ("risk", "needs", "stage", "name", "contact")
"""What a referral may carry, and nothing else: the location compartment, flags' reasons,
notes, attestations and the do-not-disclose list are not fields a caseworker can pick."""
CONSENT_WAYS = ("in_person", "call", "message", "written")
KINDS = tuple(DoNotDisclose.Kind.values)
MAX_DAYS = 30
MAX_NAME = 200
MAX_NOTE = 1_000
MAX_CONTACTS = 20
MAX_TOKEN = 100
# Versioned, as the watchlist's purpose is: if the rules change, old digests stop matching
# instead of matching the wrong party, and the lists are re-digested.
DISCLOSURE = "disclosure.v1"
FORMAT = "refugium-referral/1"
_PARTNER_COLUMNS = ("sealed",)


class Disclosure(Conflict):
    """The outgoing names or contacts would reach a party on the case's do-not-disclose list
    (the message says which kind matched, never which entry)."""

    code = "do_not_disclose"


# --- Matching keys --------------------------------------------------------------------------


def name_key(name: str) -> str:
    """The name as written, for matching: NFKC, case-folded, ё → е, white space collapsed.

    A floor, not a fuzzy match: it meets the same name typed in another case, with or
    without the dots of ё, with odd spaces or full-width letters; it does not meet a
    nickname, a diminutive or a typo, which only a person reading the list can. The
    transliterated key of ``refugium.linkage.names`` is digested beside it (``_name_keys``)
    so that Хасуев and Khasuev meet; a keyed digest cannot do more without guessing, and a
    guess that merged two people would block help to the wrong one.
    """
    text = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    return " ".join(text.split())


def _name_keys(name: str) -> list[str]:
    keys = []
    written = name_key(name)
    if written:
        keys.append(f"name:{written}")
        folded = linkage_name_keys(full_name=name).folded
        if folded:
            keys.append(f"fold:{folded}")
    return keys


def _contact_keys(identifier: str, kind: str | None) -> list[str]:
    """The lookup key under the kind given and, when it differs, the kind it looks like.

    Raises:
        BadInput: an unknown kind, or a contact that is not one of its kind.
    """
    given = services._kind(identifier, kind)
    keys = [lookup_key(identifier, given)]
    guessed = guess_kind(identifier)
    if guessed != given:
        # It may only look like one (an "other" contact "name@host"): the given kind stands.
        with suppress(BadInput):
            keys.append(lookup_key(identifier, guessed))
    return keys


def _checked_contacts(contacts: Iterable[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """``(identifier, kind)`` with the kind filled in, each checked.

    Raises:
        BadInput: more than ``MAX_CONTACTS``, or a bad contact (its position named, never it).
    """
    checked = []
    for position, (identifier, kind) in enumerate(contacts, start=1):
        if position > MAX_CONTACTS:
            raise BadInput(f"more than {MAX_CONTACTS} contacts")
        try:
            text = identifier.strip() if isinstance(identifier, str) else ""
            given = services._kind(text, kind)
            _contact_keys(text, given)
        except BadInput as error:
            raise BadInput(f"contact {position}: {error.message}") from None
        checked.append((text, str(given)))
    return checked


def _purpose(case: Case) -> str:
    return f"{DISCLOSURE}:{case.uid}"


def _lookup(
    names: Iterable[str], contacts: Iterable[tuple[str, str | None]]
) -> list[tuple[str, str]]:
    """``(what, key)`` for every name and contact (``what`` is ``name`` or ``contact``)."""
    found = [("name", key) for name in names for key in _name_keys(name)]
    found += [("contact", key) for i, k in contacts for key in _contact_keys(i, k)]
    return found


# --- The gate -------------------------------------------------------------------------------


@sensitive_variables("names", "contacts", "keys", "by_digest")
def check_disclosure(
    ws: Workspace,
    case: Case,
    *,
    names: Iterable[str] = (),
    contacts: Iterable[tuple[str, str | None]] = (),
    keys: Sequence[DeskKey] | None = None,
) -> None:
    """Refuses when any of ``names`` or ``contacts`` (``(identifier, kind or None)``) is on
    the case's do-not-disclose list: the one gate for referrals, exports and messages. The
    caller audits the refusal under its own action (a referral: ``casework.referral_refused``).

    ``keys`` are the case keys when the caller holds them already.

    Raises:
        NotFound: the actor is not assigned to the case (the same error as for no case).
        BadInput: a contact that is not one of its kind.
        Disclosure: a name or contact matches; the message says which kind, never the entry.
    """
    hasher = KeyedHasher(keys if keys is not None else cases._keys(ws, case))
    purpose = _purpose(case)
    by_digest = {
        digest: what
        for what, key in _lookup(names, contacts)
        for digest in hasher.candidates(key, purpose=purpose)
    }
    matched: set[str] = set()
    digests = list(by_digest)
    for start in range(0, len(digests), 500):
        rows = DisclosureDigest.objects.filter(case=case, digest__in=digests[start : start + 500])
        matched.update(by_digest[digest] for digest in rows.values_list("digest", flat=True))
    if matched:
        raise Disclosure(
            f"{case.code}: this would reach a party on the case's do-not-disclose list "
            f"(matched by {' and '.join(sorted(matched))}); nothing was sent"
        )


# --- The do-not-disclose list ---------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureEntry:
    """A do-not-disclose entry as an assignee reads it, decrypted in memory."""

    number: int
    kind: str
    name: str = field(repr=False)
    contacts: list[tuple[str, str]] = field(repr=False)
    note: str = field(repr=False)
    added_on: date


@sensitive_variables("name", "contacts", "note", "checked", "keys", "hasher")
@transaction.atomic
def add_do_not_disclose(
    ws: Workspace,
    case: Case,
    kind: str,
    *,
    name: str = "",
    contacts: Iterable[tuple[str, str | None]] = (),
    note: str = "",
    actor: str | None = None,
    now: datetime | None = None,
) -> DoNotDisclose:
    """Adds a party who must never be reached about the case. A referral still waiting for a
    partner who now matches the list is revoked at once (its file deleted). Audited:
    ``casework.dnd_add`` (and ``casework.referral_revoke`` per referral revoked).

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: an unknown kind, no name and no contact, a bad contact, over-long text.
    """
    keys = cases._keys(ws, case)
    if kind not in KINDS:
        raise BadInput(f"no kind of party {kind!r}; kinds: {', '.join(KINDS)}")
    written = cases._text(name, "name", MAX_NAME)
    checked = _checked_contacts(contacts)
    if not written and not checked:
        raise BadInput("a do-not-disclose entry needs a name or a contact")
    who = actor or ws.actor
    day = timezone.localdate(now)
    entry = DoNotDisclose(case=case, kind=kind, added_on=day, added_by=ws.user)
    entry.sealed = cases._seal(
        keys,
        entry,
        "sealed",
        {
            "name": written,
            "contacts": [[i, k] for i, k in checked],
            "note": cases._text(note, "note", MAX_NOTE),
        },
    )
    entry.save()
    hasher = KeyedHasher(keys)
    purpose = _purpose(case)
    digests = {
        hasher.digest(key, purpose=purpose): what
        for what, key in _lookup([written] if written else [], checked)
    }
    DisclosureDigest.objects.bulk_create(
        DisclosureDigest(entry=entry, case=case, what=what, digest=digest)
        for digest, what in digests.items()
    )
    audit(who, "casework.dnd_add", "case", case.code)
    _revoke_reaching(ws, case, keys, who, day)
    return entry


def _revoke_reaching(
    ws: Workspace, case: Case, keys: Sequence[DeskKey], who: str, day: date
) -> None:
    """Revokes the case's waiting referrals whose partner, or projected contact, the list
    now refuses."""
    for referral in case.referrals.filter(state=Referral.State.WAITING).select_related("partner"):
        partner = _open_partner(ws, referral.partner)
        projected = _details(keys, referral).get("contact")
        contacts: list[tuple[str, str | None]] = list(partner.contacts)
        if projected:
            contacts.append((str(projected[0]), str(projected[1])))
        try:
            check_disclosure(ws, case, names=[partner.name], contacts=contacts, keys=keys)
        except Disclosure:
            _end(referral, Referral.State.REVOKED, day)
            audit(who, "casework.referral_revoke", "case", case.code)


@transaction.atomic
def remove_do_not_disclose(
    ws: Workspace, case: Case, number: int, *, actor: str | None = None
) -> None:
    """Removes an entry and its digests. Audited: ``casework.dnd_remove``.

    Raises:
        NotFound: the actor is not assigned, or the case has no such entry.
    """
    cases._held(ws, case)
    entry = case.do_not_disclose.filter(pk=number).first()
    if entry is None:
        raise NotFound(f"{case.code} has no do-not-disclose entry {number}")
    entry.delete()
    audit(actor or ws.actor, "casework.dnd_remove", "case", case.code)


def do_not_disclose(ws: Workspace, case: Case) -> list[DisclosureEntry]:
    """The case's list, decrypted for an assignee. Audited: ``casework.dnd_view``.

    Raises:
        NotFound: the actor is not assigned to the case.
        DecryptionFailed: damage.
    """
    keys = cases._keys(ws, case)
    found = []
    for entry in case.do_not_disclose.order_by("pk"):
        sealed = cases._open(keys, entry, "sealed")
        found.append(
            DisclosureEntry(
                number=entry.pk,
                kind=entry.kind,
                name=str(sealed.get("name") or ""),
                contacts=[(str(i), str(k)) for i, k in sealed.get("contacts", [])],
                note=str(sealed.get("note") or ""),
                added_on=entry.added_on,
            )
        )
    audit(ws.actor, "casework.dnd_view", "case", case.code)
    return found


# --- Partners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerView:
    """A partner organisation, decrypted in memory with the desk's field cipher."""

    code: str
    name: str = field(repr=False)
    recipient: Recipient = field(repr=False)
    contacts: list[tuple[str, str]] = field(repr=False)
    active: bool = True


def _recipient(text: str) -> Recipient:
    """Raises:
    BadInput: not an age X25519 recipient.
    """
    try:
        return Recipient.parse(text if isinstance(text, str) else "")
    except BadInput:
        raise BadInput(
            "not an age recipient: a partner's public key is one line starting with age1, "
            "as age-keygen prints it (ask the partner for it again; never their secret key)",
            code="bad_recipient",
        ) from None


@sensitive_variables("name", "contacts", "checked", "key")
@transaction.atomic
def add_partner(
    ws: Workspace,
    name: str,
    recipient: str,
    *,
    contacts: Iterable[tuple[str, str | None]] = (),
    actor: str | None = None,
    now: datetime | None = None,
) -> Partner:
    """Adds a partner organisation cases may be referred to. Only a coordinator may: a
    partner is somewhere case data can go. Audited: ``casework.partner_add``.

    Raises:
        NoAccess: the actor is not a coordinator.
        BadInput: no name or an over-long one, a bad age recipient, a bad contact.
    """
    if not cases.is_coordinator(ws.user):
        raise NoAccess("only a coordinator can add a partner organisation")
    written = cases._text(name, "name", MAX_NAME)
    if not written:
        raise BadInput("a partner needs a name")
    key = _recipient(recipient)
    checked = _checked_contacts(contacts)
    partner = Partner(desk=ws.desk, added_on=timezone.localdate(now), added_by=ws.user)
    partner.sealed = Sealer(ws.keys, _PARTNER_COLUMNS).seal(
        partner,
        "sealed",
        {"name": written, "recipient": str(key), "contacts": [[i, k] for i, k in checked]},
    )
    partner.save()
    audit(actor or ws.actor, "casework.partner_add", "partner", partner.code)
    return partner


def _open_partner(ws: Workspace, partner: Partner) -> PartnerView:
    """Raises:
    DecryptionFailed: a key this workspace lacks, or damage.
    """
    sealed = Sealer(ws.keys, _PARTNER_COLUMNS).open(partner, "sealed")
    return PartnerView(
        code=partner.code,
        name=str(sealed["name"]),
        recipient=Recipient.parse(str(sealed["recipient"])),
        contacts=[(str(i), str(k)) for i, k in sealed.get("contacts", [])],
        active=partner.active,
    )


def get_partner(ws: Workspace, code: str) -> Partner:
    """The desk's partner by its code (``P-0003``) or number.

    Raises:
        NotFound: no such partner.
    """
    number = code.strip().upper().removeprefix(f"{Partner.PREFIX}-")
    found = None
    if number.isdigit() and len(number) <= 12:
        found = Partner.objects.filter(desk=ws.desk, pk=int(number)).first()
    if found is None:
        raise NotFound(f"no partner {code.strip()[:20]!r}")
    return found


def partners(ws: Workspace) -> list[PartnerView]:
    """Every partner of the desk, decrypted (any member holding the desk key may read them).

    Raises:
        DecryptionFailed: damage.
    """
    return [_open_partner(ws, p) for p in Partner.objects.filter(desk=ws.desk).order_by("pk")]


@transaction.atomic
def retire_partner(
    ws: Workspace, partner: Partner, *, actor: str | None = None, now: datetime | None = None
) -> int:
    """Takes a partner off the list for new referrals and revokes its waiting ones (their
    files deleted). Returns how many were revoked. Audited: ``casework.partner_retire``.

    Raises:
        NoAccess: the actor is not a coordinator.
    """
    if not cases.is_coordinator(ws.user):
        raise NoAccess("only a coordinator can retire a partner organisation")
    who = actor or ws.actor
    day = timezone.localdate(now)
    partner.active = False
    partner.save(update_fields=["active"])
    waiting = list(partner.referrals.filter(state=Referral.State.WAITING).select_related("case"))
    for referral in waiting:
        _end(referral, Referral.State.REVOKED, day)
        audit(who, "casework.referral_revoke", "case", referral.case.code)
    audit(who, "casework.partner_retire", "partner", partner.code)
    return len(waiting)


# --- Referrals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """The person's consent to this referral: how it was given (``CONSENT_WAYS``), on which
    day, and a note (what exactly they agreed to, in their words). Who recorded it is the
    actor."""

    how: str
    on: date
    note: str = field(default="", repr=False)


@dataclass(frozen=True)
class Referred:
    """A new referral and its one-time token: shown once, to pass to the partner by a
    channel other than the one the file travels on; refugium keeps only its SHA-256."""

    referral: Referral
    token: str = field(repr=False)


def _fields(chosen: Iterable[str]) -> list[str]:
    picked = set(chosen)
    unknown = sorted(picked - set(FIELDS))
    if unknown:
        raise BadInput(
            f"no field {unknown[0]!r} can be referred; fields: {', '.join(FIELDS)} "
            "(locations, flags, notes and the do-not-disclose list never leave)"
        )
    if not picked:
        raise BadInput(f"choose the fields to refer; fields: {', '.join(FIELDS)}")
    return [f for f in FIELDS if f in picked]


def _consent(consent: Consent | None, day: date) -> Consent:
    if consent is None:
        raise BadInput("no consent recorded: a referral needs the person's consent to it")
    if consent.how not in CONSENT_WAYS:
        raise BadInput(f"no way of consent {consent.how!r}; ways: {', '.join(CONSENT_WAYS)}")
    if consent.on > day:
        raise BadInput("consent cannot be recorded for a day still to come")
    return consent


def _expiry(expires_on: date | None, day: date) -> date:
    last = day + timedelta(days=MAX_DAYS)
    if expires_on is None:
        return last
    if expires_on < day:
        raise BadInput("a referral cannot expire before today")
    if expires_on > last:
        raise BadInput(f"a referral expires within {MAX_DAYS} days, on {last} at the latest")
    return expires_on


@sensitive_variables("sealed", "projection", "keys", "token", "partner_view", "picked")
@transaction.atomic
def refer(
    ws: Workspace,
    case: Case,
    partner: Partner,
    fields: Iterable[str],
    *,
    consent: Consent | None,
    expires_on: date | None = None,
    contact: int = 0,
    actor: str | None = None,
    now: datetime | None = None,
) -> Referred:
    """Refers the case to ``partner``: the chosen ``fields`` only (``contact`` picks which of
    the case's contacts, by position), encrypted to the partner's age recipient, waiting on
    the server until fetched once, expired (``expires_on``, at most ``MAX_DAYS`` ahead,
    the default) or revoked. Audited: ``casework.referral``.

    A partner whose name or contacts, or a projected contact, is on the case's
    do-not-disclose list is refused: nothing is written but ``casework.referral_refused``.

    Raises:
        NotFound: the actor is not assigned to the case.
        BadInput: no consent, an unknown field or way of consent, an expiry out of range, a
            retired partner or one of another desk, no such contact on the case.
        Disclosure: the referral would reach a do-not-disclose party.
    """
    keys = cases._keys(ws, case)
    who = actor or ws.actor
    day = timezone.localdate(now)
    picked = _fields(fields)
    given = _consent(consent, day)
    ends = _expiry(expires_on, day)
    if partner.desk_id != ws.desk.pk or not partner.active:
        raise BadInput(f"{partner.code} is not an active partner")
    partner_view = _open_partner(ws, partner)
    sealed = cases._open(keys, case, "sealed")
    projected = _projected_contact(sealed, contact) if "contact" in picked else None
    try:
        check_disclosure(
            ws,
            case,
            names=[partner_view.name],
            contacts=[*partner_view.contacts, *([projected] if projected else [])],
            keys=keys,
        )
    except Disclosure:
        audit(who, "casework.referral_refused", "case", case.code)
        raise
    token = secrets.token_urlsafe(32)
    referral = Referral(
        case=case,
        partner=partner,
        fields=",".join(picked),
        token_digest=_token_digest(token),
        created_on=day,
        expires_on=ends,
        created_by=ws.user,
    )
    referral.details = cases._seal(
        keys,
        referral,
        "details",
        {
            "how": given.how,
            "on": given.on.isoformat(),
            "note": cases._text(given.note, "note", MAX_NOTE),
            "by": who,
            "contact": list(projected) if projected else None,
        },
    )
    referral.save()
    projection = _projection(referral, case, sealed, picked, projected)
    ReferralFile.objects.create(
        referral=referral, blob=encrypt(pad(projection), [partner_view.recipient])
    )
    audit(who, "casework.referral", "case", case.code)
    return Referred(referral=referral, token=token)


def _projected_contact(sealed: dict[str, Any], position: int) -> tuple[str, str]:
    contacts = sealed.get("contacts", [])
    if isinstance(position, bool) or not isinstance(position, int):
        raise BadInput("a contact is chosen by its position on the case")
    if not 0 <= position < len(contacts):
        raise BadInput(f"the case has no contact {position + 1}")
    identifier, kind = contacts[position]
    return str(identifier), str(kind)


def _projection(
    referral: Referral,
    case: Case,
    sealed: dict[str, Any],
    picked: Sequence[str],
    projected: tuple[str, str] | None,
) -> bytes:
    """The file's JSON: the chosen fields and the referral's own reference, nothing else
    (not even the case's code)."""
    values: dict[str, Any] = {
        "risk": case.risk,
        "needs": [n for n in case.needs.split(",") if n],
        "stage": case.stage,
        "name": str(sealed.get("name") or ""),
        "contact": {"identifier": projected[0], "kind": projected[1]} if projected else None,
    }
    document = {
        "format": FORMAT,
        "reference": referral.code,
        "referred_on": referral.created_on.isoformat(),
        "expires_on": referral.expires_on.isoformat(),
        "fields": {name: values[name] for name in picked},
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _end(referral: Referral, state: Any, day: date) -> None:
    """Deletes the referral's file and records how it ended (no permission check).

    ``state`` is a ``Referral.State`` (``Any``: a choices member, which mypy reads without
    Django's plugin as the tuple it was declared with)."""
    ReferralFile.objects.filter(referral=referral).delete()
    referral.state = state
    referral.ended_on = day
    referral.save(update_fields=["state", "ended_on"])


def _details(keys: Sequence[DeskKey], referral: Referral) -> dict[str, Any]:
    return cases._open(keys, referral, "details")


@transaction.atomic
def revoke_referral(
    ws: Workspace,
    case: Case,
    number: int,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> None:
    """Revokes a waiting referral: its file is deleted, its token gets the same 404 as an
    unknown one. Audited: ``casework.referral_revoke``.

    Raises:
        NotFound: the actor is not assigned, or the case has no such waiting referral.
    """
    cases._held(ws, case)
    referral = case.referrals.filter(pk=number, state=Referral.State.WAITING).first()
    if referral is None:
        raise NotFound(f"{case.code} has no waiting referral {number}")
    _end(referral, Referral.State.REVOKED, timezone.localdate(now))
    audit(actor or ws.actor, "casework.referral_revoke", "case", case.code)


@dataclass(frozen=True)
class ReferralView:
    """A referral as an assignee reads it (the consent decrypted in memory)."""

    code: str
    partner: str
    fields: list[str]
    state: str
    created_on: date
    expires_on: date
    ended_on: date | None
    consent: Consent = field(repr=False)
    recorded_by: str


def referrals_of(ws: Workspace, case: Case) -> list[ReferralView]:
    """The case's referrals, newest last.

    Raises:
        NotFound: the actor is not assigned to the case.
        DecryptionFailed: damage.
    """
    keys = cases._keys(ws, case)
    found = []
    for referral in case.referrals.select_related("partner").order_by("pk"):
        details = _details(keys, referral)
        found.append(
            ReferralView(
                code=referral.code,
                partner=referral.partner.code,
                fields=referral.fields.split(","),
                state=referral.state,
                created_on=referral.created_on,
                expires_on=referral.expires_on,
                ended_on=referral.ended_on,
                consent=Consent(
                    how=str(details["how"]),
                    on=date.fromisoformat(details["on"]),
                    note=str(details.get("note") or ""),
                ),
                recorded_by=str(details["by"]),
            )
        )
    return found


# --- The partner's side ---------------------------------------------------------------------


def _waiting(token: str, day: date) -> Referral | None:
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        return None
    return (
        Referral.objects.filter(
            token_digest=_token_digest(token),
            state=Referral.State.WAITING,
            expires_on__gte=day,
        )
        .select_related("case", "partner", "created_by")
        .first()
    )


@sensitive_variables("token")
def is_waiting(token: str, *, now: datetime | None = None) -> bool:
    """Whether ``token`` would fetch a file now, without fetching it (for the page a link
    preview may open: looking must not spend the one fetch)."""
    return _waiting(token, timezone.localdate(now)) is not None


@sensitive_variables("token", "blob")
@transaction.atomic
def fetch(token: str, *, now: datetime | None = None) -> bytes:
    """The referral's age file, once: the file is deleted as it is handed over, and the
    referring caseworker is notified. Audited: ``casework.referral_fetch`` (the actor is
    the partner's code).

    Raises:
        NotFound: an unknown, expired, revoked or fetched token (one message for all).
    """
    day = timezone.localdate(now)
    referral = _waiting(token, day)
    stored = ReferralFile.objects.filter(referral=referral).first() if referral else None
    if referral is None or stored is None:
        raise NotFound("no such referral")
    # The state changes only if it is still waiting: of two fetches at once, one wins.
    won = Referral.objects.filter(pk=referral.pk, state=Referral.State.WAITING).update(
        state=Referral.State.FETCHED, ended_on=day
    )
    if won != 1:
        raise NotFound("no such referral")
    blob = bytes(stored.blob)
    stored.delete()
    case, partner = referral.case, referral.partner
    audit(partner.code, "casework.referral_fetch", "case", case.code)
    if referral.created_by is not None:
        notify(
            [referral.created_by],
            "referral",
            f"{referral.code} on {case.code} was fetched by {partner.code}",
            case=case,
            now=now,
        )
    return blob


@transaction.atomic
def expire_referrals(now: datetime | None = None) -> int:
    """Deletes the files of referrals past their expiry day and marks them expired; for the
    periodic pass (``refugium checkins run``). Returns how many expired. Audited:
    ``casework.referral_expire`` per referral (the actor is ``system``).
    """
    day = timezone.localdate(now)
    expired = list(
        Referral.objects.filter(state=Referral.State.WAITING, expires_on__lt=day).select_related(
            "case"
        )
    )
    for referral in expired:
        _end(referral, Referral.State.EXPIRED, day)
        audit("system", "casework.referral_expire", "case", referral.case.code)
    return len(expired)
