"""Ed25519 signing keys for the organisation's signed hash chains (audit log, custody log).

The private key signs each chain entry so that an entry cannot be added, edited or removed
without the key; the public key travels with every export so that anyone can check the chain
without refugium (``openssl pkeyutl -verify`` reads the PEM forms written here).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from refugium.errors import BadInput, RefugiumError


class BadSignature(RefugiumError):
    """A signature does not verify under the given public key."""

    code = "bad_signature"


class VerifyKey:
    """An Ed25519 public key."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    @classmethod
    def from_public_pem(cls, data: bytes) -> VerifyKey:
        """Raises:
        BadInput: the data is not a PEM Ed25519 public key.
        """
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise BadInput("not a PEM public key", code="bad_public_key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise BadInput("the public key is not an Ed25519 key", code="bad_public_key")
        return cls(key)

    def to_public_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_openssh(self) -> str:
        return self._key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode("ascii")

    def verify(self, signature: bytes, data: bytes) -> None:
        """Returns nothing when the signature holds.

        Raises:
            BadSignature: it does not.
        """
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            raise BadSignature("signature does not verify") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.to_public_pem() == self.to_public_pem()

    def __hash__(self) -> int:
        return hash(self.to_public_pem())

    def __repr__(self) -> str:
        return f"<VerifyKey {self.to_openssh()[:40]}…>"


class SigningKey:
    """An Ed25519 private key. Its bytes leave only through ``to_private_pem``."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_pem(cls, data: bytes) -> SigningKey:
        """Raises:
        BadInput: the data is not an unencrypted PEM Ed25519 private key.
        """
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise BadInput("not a PEM private key", code="bad_private_key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput("the private key is not an Ed25519 key", code="bad_private_key")
        return cls(key)

    def to_private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def verify_key(self) -> VerifyKey:
        return VerifyKey(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return "<SigningKey (secret)>"
