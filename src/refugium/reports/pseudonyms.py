"""Report-specific pseudonyms: "Person 1", "Person 2", … that reveal nothing about the records.

A report must be able to say "Person 3 was detained in week 8 and again in week 11" without
publishing the internal code (``P-0042``, which a later leak of the database would resolve)
and without numbering people in the order they were entered (which tells who reported
first). :class:`Pseudonyms` numbers a set of internal ids by the sorted HMAC-SHA-256 of each
id under a secret that belongs to the report:

* the same secret and the same ids give the same pseudonyms (a rebuild is byte-identical);
* another report's secret gives an unrelated numbering, so two reports cannot be joined on
  pseudonyms;
* the numbering depends on the whole set of ids, so all ids are assigned at once
  (:meth:`Pseudonyms.assign`); a second, different assignment is refused rather than
  silently renumbering.

The prefix (``"Person"``, ``"Event"``, ``"Item"``) is part of the HMAC input, so persons and
events under the same secret are numbered independently. The secret is kept with the report
definition on the server (the desk's encrypted storage) and never published; without it the
pseudonyms cannot be tied back to ids even by someone holding the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

from refugium.errors import BadInput

__all__ = ["MIN_SECRET_BYTES", "Pseudonyms", "new_secret"]

MIN_SECRET_BYTES = 16
_DOMAIN = b"refugium report pseudonym v1\x00"


def new_secret() -> bytes:
    """A fresh 32-byte secret for a new report."""
    return secrets.token_bytes(32)


class Pseudonyms:
    """Numbered pseudonyms ``f"{prefix} {n}"`` for one kind of record in one report."""

    def __init__(self, secret: bytes, prefix: str) -> None:
        """
        Raises:
            BadInput: the secret is not bytes of at least 16, or the prefix is empty or
                contains a NUL.
        """
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise BadInput(
                f"a pseudonym secret must be at least {MIN_SECRET_BYTES} random bytes",
                code="pseudonym_secret",
            )
        if not prefix.strip() or "\x00" in prefix:
            raise BadInput("a pseudonym prefix must be non-empty text", code="pseudonym_prefix")
        self._secret = secret
        self.prefix = prefix.strip()
        self._names: dict[str, str] | None = None

    def __repr__(self) -> str:  # never the secret
        return f"Pseudonyms(prefix={self.prefix!r}, assigned={self._names is not None})"

    def _digest(self, internal_id: str) -> bytes:
        message = _DOMAIN + self.prefix.encode() + b"\x00" + internal_id.encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def assign(self, ids: Iterable[str | int]) -> Mapping[str, str]:
        """Number every id (duplicates count once); returns id (as text) → pseudonym.

        Raises:
            BadInput: (code "pseudonym_reassigned") called again with a different set.
        """
        unique = sorted({str(i) for i in ids})
        if self._names is not None:
            if sorted(self._names) != unique:
                raise BadInput(
                    f"{self.prefix} pseudonyms were already assigned for another set of records",
                    code="pseudonym_reassigned",
                )
            return dict(self._names)
        ordered = sorted(unique, key=self._digest)
        self._names = {i: f"{self.prefix} {n}" for n, i in enumerate(ordered, 1)}
        return dict(self._names)

    def __getitem__(self, internal_id: str | int) -> str:
        """The pseudonym of an assigned id.

        Raises:
            KeyError: no assignment yet, or the id was not in it.
        """
        if self._names is None:
            raise KeyError("no pseudonyms assigned yet")
        return self._names[str(internal_id)]

    def __len__(self) -> int:
        return 0 if self._names is None else len(self._names)
