"""Flagging cases when the watchlist grows, and listing the contacts of arrested people.

Issue 9: "A Person of the records whose status becomes detained has their contacts added
automatically. Every contact on a case is checked against it on entry and whenever the
watchlist grows." A case opened on Monday by someone the police later arrest, or who turns
out to be a lure's number, must be flagged on Tuesday without anyone reopening it.

Why it is built this way:

* **No case is opened to re-check it.** The caseworker who lists a contact is usually not
  assigned to the cases it matches and holds none of their keys. So every case keeps its
  contacts also as keyed digests (``CaseContact``, under the casework desk's key, a purpose
  of its own), and listing a contact looks its digests up under every generation of the
  desk key: one indexed query per 500 contacts, however many cases there are.
* **The flag is sealed to the case, not readable by who raised it.** Its reason (the
  watchlist entry's reasons) is encrypted as an age file to the public recipient of the
  case key's newest generation, with the flag's uid inside so it cannot be moved to another
  flag. The lister learns only that some case matched (the count), never which one: it is
  audited under the case's code, and the case's assignees get a notice.
* **Arrests reach the watchlist through a queue.** The researcher who records that a Person
  is held works on the documentation desk. Their contacts go, as an age file to the casework
  desk's public recipient, into ``PendingWatch``; the next casework workspace opened (any
  member's page or command) lists them as entries of origin ``detained`` and re-checks the
  cases. Until a casework member signs in they wait, encrypted; docs/casework.md says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework import guess_kind, lookup_key
from refugium.crypto import DecryptionFailed, DeskKey, Recipient, decrypt, encrypt
from refugium.errors import BadInput, NotFound
from refugium.web.accounts import services as accounts
from refugium.web.casework import notices
from refugium.web.casework.models import (
    Case,
    CaseContact,
    CaseKeyGeneration,
    Flag,
    PendingWatch,
    WatchlistEntry,
)
from refugium.web.core.auditing import record as audit
from refugium.web.records.sealing import pad

if TYPE_CHECKING:
    from refugium.web.casework.services import Workspace

CASE_CONTACT = "case-contact.v1"
# Terms of the victim-status vocabulary (and their narrower terms) that mean the person was
# arrested: the police have held their phone, so its contacts are known to them.
ARRESTED = frozenset({"currently-held", "released-or-escaped"})
_CHUNK = 500


# --- Case contacts --------------------------------------------------------------------------


def contact_digests(ws: Workspace, key: str) -> list[str]:
    """The digests of a lookup key under every generation of the desk key, newest first."""
    return ws.hasher.candidates(key, purpose=CASE_CONTACT)


def index_contacts(ws: Workspace, case: Case, flagged: Mapping[str, Flag | None]) -> None:
    """Stores the digest of each of a new case's lookup keys, with the flag it raised."""
    CaseContact.objects.bulk_create(
        CaseContact(case=case, digest=ws.hasher.digest(key, purpose=CASE_CONTACT), flag=flag)
        for key, flag in flagged.items()
    )


# --- Re-checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rechecked:
    """What a re-check did: flags raised, and on how many cases (never which)."""

    flags: int
    cases: int


@sensitive_variables("keys", "by_digest", "reason")
def recheck(ws: Workspace, keys: Iterable[str]) -> Rechecked:
    """Flags every case with a not yet flagged contact among ``keys`` (lookup keys just
    listed), one flag per case and watchlist entry, in the caller's transaction. Each flag is
    audited (``casework.flag``, the case's code) and the case's assignees are notified.

    Raises:
        DecryptionFailed: a matched entry's reason does not open.
    """
    from refugium.web.casework import services

    by_digest: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        for digest in contact_digests(ws, key):
            by_digest[digest] = key
    digests = list(by_digest)
    matched: dict[tuple[int, str], list[CaseContact]] = {}
    for start in range(0, len(digests), _CHUNK):
        rows = CaseContact.objects.filter(
            case__desk=ws.desk, flag=None, digest__in=digests[start : start + _CHUNK]
        )
        for row in rows:
            matched.setdefault((row.case_id, by_digest[row.digest]), []).append(row)
    if not matched:
        return Rechecked(flags=0, cases=0)
    entries: dict[str, WatchlistEntry] = {}
    by_entry: dict[tuple[int, int], list[CaseContact]] = {}
    for (case_id, key), rows in matched.items():
        if key not in entries:
            entry = services.entry_of(ws, key)
            if entry is None:  # the caller passed a key it did not list
                continue
            entries[key] = entry
        by_entry.setdefault((case_id, entries[key].pk), []).extend(rows)
    reasons = {entry.pk: services.reason_of(ws, entry) for entry in entries.values()}
    cases = Case.objects.in_bulk({case_id for case_id, _entry in by_entry})
    day = timezone.localdate()
    for (case_id, entry_pk), rows in sorted(by_entry.items()):
        case = cases[case_id]
        flag = Flag(
            case=case,
            source=Flag.Source.WATCHLIST,
            sealing=Flag.Sealing.RECIPIENT,
            raised_on=day,
            raised_by=ws.user,
        )
        flag.reason = seal_to_case(case, flag, {"reason": reasons[entry_pk], "entry": entry_pk})
        flag.save()
        CaseContact.objects.filter(pk__in=[row.pk for row in rows]).update(flag=flag)
        audit(ws.actor, "casework.flag", "case", case.code)
        notices.notify(
            [a.user for a in case.assignments.select_related("user")],
            "flag",
            f"{case.code}: a contact of this case was put on the watchlist",
            case=case,
        )
    return Rechecked(flags=len(by_entry), cases=len(cases))


# --- Flags sealed to a case's recipient -----------------------------------------------------


