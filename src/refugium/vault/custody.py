"""The chain of custody: every event on a piece of evidence, signed and hash-linked.

Why: a court asks who held a file, who looked at it, what copies were made and whether it is
the file that arrived. The custody log answers that on the same signed hash chain as the
audit log (``refugium.chain``), so an entry cannot be edited, removed or reordered without
the organisation's custody key, and a court's expert checks it with stock tools.

Only identifiers reach the log
------------------------------
The log goes to courts, and a seized server yields it in full. So every value is a short
identifier (item ids, account names, record codes like ``E-0001``, event names, hex
digests), checked by ``refugium.audit.check_identifier``; anything that looks like free text
(spaces, non-ASCII letters, long strings, words joined like a passphrase) is refused with
``BadInput`` and nothing is written.

Content commitments, not bare hashes
------------------------------------
A file's SHA-256 in the clear would let whoever seizes the server ask "do they hold this
photo?" of every file they know (say, the pictures on a confiscated phone): hash it, grep the
log. So the log holds a *commitment* instead::

    commitment = sha256(f"{salt}:{sha256}".encode("ascii")).hexdigest()

with ``salt`` 16 random bytes in hex (``new_salt()``), different for every item and kept by
the caller encrypted, next to the item. Without the salt the commitment says nothing about
the file; with it, it binds the log entry to exactly one SHA-256. An export bundle reveals
salt and SHA-256 for the exported items only, and anyone checks the link with coreutils::

    printf '%s:%s' SALT SHA256 | sha256sum      # must print the commitment in the log

Body of each entry (keys sorted by the chain's canonical JSON)::

    {"actor": ..., "at": "YYYY-MM-DDTHH:MM:SSZ", "content": <commitment>, "event": ...,
     "item": ..., "size": <int, optional>, <extra fields>: ...}

Events: ``ingested``, ``viewed``, ``exported``, ``shared`` (needs ``copy``: the commitment
of the sharing copy, e.g. one stripped of metadata), ``attached`` and ``detached`` (need
``record``: the record's code), ``deleted``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from refugium.audit import check_identifier
from refugium.chain import MAX_INT, Entry, SignedChain
from refugium.crypto.signing import SigningKey, VerifyKey
from refugium.errors import BadInput

__all__ = [
    "EVENTS",
    "REQUIRED_FIELDS",
    "CustodyLog",
    "check_commitment",
    "commitment",
    "new_salt",
]

EVENTS = frozenset({"ingested", "viewed", "exported", "shared", "attached", "detached", "deleted"})
"""The events a custody entry may record."""

REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "shared": frozenset({"copy"}),
    "attached": frozenset({"record"}),
    "detached": frozenset({"record"}),
}
"""Extra fields an event cannot do without."""

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_SALT = re.compile(r"(?:[0-9a-f]{2}){16,64}", re.ASCII)
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_RESERVED = frozenset({"at", "event", "item", "actor", "content", "size"})
# Fields whose values are digests: held to 64 lowercase hex, not just "an identifier".
_DIGEST_FIELDS = frozenset({"copy"})
_SALT_BYTES = 16


def new_salt() -> str:
    """A fresh salt for one item's commitment: 16 random bytes, lowercase hex.

    Raises:
        Nothing.
    """
    return secrets.token_hex(_SALT_BYTES)


def commitment(sha256_hex: str, salt_hex: str) -> str:
    """``sha256(f"{salt}:{sha256}")`` in lowercase hex: what the log holds instead of the hash.

    Checkable without refugium: ``printf '%s:%s' SALT SHA256 | sha256sum``.

    Raises:
        BadInput: ``sha256_hex`` is not 64 lowercase hex digits, or ``salt_hex`` is not 16 to
            64 bytes in lowercase hex (code ``bad_commitment_input``). Uppercase is refused
            rather than folded: the court's command hashes the text as written.
    """
    if not isinstance(sha256_hex, str) or _HEX64.fullmatch(sha256_hex) is None:
        raise BadInput("a SHA-256 must be 64 lowercase hex digits", code="bad_commitment_input")
    if not isinstance(salt_hex, str) or _SALT.fullmatch(salt_hex) is None:
        raise BadInput(
            "a salt must be 16 to 64 bytes in lowercase hex", code="bad_commitment_input"
        )
    return hashlib.sha256(f"{salt_hex}:{sha256_hex}".encode("ascii")).hexdigest()


def check_commitment(name: str, value: object) -> None:
    """Raises:
    BadInput: ``value`` is not 64 lowercase hex digits (code ``not_an_identifier``).
    """
    if not isinstance(value, str) or _HEX64.fullmatch(value) is None:
        raise BadInput(
            f"the custody {name} must be a commitment (64 lowercase hex digits)",
            code="not_an_identifier",
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CustodyLog:
    """The organisation's custody log over one ``SignedChain``.

    Open it with only the ``verify_key`` to read and check it, with the ``signing_key`` too to
    record events.
    """

    def __init__(
        self,
        path: Path,
        verify_key: VerifyKey,
        signing_key: SigningKey | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """``clock`` is a seam for tests; it must return an aware datetime.

        Raises:
            BadInput: the signing key does not belong to ``verify_key`` (code
                ``key_mismatch``).
        """
        self._chain = SignedChain(path, verify_key, signing_key)
        self._verify_key = verify_key
        self._clock = clock

    @property
    def chain(self) -> SignedChain:
        """The chain underneath, for ``repair_torn_tail()`` and the like."""
        return self._chain

    @property
    def path(self) -> Path:
        return self._chain.path

    @property
    def verify_key(self) -> VerifyKey:
        """The public key entries are checked with; an export bundle carries it."""
        return self._verify_key

    def record(
        self,
        event: str,
        item: str,
        *,
        actor: str,
        content: str,
        size: int | None = None,
        at: datetime | None = None,
        **fields: str,
    ) -> Entry:
        """Appends one event on ``item`` durably, before returning.

        ``content`` is the item's ``commitment(sha256, salt)``, never the bare SHA-256.
        ``fields`` are extra identifier-valued fields: ``copy`` (a commitment) for
        ``shared``, ``record`` (a record code) for ``attached`` and ``detached``.

        Returns:
            The entry as written.

        Raises:
            BadInput: an unknown event (code ``unknown_event``); a value that is not an
                identifier or a commitment, a bad field name, or a missing required field
                (code ``not_an_identifier``); a size that is not a non-negative integer
                (code ``bad_size``); a time with no time zone (code ``naive_time``). The log
                is left unchanged, and the message never repeats the value.
            ChainBroken: the log's last line is damaged; see ``SignedChain.append``.
            OSError: the log cannot be written.
        """
        if not isinstance(event, str) or event not in EVENTS:
            raise BadInput(
                "the custody event must be one of " + ", ".join(sorted(EVENTS)),
                code="unknown_event",
            )
        _check("item", item)
        _check("actor", actor)
        check_commitment("content", content)
        if size is not None and (type(size) is not int or not 0 <= size <= MAX_INT):
            raise BadInput("the custody size must be a non-negative integer", code="bad_size")
        missing = REQUIRED_FIELDS.get(event, frozenset()) - fields.keys()
        if missing:
            raise BadInput(
                f"a {event} entry needs the field(s) {', '.join(sorted(missing))}",
                code="not_an_identifier",
            )
        for name, value in fields.items():
            if _FIELD_NAME.fullmatch(name) is None or name in _RESERVED:
                raise BadInput(
                    "a custody field name must be lowercase letters, digits and _",
                    code="not_an_identifier",
                )
            if name in _DIGEST_FIELDS:
                check_commitment(name, value)
            else:
                _check(name, value)
        when = self._clock() if at is None else at
        if when.tzinfo is None or when.utcoffset() is None:
            raise BadInput("the time of a custody entry needs a time zone", code="naive_time")
        body: dict[str, object] = {
            "at": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event": event,
            "item": item,
            "actor": actor,
            "content": content,
        }
        if size is not None:
            body["size"] = size
        body.update(fields)
        return self._chain.append(body)

    def entries(self, item: str | None = None) -> Iterator[Entry]:
        """Yields entries as they verify, only those for ``item`` if given.

        Raises:
            ChainBroken: when a bad entry is reached (entries before it were yielded).
            OSError: the log exists but cannot be read.
        """
        for entry in self._chain.entries():
            if item is None or entry["body"].get("item") == item:
                yield entry

    def verify(self, anchor: tuple[int, str] | None = None) -> int:
        """Checks the whole log; see ``SignedChain.verify``.

        Returns:
            The number of entries.

        Raises:
            ChainBroken: ``index`` is the first bad entry.
            BadInput: ``anchor`` is not a head.
            OSError: the log exists but cannot be read.
        """
        return self._chain.verify(anchor=anchor)

    def head(self) -> tuple[int, str]:
        """Entry count and hash of the last line, to write down away from the server.

        Raises:
            ChainBroken: as for ``verify``.
            OSError: the log exists but cannot be read.
        """
        return self._chain.head()


def _check(name: str, value: object) -> None:
    """The audit log's identifier rule, with a message that names the custody field.

    Raises:
        BadInput: ``value`` is not a short identifier (code ``not_an_identifier``).
    """
    try:
        check_identifier(name, value, required=True)
    except BadInput:
        raise BadInput(
            f"the custody {name} must be a short identifier (letters, digits, _ . : @ -)",
            code="not_an_identifier",
        ) from None
