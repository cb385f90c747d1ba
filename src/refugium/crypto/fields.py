"""Field-level encryption for database columns, bound to where the value lives.

A token is only valid in the cell it was written to: table, row and field are associated
data, so a ciphertext copied into another person's row or another column fails to decrypt
instead of silently showing one person's data as another's.

Token (version 1)::

    0x01 | key_id (8 bytes) | nonce (12 random bytes) | AES-256-GCM ciphertext and tag

associated data = 0x01 | key_id | length_prefixed("table", table, "row", row, "field", field)

Like ``cryptography.fernet.MultiFernet``: the first key encrypts, every key decrypts, chosen
by the key_id in the token, so a desk's key can rotate while old tokens stay readable until
they are re-encrypted.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from refugium.crypto._encoding import length_prefixed
from refugium.crypto.desk import DeskKey
from refugium.errors import BadInput, DecryptionFailed

_VERSION_1 = b"\x01"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX_BYTES = len(_VERSION_1) + _KEY_ID_BYTES + _NONCE_BYTES


class FieldCipher:
    """Encrypts and decrypts single database fields under a desk's keys, newest first.

    Raises:
        BadInput: (on construction) no keys were given.
    """

    __slots__ = ("_ciphers", "_encrypt_key_id")

    def __init__(self, keys: Sequence[DeskKey]) -> None:
        if not keys:
            raise BadInput("A FieldCipher needs at least one desk key.", code="no_keys")
        self._ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            key_id = bytes.fromhex(key.key_id)
            self._ciphers.setdefault(key_id, AESGCM(key._field_key()))
        self._encrypt_key_id = bytes.fromhex(keys[0].key_id)

    def encrypt(self, plaintext: bytes, *, table: str, row: str, field: str) -> bytes:
        """Encrypt a value for one cell, under the first (newest) key.

        Raises:
            Nothing.
        """
        nonce = os.urandom(_NONCE_BYTES)
        prefix = _VERSION_1 + self._encrypt_key_id + nonce
        aad = _associated_data(self._encrypt_key_id, table, row, field)
        return prefix + self._ciphers[self._encrypt_key_id].encrypt(nonce, plaintext, aad)

    def decrypt(self, token: bytes, *, table: str, row: str, field: str) -> bytes:
        """Decrypt a token read from the same table, row and field it was written to.

        Raises:
            DecryptionFailed: unknown version or key, wrong table/row/field, truncation or
                any changed byte.
        """
        if len(token) < _PREFIX_BYTES + _TAG_BYTES or token[:1] != _VERSION_1:
            raise _failed()
        key_id = token[1 : 1 + _KEY_ID_BYTES]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise _failed()
        nonce = token[1 + _KEY_ID_BYTES : _PREFIX_BYTES]
        try:
            return cipher.decrypt(
                nonce, token[_PREFIX_BYTES:], _associated_data(key_id, table, row, field)
            )
        except InvalidTag:
            raise _failed() from None

    def encrypt_text(self, plaintext: str, *, table: str, row: str, field: str) -> bytes:
        """``encrypt`` for text, stored as UTF-8.

        Raises:
            UnicodeEncodeError: the text holds a lone surrogate (a bug in the caller).
        """
        return self.encrypt(plaintext.encode("utf-8"), table=table, row=row, field=field)

    def decrypt_text(self, token: bytes, *, table: str, row: str, field: str) -> str:
        """``decrypt`` for text written with ``encrypt_text``.

        Raises:
            DecryptionFailed: as ``decrypt``, or the plaintext is not UTF-8.
        """
        plaintext = self.decrypt(token, table=table, row=row, field=field)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("The decrypted field is not text.") from None

    def __repr__(self) -> str:
        key_ids = ", ".join(key_id.hex() for key_id in self._ciphers)
        return f"<FieldCipher keys [{key_ids}] (secret)>"


def _failed() -> DecryptionFailed:
    return DecryptionFailed("Could not decrypt a field: wrong key, or the data is damaged.")


def _associated_data(key_id: bytes, table: str, row: str, field: str) -> bytes:
    """``0x01 | key_id | length_prefixed("table", table, "row", row, "field", field)``, from
    cached parts: only the row changes between the 300,000 cells a report opens."""
    head, tail = _aad_parts(key_id, table, field)
    data = row.encode("utf-8")
    return head + len(data).to_bytes(4, "big") + data + tail


@functools.lru_cache(maxsize=256)
def _aad_parts(key_id: bytes, table: str, field: str) -> tuple[bytes, bytes]:
    """What comes before the row's bytes (and their length) and what comes after them.
    Holds key ids, table and column names only: nothing secret."""
    head = _VERSION_1 + key_id + length_prefixed("table", table, "row")
    return head, length_prefixed("field", field)
