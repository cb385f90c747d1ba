"""HKDF-SHA256 (RFC 5869) for splitting one secret into keys for separate uses (internal)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf_sha256(secret: bytes, info: bytes, *, length: int = 32) -> bytes:
    """Derive ``length`` bytes for the use named by ``info``.

    No salt: every caller's input is already uniformly random key material (RFC 5869
    section 3.1), and distinct ``info`` labels keep the outputs independent.

    Raises:
        ValueError: ``length`` is over 8160 bytes (a bug in the caller).
    """
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)
