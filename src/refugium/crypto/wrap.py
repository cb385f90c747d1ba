"""A user's age identity, wrapped by a key derived from their passphrase.

The server stores only this blob; the identity exists in the clear only while its owner is
logged in. The blob says how it was made (a version byte and its Argon2id parameters), as
Django's stored password hashes do, so the cost can be raised later and old blobs rewrapped at
the next login (``needs_rewrap``).

Version 1 layout (all integers big-endian)::

    0x01 | time_cost u32 | memory_cost_kib u32 | parallelism u8 | salt (16) | nonce (12)
         | AES-256-GCM(key, nonce, identity secret (32 bytes), associated data = the header)

The header (everything before the ciphertext) is the associated data, so no parameter can be
changed without the unwrap failing.
"""

from __future__ import annotations

import os
import struct
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from refugium.crypto.kdf import MAX_SECRET_BYTES, derive_key
from refugium.crypto.keys import Identity
from refugium.crypto.profiles import Argon2Profile
from refugium.errors import BadInput, DecryptionFailed

_VERSION_1 = 1
_HEADER_V1 = struct.Struct(">BIIB16s12s")
_SECRET_BYTES = 32
_TAG_BYTES = 16
_BLOB_V1_BYTES = _HEADER_V1.size + _SECRET_BYTES + _TAG_BYTES

# A stored blob names its own cost. Without a ceiling a tampered blob could ask for terabytes
# or hours and take the server down at one login attempt; these are well above any sane
# profile (PRODUCTION is 64 MiB and 3 passes).
MAX_STORED_MEMORY_KIB = 1024 * 1024  # 1 GiB
MAX_STORED_TIME_COST = 20
MAX_STORED_PARALLELISM = 64

_MIN_PASSPHRASE_CHARS = 12


def check_passphrase_policy(passphrase: str) -> None:
    """Refuse a passphrase that is too short to resist guessing or too long to process.

    Length is the only rule: composition rules push people to predictable substitutions
    (NIST SP 800-63B section 3.1.1.2). Counted after NFC normalisation, as the KDF sees it.

    Raises:
        BadInput: (code "weak_passphrase") under 12 characters or over 1024 bytes in UTF-8.
    """
    if len(_utf8(passphrase)) > MAX_SECRET_BYTES:
        raise BadInput(
            f"Choose a shorter passphrase: at most {MAX_SECRET_BYTES} bytes "
            "(about 1000 Latin or 500 Cyrillic letters).",
            code="weak_passphrase",
        )
    if len(unicodedata.normalize("NFC", passphrase)) < _MIN_PASSPHRASE_CHARS:
        raise BadInput(
            f"Choose a longer passphrase: at least {_MIN_PASSPHRASE_CHARS} characters. "
            "Several unrelated words are long and easy to remember.",
            code="weak_passphrase",
        )


def wrap_identity(identity: Identity, passphrase: str, profile: Argon2Profile) -> bytes:
    """Encrypt the identity under a key derived from the passphrase with Argon2id.

    The passphrase is NFC-normalised first, so that the same passphrase typed on another
    keyboard or operating system (composed or decomposed accents) still unwraps.

    Raises:
        BadInput: the passphrase is over ``MAX_SECRET_BYTES`` in UTF-8 (checked before Argon2
            runs), or the profile is above the ceiling that ``unwrap_identity`` accepts.
    """
    secret = _passphrase_bytes(passphrase)
    if not _within_ceiling(profile.time_cost, profile.memory_cost_kib, profile.parallelism):
        raise BadInput(
            "This Argon2 profile is above what unwrapping accepts; choose a cheaper one.",
            code="bad_argon2_profile",
        )
    salt = os.urandom(16)
    nonce = os.urandom(12)
    header = _HEADER_V1.pack(
        _VERSION_1, profile.time_cost, profile.memory_cost_kib, profile.parallelism, salt, nonce
    )
    key = derive_key(secret, salt, profile)
    return header + AESGCM(key).encrypt(nonce, identity._secret_bytes(), header)


def unwrap_identity(blob: bytes, passphrase: str) -> Identity:
    """Recover the identity from a blob made by ``wrap_identity``.

    Raises:
        BadInput: the passphrase is over ``MAX_SECRET_BYTES`` in UTF-8 (checked first, before
            Argon2 runs).
        DecryptionFailed: wrong passphrase, or the blob is truncated, tampered with, of an
            unknown version, or asks for Argon2 parameters above the ceiling.
    """
    secret = _passphrase_bytes(passphrase)
    version = blob[0] if blob else None
    if version == _VERSION_1:
        return _unwrap_v1(blob, secret)
    raise DecryptionFailed("Could not unlock: wrong passphrase, or the stored key is damaged.")


def needs_rewrap(blob: bytes, profile: Argon2Profile) -> bool:
    """Whether the blob should be wrapped again (at the next unlock, with the passphrase).

    True when its format version is older than the current one, or its Argon2 time or memory
    cost is below the profile's: the idea of Django's ``must_update``.

    Raises:
        DecryptionFailed: the blob is malformed (its parameters cannot be read).
    """
    if not blob or blob[0] != _VERSION_1 or len(blob) != _BLOB_V1_BYTES:
        raise DecryptionFailed("The stored key is damaged.")
    _version, time_cost, memory_cost_kib, _parallelism, _salt, _nonce = _HEADER_V1.unpack_from(blob)
    # Version 1 is the current version; once a version 2 exists, version-1 blobs return True.
    return bool(time_cost < profile.time_cost or memory_cost_kib < profile.memory_cost_kib)


def _unwrap_v1(blob: bytes, secret: bytes) -> Identity:
    failed = DecryptionFailed("Could not unlock: wrong passphrase, or the stored key is damaged.")
    if len(blob) != _BLOB_V1_BYTES:
        raise failed
    _version, time_cost, memory_cost_kib, parallelism, salt, nonce = _HEADER_V1.unpack_from(blob)
    if not _within_ceiling(time_cost, memory_cost_kib, parallelism):
        raise failed
    try:
        profile = Argon2Profile("stored", time_cost, memory_cost_kib, parallelism)
    except BadInput:  # parameters Argon2 itself refuses: the blob was tampered with
        raise failed from None
    key = derive_key(secret, salt, profile)
    header = blob[: _HEADER_V1.size]
    try:
        seed = AESGCM(key).decrypt(nonce, blob[_HEADER_V1.size :], header)
    except InvalidTag:
        raise failed from None
    return Identity.from_seed(seed)


def _within_ceiling(time_cost: int, memory_cost_kib: int, parallelism: int) -> bool:
    return (
        time_cost <= MAX_STORED_TIME_COST
        and memory_cost_kib <= MAX_STORED_MEMORY_KIB
        and parallelism <= MAX_STORED_PARALLELISM
    )


def _passphrase_bytes(passphrase: str) -> bytes:
    # The length as given is checked before normalising, so that a megabyte of input costs
    # no normalisation either; derive_key checks the normalised bytes again.
    if len(_utf8(passphrase)) > MAX_SECRET_BYTES:
        raise BadInput(
            f"Passphrase too long: use at most {MAX_SECRET_BYTES} bytes.",
            code="passphrase_too_long",
        )
    return _utf8(unicodedata.normalize("NFC", passphrase))


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot be typed: refuse, don't crash
        raise BadInput("The passphrase holds invalid characters.", code="bad_passphrase") from None
