"""The provocation watchlist: listing contacts and checking contacts against it (issue 9).

Every function takes a ``Workspace``: the casework desk unlocked for one actor, holding the
desk's keys in memory, built by ``workspace()`` under the same rule as the web's
``desk_member("casework")`` (an active account, an active member, the key in the keyring).
A contact reaches the database only as ``KeyedHasher.digest("kind:canonical")`` under the
desk's newest key; a check looks up the digests under every key the desk has had
(``candidates``), so a contact listed before a key rotation still matches after it. The
reason is sealed with the desk's ``FieldCipher``, bound to the table, the row's uid and the
column, padded to a multiple of 64 bytes so that its length says little.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework import KINDS, Kind, guess_kind, lookup_key
from refugium.crypto import DeskKey, FieldCipher, Identity, KeyedHasher
from refugium.errors import BadInput, RefugiumError
from refugium.web.access import holds_desk_key
from refugium.web.accounts import keyring as keyrings
from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.casework import recheck
from refugium.web.casework.models import PendingWatch, WatchlistEntry
from refugium.web.core.auditing import record as audit
from refugium.web.records.sealing import pad

CASEWORK_DESK = "casework"
# The canonical forms' rules are versioned in the purpose: if they ever change, old digests
# stop matching instead of matching the wrong contact, and the list is re-hashed.
WATCHLIST = "watchlist.v1"
MAX_REASON = 1_000
MAX_REASONS = 10_000
_TABLE = WatchlistEntry._meta.db_table
_BATCH = 5_000


class NoAccess(RefugiumError):
    """Not an active member of the casework desk holding its key (the web shows 404)."""

    code = "no_access"


@dataclass
class Workspace:
    """The casework desk, unlocked for ``actor``: its keys live here and nowhere else."""

    desk: Desk
    keys: Sequence[DeskKey] = field(repr=False)
    actor: str
    user: Any = field(default=None, repr=False)
    # The actor's own age identity: it opens the wraps of the case keys assigned to them
    # (cases.py); a case key is never wrapped to the desk.
    identity: Identity | None = field(default=None, repr=False)

    @cached_property
    def hasher(self) -> KeyedHasher:
        return KeyedHasher(self.keys)

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keys)


def casework_desk() -> Desk:
    """Raises:
    NotFound: the organisation has no casework desk.
    """
    return accounts.get_desk(CASEWORK_DESK)


def workspace(user: Any, keyring: keyrings.Keyring | None) -> Workspace:
    """The casework desk unlocked for ``user`` (the records' ``workspace`` for this desk).

    Raises:
        NotFound: no casework desk.
        NoAccess: ``user`` may not use it (the same rule as ``access.desk_member``).
    """
    desk = casework_desk()
    if not holds_desk_key(user, keyring, desk.name):
        raise NoAccess(
            f"this account is not an active member of desk {desk.name!r} holding its key"
        )
    assert keyring is not None
    ws = Workspace(
        desk=desk,
        keys=keyring.desk_keys(desk.name),
        actor=user.username,
        user=user,
        identity=keyring.identity,
    )
    # Arrests recorded since a casework member last came by wait, encrypted, to be listed.
    if PendingWatch.objects.filter(desk=desk).exists():
        recheck.drain_pending(ws)
    return ws


# --- Values from outside --------------------------------------------------------------------


def _kind(identifier: str, kind: str | None) -> Kind:
    """The kind given, or the guessed one when none was.

    Raises:
        BadInput: not a kind of contact.
    """
    if kind is None or kind == "":
        return guess_kind(identifier)
    if kind not in KINDS:
        raise BadInput(f"no kind of contact {kind!r}; kinds: {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]


def _reason(reason: str) -> str:
    """Raises:
    BadInput: no reason, or a longer one than a reason needs to be.
    """
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise BadInput("a watchlist entry needs a reason (who the contact is tied to, and how)")
    if len(text) > MAX_REASON:
        raise BadInput(f"a reason longer than {MAX_REASON} characters")
    return text


def _seal(ws: Workspace, uid: str, reason: str) -> bytes:
    return ws.cipher.encrypt(pad(reason.encode("utf-8")), table=_TABLE, row=uid, field="reason")


def reason_of(ws: Workspace, entry: WatchlistEntry) -> str:
    """The entry's reason, decrypted in memory.

    Raises:
        DecryptionFailed: a key this workspace lacks, a token moved from another row, damage.
    """
    token = bytes(entry.reason)
    plaintext = ws.cipher.decrypt(token, table=_TABLE, row=str(entry.uid), field="reason")
    return plaintext.decode("utf-8").rstrip(" ")


# --- Adding ---------------------------------------------------------------------------------


@sensitive_variables("identifier", "reason", "key", "text")
def add_to_watchlist(
    ws: Workspace,
    identifier: str,
    kind: str | None,
    reason: str,
    *,
    actor: str | None = None,
    today: date | None = None,
    origin: str = WatchlistEntry.Origin.MANUAL,
    recheck_cases: bool = True,
) -> tuple[WatchlistEntry, bool]:
    """Lists a contact; ``(entry, True)`` for a new entry, ``(existing, False)`` when the
    contact was listed before in any written form (under any generation of the desk key).

    A new entry re-checks every case at once (``recheck.recheck``): a case with this contact
    gets a flag. ``recheck_cases=False`` is for callers that re-check a batch themselves.

    A second reason for a listed contact is appended to the first on a line of its own
    (unless it is the same text): that the same number was seized from a detainee *and*
    used by a lure is what a caseworker needs to read. One audit entry per call, naming the
    entry's number only: ``casework.watchlist_add`` or ``casework.watchlist_reason``.
    ``kind`` None guesses it (``refugium.casework.guess_kind``).

    Raises:
        BadInput: an unknown kind, a contact that is not one of its kind, no reason or an
            over-long one.
        DecryptionFailed: the existing entry's reason does not open (damage).
    """
    checked_kind = _kind(identifier, kind)
    key = lookup_key(identifier, checked_kind)
    text = _reason(reason)
    if origin not in WatchlistEntry.Origin.values:
        raise BadInput(f"no origin {origin!r}")
    who = actor or ws.actor
    day = today or timezone.localdate()
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry, created = _add(ws, key, checked_kind, text, who, day, origin)
        except IntegrityError:
            # Another request listed the same contact between our look-up and our insert
            # (the unique constraint caught it): it is there now, so this becomes a second
            # reason.
            entry, created = _add(ws, key, checked_kind, text, who, day, origin)
        if created and recheck_cases:
            recheck.recheck(ws, [key])
    return entry, created


def entry_of(ws: Workspace, key: str) -> WatchlistEntry | None:
    """The entry of ``key`` (a lookup key) under any generation of the desk key, if any."""
    digests = ws.hasher.candidates(key, purpose=WATCHLIST)
    return WatchlistEntry.objects.filter(desk=ws.desk, digest__in=digests).first()


def _listed(ws: Workspace, key: str) -> WatchlistEntry | None:
    """The entry of ``key`` (a lookup key), digested under any generation of the desk key."""
    digests = ws.hasher.candidates(key, purpose=WATCHLIST)
    return (
        WatchlistEntry.objects.select_for_update().filter(desk=ws.desk, digest__in=digests).first()
    )


@sensitive_variables("key", "text", "reasons", "combined")
@transaction.atomic
def _add(
    ws: Workspace, key: str, kind: Kind, text: str, who: str, day: date, origin: str
) -> tuple[WatchlistEntry, bool]:
    existing = _listed(ws, key)
    if existing is not None:
        reasons = reason_of(ws, existing)
        if text not in reasons.split("\n"):
            combined = f"{reasons}\n{text}"
            if len(combined) > MAX_REASONS:
                raise BadInput(f"the entry's reasons would pass {MAX_REASONS} characters")
            existing.reason = _seal(ws, str(existing.uid), combined)
            existing.save(update_fields=["reason"])
            audit(who, "casework.watchlist_reason", "watchlist", str(existing.pk))
        return existing, False
    entry = WatchlistEntry(
        desk=ws.desk,
        kind=kind,
        digest=ws.hasher.digest(key, purpose=WATCHLIST),
        origin=origin,
        added_on=day,
        added_by=ws.user,
    )
    entry.reason = _seal(ws, str(entry.uid), text)
    entry.save()
    audit(who, "casework.watchlist_add", "watchlist", str(entry.pk))
    return entry, True


@dataclass(frozen=True)
class Added:
    """What ``add_many`` did: rows inserted, contacts already listed (or repeated within the
    batch), the seconds it took, and the flags it raised on cases."""

    added: int
    already_listed: int
    seconds: float
    flags: int = 0


@sensitive_variables("items", "identifier", "reason", "key")
def add_many(
    ws: Workspace,
    items: Iterable[tuple[str, str | None, str]],
    *,
    actor: str | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Added:
    """Lists many contacts ``(identifier, kind or None, reason)`` at once, for imports from
    a partner's list and for the benchmark: plain ``executemany`` in batches of 5,000 in one
    transaction, skipping contacts listed before (their reasons are left as they are).
    Each batch re-checks every case against its contacts (``recheck.recheck``).
    One audit entry for the whole import (``casework.watchlist_import``, the count).

    Raises:
        BadInput: a bad contact or reason; nothing is written (the message gives the item's
            position, never its content).
    """
    started = time.perf_counter()
    who = actor or ws.actor
    day = (today or timezone.localdate()).isoformat()
    user_id = getattr(ws.user, "pk", None)
    added = skipped = flags = 0
    quote = connection.ops.quote_name
    columns = ("uid", "desk_id", "kind", "digest", "reason", "origin", "added_on", "added_by_id")
    marks = ", ".join(["%s"] * len(columns))
    # Table and column names come from the model's metadata; values go in as parameters.
    # OR IGNORE: a contact listed before (or twice in ``items``) keeps its first entry.
    sql = (
        f"INSERT OR IGNORE INTO {quote(_TABLE)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({marks})"
    )
    if connection.vendor != "sqlite":
        sql = sql.replace("INSERT OR IGNORE", "INSERT") + " ON CONFLICT DO NOTHING"
    rotated = len(ws.keys) > 1
    with transaction.atomic(), connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        keys: list[str] = []

        def flush() -> None:
            nonlocal added, skipped, flags, batch
            rows = batch
            if rotated and rows:
                rows = _not_listed_under_older_keys(ws, rows, keys)
            if rows:
                cursor.executemany(sql, rows)
            # sqlite3 and psycopg sum the rows an executemany changed; ignored ones are not.
            inserted = max(cursor.rowcount, 0) if rows else 0
            added += inserted
            skipped += len(batch) - inserted
            if progress is not None and batch:
                progress(added + skipped)
            flags += recheck.recheck(ws, keys).flags
            batch, keys[:] = [], []

        for position, (identifier, kind, reason) in enumerate(items, start=1):
            try:
                checked_kind = _kind(identifier, kind)
                key = lookup_key(identifier, checked_kind)
                text = _reason(reason)
            except BadInput as error:
                raise BadInput(f"item {position}: {error.message}") from None
            uid = uuid.uuid4()
            batch.append(
                (
                    uid.hex,
                    ws.desk.pk,
                    checked_kind,
                    ws.hasher.digest(key, purpose=WATCHLIST),
                    _seal(ws, str(uid), text),
                    "manual",  # WatchlistEntry.Origin.MANUAL
                    day,
                    user_id,
                )
            )
            keys.append(key)
            if len(batch) >= _BATCH:
                flush()
        flush()
        # Inside the transaction: an import the audit log cannot hold does not happen.
        if added:
            audit(who, "casework.watchlist_import", "watchlist", str(added))
    return Added(
        added=added,
        already_listed=skipped,
        seconds=time.perf_counter() - started,
        flags=flags,
    )


def _not_listed_under_older_keys(
    ws: Workspace, rows: list[tuple[Any, ...]], keys: list[str]
) -> list[tuple[Any, ...]]:
    """The rows whose contact has no entry digested under an older generation of the key
    (the unique constraint sees only digests under the newest)."""
    older = {
        digest: index
        for index, key in enumerate(keys)
        for digest in ws.hasher.candidates(key, purpose=WATCHLIST)[1:]
    }
    listed = set(
        WatchlistEntry.objects.filter(desk=ws.desk, digest__in=list(older)).values_list(
            "digest", flat=True
        )
    )
    drop = {older[digest] for digest in listed}
    return [row for index, row in enumerate(rows) if index not in drop]


# --- Checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A contact that is on the watchlist: what was asked (as given), its kind, the entry and
    the entry's reasons, decrypted in memory."""

    identifier: str = field(repr=False)
    kind: Kind
    entry: WatchlistEntry
    reason: str = field(repr=False)


@sensitive_variables("identifiers", "identifier", "by_digest")
def check_contacts(
    ws: Workspace,
    identifiers: Iterable[tuple[str, str | None]],
    *,
    audit_matches: bool = True,
) -> list[Match]:
    """The watchlist entries that ``identifiers`` (``(identifier, kind or None)``) match, in
    the order asked, each with its reasons. One query per 500 contacts, digests under every
    generation of the desk key. Each match is audited (``casework.watchlist_match``, the
    entry's number), since it opens the entry's reason; ``audit_matches=False`` is for
    callers that audit the whole check themselves (and for timing the lookup alone).

    Raises:
        BadInput: an unknown kind, or a contact that is not one of its kind (its position is
            named, never its content).
        DecryptionFailed: a matched entry's reason does not open.
    """
    by_digest: dict[str, list[tuple[int, str, Kind]]] = {}
    for position, (identifier, kind) in enumerate(identifiers):
        try:
            checked_kind = _kind(identifier, kind)
            key = lookup_key(identifier, checked_kind)
        except BadInput as error:
            raise BadInput(f"contact {position + 1}: {error.message}") from None
        for digest in ws.hasher.candidates(key, purpose=WATCHLIST):
            by_digest.setdefault(digest, []).append((position, identifier, checked_kind))
    digests = list(by_digest)
    found: list[tuple[int, Match]] = []
    for start in range(0, len(digests), 500):
        entries = WatchlistEntry.objects.filter(
            desk=ws.desk, digest__in=digests[start : start + 500]
        )
        for entry in entries:
            reason = reason_of(ws, entry)
            for position, identifier, kind in by_digest[entry.digest]:
                found.append((position, Match(identifier, kind, entry, reason)))
    found.sort(key=lambda pair: (pair[0], pair[1].entry.pk))
    if audit_matches:
        for pk in dict.fromkeys(match.entry.pk for _position, match in found):
            audit(ws.actor, "casework.watchlist_match", "watchlist", str(pk))
    return [match for _position, match in found]


def watchlist_size(desk: Desk) -> int:
    """How many contacts the desk's watchlist holds (a count of rows: no key needed)."""
    return WatchlistEntry.objects.filter(desk=desk).count()
