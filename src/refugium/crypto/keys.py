"""age X25519 identities and recipients, and whole-file encryption in the age format.

Everything refugium encrypts to a key is an age file, so that an organisation can still read
its archive with the stock ``age`` tool and its identities when refugium is gone (DESIGN.md
section 2). pyrage is used only here.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

import bech32
import pyrage  # type: ignore[import-untyped]  # pyrage ships no type information

from refugium.errors import BadInput, DecryptionFailed

_SECRET_HRP = "age-secret-key-"  # noqa: S105  # the format's prefix, not a secret
_SECRET_PREFIX = "AGE-SECRET-KEY-1"  # noqa: S105
_SEED_BYTES = 32
# An age X25519 recipient is 62 characters and a secret key 74; anything far longer is not
# one, and is refused before it reaches the parser.
_MAX_KEY_TEXT_CHARS = 1000


class Recipient:
    """A public age X25519 key ("age1…"): what data is encrypted to."""

    __slots__ = ("_inner", "_text")

    def __init__(self, inner: Any) -> None:
        # Private: build recipients with ``Recipient.parse`` or ``Identity.recipient``.
        self._inner: Any = inner
        self._text = str(inner)

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Parse an "age1…" recipient, ignoring surrounding whitespace.

        Raises:
            BadInput: the text is not an age X25519 recipient.
        """
        if len(text) > _MAX_KEY_TEXT_CHARS:
            raise BadInput("Not an age recipient (age1…).", code="bad_recipient")
        try:
            inner = pyrage.x25519.Recipient.from_str(text.strip())
        except Exception:  # pyrage's error types are undocumented; any failure is bad input
            raise BadInput("Not an age recipient (age1…).", code="bad_recipient") from None
        return cls(inner)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<Recipient {self._text}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipient) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)


class Identity:
    """A secret age X25519 key ("AGE-SECRET-KEY-1…"): what decrypts.

    Its secret leaves only through ``to_secret_string``.
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        # Private: build identities with ``generate``, ``from_secret_string`` or ``from_seed``.
        self._inner: Any = inner

    @classmethod
    def generate(cls) -> Identity:
        """A new random identity (from the operating system's CSPRNG, inside rage).

        Raises:
            Nothing.
        """
        return cls(pyrage.x25519.Identity.generate())

    @classmethod
    def from_secret_string(cls, text: str) -> Identity:
        """Parse an "AGE-SECRET-KEY-1…" line, as typed back from a paper key.

        Whitespace anywhere (line breaks, spaces between groups) and the letter case are
        ignored: bech32 is case-insensitive and a person copying 74 characters off paper
        should not fail on either.

        Raises:
            BadInput: the text is not an age X25519 secret key (checksum included).
        """
        if len(text) > _MAX_KEY_TEXT_CHARS:
            raise BadInput("Not an age secret key (AGE-SECRET-KEY-1…).", code="bad_identity")
        compact = "".join(text.split()).upper()
        if not compact.startswith(_SECRET_PREFIX):
            raise BadInput("Not an age secret key (AGE-SECRET-KEY-1…).", code="bad_identity")
        try:
            inner = pyrage.x25519.Identity.from_str(compact)
        except Exception:  # pyrage's error types are undocumented; any failure is bad input
            raise BadInput(
                "Not an age secret key (AGE-SECRET-KEY-1…): check it for typing errors.",
                code="bad_identity",
            ) from None
        return cls(inner)

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        """The identity whose X25519 secret is these 32 bytes.

        This is how a receipt becomes an identity: the bytes are encoded as the standard
        "AGE-SECRET-KEY-1…" string and parsed by pyrage, so the result is an ordinary age key.

        Raises:
            BadInput: the seed is not exactly 32 bytes.
        """
        if len(seed) != _SEED_BYTES:
            raise BadInput("An identity seed is exactly 32 bytes.", code="bad_seed")
        data = bech32.convertbits(seed, 8, 5)
        assert data is not None  # convertbits fails only for values >= 2**8
        text = bech32.bech32_encode(_SECRET_HRP, data).upper()
        return cls(pyrage.x25519.Identity.from_str(text))

    def to_secret_string(self) -> str:
        """The secret as an "AGE-SECRET-KEY-1…" line, readable by ``age -d -i``.

        Raises:
            Nothing.
        """
        return str(self._inner)

    @property
    def recipient(self) -> Recipient:
        """The public half: what to encrypt to for this identity to read."""
        return Recipient(self._inner.to_public())

    def _secret_bytes(self) -> bytes:
        # Package-internal: the raw 32-byte X25519 secret, for HKDF (DeskKey) and for wrapping.
        _hrp, data = bech32.bech32_decode(self.to_secret_string().lower())
        assert data is not None  # rage only writes valid bech32
        raw = bech32.convertbits(data, 5, 8, False)
        assert raw is not None
        return bytes(raw)

    def __repr__(self) -> str:
        return f"<Identity for {self.recipient} (secret)>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Identity) and hmac.compare_digest(
            other._secret_bytes(), self._secret_bytes()
        )

    def __hash__(self) -> int:
        return hash(str(self.recipient))


def encrypt(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    """Encrypt to every recipient, as a binary age file (``age -d -i KEYFILE`` reads it).

    Raises:
        BadInput: no recipients were given.
    """
    if not recipients:
        raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
    return bytes(pyrage.encrypt(data, [recipient._inner for recipient in recipients]))


def decrypt(data: bytes, identities: Sequence[Identity]) -> bytes:
    """Decrypt an age file with whichever of the identities it was encrypted to.

    Raises:
        DecryptionFailed: no identity fits, or the data is not an intact age file.
    """
    if not identities:
        raise DecryptionFailed("No key to decrypt with.")
    try:
        return bytes(pyrage.decrypt(data, [identity._inner for identity in identities]))
    except Exception:  # wrong key, truncation, tampering, garbage: all one answer
        raise DecryptionFailed("Could not decrypt: wrong key, or the file is damaged.") from None
