"""Unlocked desk secrets kept in the server-side session, under a key held by the cookie.

After login the server must be able to use a user's desk keys on each request, but a copy of
the session store (a backup, a seized disk) must not hold them. So the session holds them
sealed under a random key that exists only in the user's cookie: the server can open them
only while that browser sends its cookie. (Residual risk, stated in DESIGN.md: a running
server holds open sessions' keys in memory.)

Sealed text (version 1): ``"1." + base64url(nonce (12) | AES-256-GCM ciphertext and tag)``
without padding, with ``length_prefixed("refugium/session-box/v1", context)`` as associated
data, so a value sealed for one purpose cannot be replayed as another.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from refugium.crypto._encoding import length_prefixed
from refugium.crypto._hkdf import hkdf_sha256
from refugium.errors import BadInput, DecryptionFailed

_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX_V1 = "1."
_LABEL_V1 = "refugium/session-box/v1"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
_SEALED_BODY = re.compile(r"[A-Za-z0-9_-]+")


class SessionBox:
    """A 32-byte AES-256-GCM key that lives in a cookie and seals what the session holds."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        # Private: use ``generate`` or ``from_cookie_value``.
        self._key = key
        self._aead = AESGCM(key)

    @classmethod
    def generate(cls) -> SessionBox:
        """A new random box, one per login.

        Raises:
            Nothing.
        """
        return cls(os.urandom(_KEY_BYTES))

    @classmethod
    def from_server_secret(cls, secret: bytes, *, purpose: str) -> SessionBox:
        """A box whose key the server derives from one of its own secrets (HKDF-SHA256).

        For state that must live in the browser rather than on the server: a reporter's
        follow-up session is sealed into their cookie, so that a seized server holds no
        trace of who was signed in to which submission, and when.

        Raises:
            BadInput: the secret is shorter than 32 bytes or the purpose is empty.
        """
        if len(secret) < _KEY_BYTES or not purpose:
            raise BadInput("A server secret of 32 bytes or more and a purpose are needed.")
        return cls(hkdf_sha256(secret, f"{_LABEL_V1}/server/{purpose}".encode()))

    @classmethod
    def from_cookie_value(cls, value: str) -> SessionBox:
        """The box whose key a cookie carries.

        Raises:
            BadInput: the value is not 43 characters of unpadded URL-safe base64 of 32 bytes.
        """
        if not _COOKIE_VALUE.fullmatch(value):
            raise BadInput("Malformed session key.", code="bad_session_key")
        key = base64.urlsafe_b64decode(value + "=")
        if _b64(key) != value:  # the last character carries unused bits: one spelling only
            raise BadInput("Malformed session key.", code="bad_session_key")
        return cls(key)

    def to_cookie_value(self) -> str:
        """The key as unpadded URL-safe base64 (43 characters), for the cookie only.

        Raises:
            Nothing.
        """
        return _b64(self._key)

    def seal(self, data: bytes, *, context: str) -> str:
        """Encrypt data for the session store; ASCII text fit for a JSON session.

        Raises:
            Nothing.
        """
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, _associated_data(context))
        return _PREFIX_V1 + _b64(nonce + sealed)

    def open(self, sealed: str, *, context: str) -> bytes:
        """Decrypt text made by ``seal`` with the same box and context.

        Raises:
            DecryptionFailed: another box or context, unknown version, or damaged text.
        """
        failed = DecryptionFailed("Could not open the session data; log in again.")
        if not sealed.startswith(_PREFIX_V1):
            raise failed
        body = sealed[len(_PREFIX_V1) :]
        if not _SEALED_BODY.fullmatch(body):
            raise failed
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise failed from None
        if len(raw) < _NONCE_BYTES + _TAG_BYTES or _b64(raw) != body:
            raise failed  # too short, or a second spelling (unused bits set in the last char)
        try:
            return self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated_data(context)
            )
        except InvalidTag:
            raise failed from None

    def __repr__(self) -> str:
        return "<SessionBox (secret)>"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _associated_data(context: str) -> bytes:
    return length_prefixed(_LABEL_V1, context)
