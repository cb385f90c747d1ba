"""The one place that runs Argon2id.

Every passphrase and every receipt becomes key material here, so that the cost of a guess is
set in one place (the profile) and so that tests can count Argon2id runs by replacing
``_argon2id``: a run that should not happen (an over-long secret, a malformed receipt) is a
denial-of-service door, and a run that is skipped for a "no such receipt" answer is a timing
oracle.
"""

from __future__ import annotations

from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw

from refugium.crypto.profiles import Argon2Profile
from refugium.errors import BadInput

# A passphrase or receipt longer than this is refused before Argon2 runs: Argon2 first hashes
# the whole secret, and nobody types a kilobyte at a login prompt, but a flood can send one.
MAX_SECRET_BYTES = 1024

_MIN_SALT_BYTES = 16  # RFC 9106 section 3.1 recommends 128-bit salts
_MIN_LENGTH = 16
_MAX_LENGTH = 1024


def derive_key(secret: bytes, salt: bytes, profile: Argon2Profile, *, length: int = 32) -> bytes:
    """Stretch a low-entropy secret into ``length`` bytes of key material with Argon2id.

    Raises:
        BadInput: the secret is longer than ``MAX_SECRET_BYTES`` (checked before Argon2 runs),
            the salt is shorter than 16 bytes, or ``length`` is outside 16..1024.
    """
    if len(secret) > MAX_SECRET_BYTES:
        raise BadInput(f"Too long: use at most {MAX_SECRET_BYTES} bytes.", code="secret_too_long")
    if len(salt) < _MIN_SALT_BYTES:
        raise BadInput("The salt must be at least 16 bytes.", code="salt_too_short")
    if not _MIN_LENGTH <= length <= _MAX_LENGTH:
        raise BadInput("The key length must be 16 to 1024 bytes.", code="bad_key_length")
    return _argon2id(
        secret,
        salt,
        time_cost=profile.time_cost,
        memory_cost_kib=profile.memory_cost_kib,
        parallelism=profile.parallelism,
        length=length,
    )


def _argon2id(
    secret: bytes,
    salt: bytes,
    *,
    time_cost: int,
    memory_cost_kib: int,
    parallelism: int,
    length: int,
) -> bytes:
    # The single call into argon2: tests monkeypatch this name to count runs.
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=time_cost,
        memory_cost=memory_cost_kib,
        parallelism=parallelism,
        hash_len=length,
        type=Type.ID,
        version=ARGON2_VERSION,
    )
