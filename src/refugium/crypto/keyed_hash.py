"""Keyed hashes for exact-match lookups on secret values (contact identifiers, names).

A plain hash of a phone number is reversed by hashing every phone number; an HMAC under a
key derived from the desk secret is not, for anyone who seized only the database. The
``purpose`` is bound into the MAC input so that the digest of a value as a phone number and
as a name never match each other.

Digest (version 1): ``"k1:" + key_id + ":" + hex(HMAC-SHA-256(key, message))`` with
``message = length_prefixed("purpose", purpose, "value", NFC(value))``.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence

from refugium.crypto._encoding import length_prefixed
from refugium.crypto.desk import DeskKey
from refugium.errors import BadInput

_VERSION_1 = "k1"


class KeyedHasher:
    """HMAC-SHA-256 digests under a desk's keys: the first key digests, all can be looked up.

    The value is only NFC-normalised here; any further normalisation (case, transliteration)
    is the caller's and must be the same on every side of a comparison.

    Raises:
        BadInput: (on construction) no keys were given.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[DeskKey]) -> None:
        if not keys:
            raise BadInput("A KeyedHasher needs at least one desk key.", code="no_keys")
        self._keys = [(key.key_id, key._keyed_hash_key()) for key in keys]

    def digest(self, value: str, *, purpose: str) -> str:
        """The digest to store, under the newest key.

        Raises:
            BadInput: the purpose is empty.
        """
        key_id, key = self._keys[0]
        return _digest(key_id, key, value, purpose)

    def candidates(self, value: str, *, purpose: str) -> list[str]:
        """The digest under every key, newest first: look up with ``IN (...)`` across rotation.

        Raises:
            BadInput: the purpose is empty.
        """
        return [_digest(key_id, key, value, purpose) for key_id, key in self._keys]

    def __repr__(self) -> str:
        key_ids = ", ".join(key_id for key_id, _key in self._keys)
        return f"<KeyedHasher keys [{key_ids}] (secret)>"


def _digest(key_id: str, key: bytes, value: str, purpose: str) -> str:
    if not purpose:
        raise BadInput("A keyed hash needs a purpose.", code="no_purpose")
    message = length_prefixed("purpose", purpose, "value", unicodedata.normalize("NFC", value))
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"{_VERSION_1}:{key_id}:{mac}"
