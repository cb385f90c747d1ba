"""Refugium's cryptographic recipes. No Django imports.

pyrage, argon2-cffi and pyca/cryptography primitives are used only inside this package; the
rest of refugium works with the types exported here.
"""

from refugium.crypto.signing import BadSignature, SigningKey, VerifyKey
from refugium.errors import DecryptionFailed

__all__ = [
    "BadSignature",
    "DecryptionFailed",
    "SigningKey",
    "VerifyKey",
]