@sensitive_variables("value", "data")
def seal_to_case(case: Case, flag: Flag, value: Mapping[str, Any]) -> bytes:
    """``value`` and the flag's uid as an age file to the newest case key's recipient: only
    the case key opens it, and the uid ties it to this flag."""
    generation = CaseKeyGeneration.objects.filter(case=case).order_by("-number").first()
    if generation is None:
        raise NotFound(f"{case.code} has no key")
    data = json.dumps({"flag": str(flag.uid), **value}, ensure_ascii=False, sort_keys=True)
    return encrypt(pad(data.encode("utf-8")), [Recipient.parse(generation.recipient)])


def open_from_case(keys: Sequence[DeskKey], flag: Flag) -> dict[str, Any]:
    """Raises:
    DecryptionFailed: none of the keys opens it, damage, or a file made for another flag.
    """
    data = json.loads(decrypt(bytes(flag.reason), [key.identity for key in keys]))
    if not isinstance(data, dict) or data.pop("flag", None) != str(flag.uid):
        raise DecryptionFailed("A flag's reason was made for another flag.")
    return data


# --- Contacts of arrested people ------------------------------------------------------------


def arrested(term: Any) -> bool:
    """Whether a victim-status term (a records ``Term``) or one it is narrower than means an
    arrest."""
    while term is not None:
        if term.key in ARRESTED:
            return True
        term = term.parent
    return False


@sensitive_variables("contacts", "data")
def queue_detained(person_code: str, act_code: str, contacts: Sequence[str]) -> bool:
    """Queues a detained Person's contacts for the watchlist, encrypted to the casework
    desk's public recipient (no casework key is needed, or held, here). False when there is
    nothing to queue or no casework desk to queue it for.
    """
    from refugium.web.casework.services import CASEWORK_DESK

    wanted = [c.strip() for c in contacts if isinstance(c, str) and c.strip()]
    if not wanted:
        return False
    try:
        desk = accounts.get_desk(CASEWORK_DESK)
    except NotFound:
        return False
    data = json.dumps({"person": person_code, "act": act_code, "contacts": wanted})
    recipient = Recipient.parse(desk.current_generation().recipient)
    PendingWatch.objects.create(
        desk=desk,
        blob=encrypt(pad(data.encode("utf-8")), [recipient]),
        queued_on=timezone.localdate(),
    )
    return True


@dataclass(frozen=True)
class Drained:
    """What ``drain_pending`` did: queued arrests handled, contacts listed (new entries),
    contacts that are no contact of any kind, and flags raised on cases."""

    arrests: int
    listed: int
    unreadable: int
    flags: int


@sensitive_variables("data", "contacts", "identifier", "keys")
def drain_pending(ws: Workspace) -> Drained:
    """Lists the contacts of every queued arrest this workspace's keys open (origin
    ``detained``, the reason naming the Person and the act), re-checks the cases, and deletes
    the queued rows, each arrest in its own transaction. A row this member's keys cannot
    open (sealed to a generation they never held) waits for another member.
    Audited: ``casework.watchlist_detained`` with the number of contacts listed.
    """
    from refugium.web.casework import services

    arrests = listed = unreadable = flags = 0
    for pending in PendingWatch.objects.filter(desk=ws.desk).order_by("pk"):
        try:
            data = json.loads(decrypt(bytes(pending.blob), [key.identity for key in ws.keys]))
        except (DecryptionFailed, ValueError):
            continue
        reason = f"Contact of {data['person']}, arrested (act {data['act']})"
        with transaction.atomic():
            keys: list[str] = []
            for identifier in data["contacts"]:
                try:
                    kind = guess_kind(identifier)
                    key = lookup_key(identifier, kind)
                except BadInput:
                    unreadable += 1
                    continue
                _entry, created = services.add_to_watchlist(
                    ws, identifier, kind, reason, origin="detained", recheck_cases=False
                )
                listed += int(created)
                keys.append(key)
            flags += recheck(ws, keys).flags
            pending.delete()
            audit(ws.actor, "casework.watchlist_detained", "watchlist", str(len(keys)))
        arrests += 1
    return Drained(arrests=arrests, listed=listed, unreadable=unreadable, flags=flags)


@sensitive_variables("values", "before", "after")
def on_records_saved(sender: Any, ws: Any, prepared: Sequence[Any], **_: Any) -> None:
    """Receives ``records.signals.records_saved``: an act whose victim status becomes an
    arrest queues its victim's contacts; new contacts of a Person arrested before are queued
    too. Opening the victim's identity is audited by the records (``records.watchlist``)."""
    from refugium.web.records import services as records
    from refugium.web.records.models import Act, Person

    arrests = []
    for change in prepared:
        row = change.row
        if isinstance(row, Act):
            if "victim_status" not in change.changes["details"] or not arrested(row.victim_status):
                continue
            arrests.append(row)
        elif isinstance(row, Person) and change.action == "change":
            if "contacts" not in change.changes["identity"]:
                continue
            before, after = change.changes["identity"]["contacts"]
            added = [c for c in after or [] if c not in set(before or [])]
            act = _arrest_of(row)
            if added and act is not None:
                queue_detained(row.code, act.code, added)
    # The victims' identities of a whole batch (an import) are audited in one write.
    victims = records.read_identities(ws, [act.victim for act in arrests], why="watchlist")
    for act, values in zip(arrests, victims, strict=True):
        queue_detained(act.victim.code, act.code, values.get("contacts") or [])


def _arrest_of(person: Any) -> Any:
    """The person's latest act whose victim status means an arrest, if any."""
    from refugium.web.records.models import Act

    for act in Act.objects.filter(victim=person).exclude(victim_status=None).order_by("-pk"):
        if arrested(act.victim_status):
            return act
    return None
