"""The audit log: who did what to which object, and when; never the content.

Why: a compromised researcher account (DESIGN §1, the insider) reads what it can read. The
audit log is how the organisation finds out what that was, so it lives on the signed hash
chain (``refugium.chain``) where an entry cannot be edited or removed without the signing key.

Why never content: the log is kept for years and shown to whoever investigates a leak, and a
seized server yields it in full. So it takes only short identifier-like values (row ids,
pseudonymous codes, action names), and refuses, with ``BadInput``, anything that looks like
free text: spaces, newlines, non-ASCII letters (a name in Cyrillic), more than 64 characters,
or words joined by hyphens or dots as a memorised receipt is. A regular expression cannot tell
a one-word secret from an identifier; callers pass ids, not values, and this guard stops the
accidents that do happen.

Time: each entry carries its time to the second, in UTC. Reporters' actions must not be
recorded here with their times (DESIGN §1 keeps no exact submission times of reporters): the
log is for what staff accounts do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from refugium.chain import Entry, SignedChain
from refugium.crypto.signing import SigningKey, VerifyKey
from refugium.errors import BadInput

__all__ = ["IDENTIFIER", "AuditLog", "check_identifier"]

IDENTIFIER = re.compile(r"[A-Za-z0-9_.:@-]{0,64}", re.ASCII)
"""What an actor, action, object type or object id may look like (matched in full)."""

# Words of three or more letters, five or more of them joined by separators: the shape of a
# receipt or passphrase written without spaces ("lunar-mosaic-velvet-…"). Ids have digits.
_WORD_SEQUENCE = re.compile(r"(?:[A-Za-z]{3,}[_.:@-]){4,}[A-Za-z]{3,}", re.ASCII)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """The organisation's audit log, over one ``SignedChain``.

    Each entry's body is ``{"at": "YYYY-MM-DDTHH:MM:SSZ", "actor": ..., "action": ...,
    "object": {"type": ..., "id": ...}}``.
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
        self._clock = clock

    @property
    def chain(self) -> SignedChain:
        """The chain underneath, for ``head()``, ``repair_torn_tail()`` and the like."""
        return self._chain

    def record(
        self,
        actor: str,
        action: str,
        object_type: str = "",
        object_id: str = "",
        *,
        at: datetime | None = None,
    ) -> None:
        """Records that ``actor`` did ``action`` to the object, durably, before returning.

        ``actor`` and ``action`` are required; ``object_type`` and ``object_id`` may be empty
        (an action on no object, such as a login), but an id needs a type.

        Raises:
            BadInput: a value is not a short identifier (code ``not_an_identifier``), or
                ``at`` (or the clock's answer) has no time zone (code ``naive_time``). The log
                is left unchanged.
            ChainBroken: the log's last line is damaged; see ``SignedChain.append``.
            OSError: the log cannot be written.
        """
        self.record_many([(actor, action, object_type, object_id)], at=at)

    def record_many(
        self, entries: Sequence[tuple[str, str, str, str]], *, at: datetime | None = None
    ) -> None:
        """Records each ``(actor, action, object type, object id)`` as ``record`` would, in
        order, durably, with one write to the log (``SignedChain.append_many``): for a bulk
        operation that audits every record it opens.

        Raises:
            BadInput, ChainBroken, OSError: as for ``record``; one bad value anywhere and
                nothing is written.
        """
        for actor, action, object_type, object_id in entries:
            fields = (
                ("actor", actor, True),
                ("action", action, True),
                ("object type", object_type, False),
                ("object id", object_id, False),
            )
            for name, value, required in fields:
                check_identifier(name, value, required=required)
            if object_id and not object_type:
                raise BadInput("an object id needs an object type", code="not_an_identifier")
        when = self._clock() if at is None else at
        if when.tzinfo is None or when.utcoffset() is None:
            raise BadInput("the time of an audit entry needs a time zone", code="naive_time")
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._chain.append_many(
            [
                {
                    "at": stamp,
                    "actor": actor,
                    "action": action,
                    "object": {"type": object_type, "id": object_id},
                }
                for actor, action, object_type, object_id in entries
            ]
        )

    def verify(self, *, anchor: tuple[int, str] | None = None) -> int:
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
        """The log's head after a full verification; see ``SignedChain.head``.

        Raises:
            ChainBroken: as for ``verify``.
            OSError: the log exists but cannot be read.
        """
        return self._chain.head()

    def entries(self) -> Iterator[Entry]:
        """Yields entries as they verify; see ``SignedChain.entries``.

        Raises:
            ChainBroken: when a bad entry is reached.
            OSError: the log exists but cannot be read.
        """
        return self._chain.entries()


def check_identifier(name: str, value: object, *, required: bool) -> None:
    """Raises:
    BadInput: ``value`` is not a short identifier. The message names the field, never the
        value, which may be the very secret that must not be logged.
    """
    if (
        not isinstance(value, str)
        or IDENTIFIER.fullmatch(value) is None
        or (required and not value)
        or _WORD_SEQUENCE.search(value) is not None
    ):
        raise BadInput(
            f"the audit {name} must be a short identifier (letters, digits, _ . : @ -)",
            code="not_an_identifier",
        )
