from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from refugium.crypto import (
    MAX_SECRET_BYTES,
    PRODUCTION,
    TESTING,
    Argon2Profile,
    BadInput,
    derive_key,
)

SALT = b"0123456789abcdef"


def test_known_answer() -> None:
    # Argon2id, t=1, m=8 KiB, p=1, v=0x13: pins the algorithm, version and parameter order.
    assert derive_key(b"password", SALT, TESTING).hex() == (
        "771338d819573c67116b39e1788ae8e04b0eb0cf9dfbbfe2e6d746cf3e464fc7"
    )


def _openssl_argon2id(secret: bytes, profile: Argon2Profile, length: int) -> bytes:
    # An independent implementation (OpenSSL's, through pyca/cryptography).
    return Argon2id(
        salt=SALT,
        length=length,
        iterations=profile.time_cost,
        lanes=profile.parallelism,
        memory_cost=profile.memory_cost_kib,
    ).derive(secret)


@pytest.mark.parametrize("profile", [TESTING, Argon2Profile("lanes", 2, 64, 4)])
def test_agrees_with_openssl(profile: Argon2Profile) -> None:
    assert derive_key(b"secret", SALT, profile, length=64) == _openssl_argon2id(
        b"secret", profile, 64
    )


@pytest.mark.slow
def test_production_agrees_with_openssl() -> None:
    assert derive_key(b"secret", SALT, PRODUCTION) == _openssl_argon2id(b"secret", PRODUCTION, 32)


def test_deterministic_and_sensitive_to_every_input() -> None:
    base = derive_key(b"secret", SALT, TESTING)
    assert derive_key(b"secret", SALT, TESTING) == base
    assert derive_key(b"secret!", SALT, TESTING) != base
    assert derive_key(b"secret", b"0123456789abcdeF", TESTING) != base
    assert derive_key(b"secret", SALT, Argon2Profile("t2", 2, 8, 1)) != base
    assert derive_key(b"secret", SALT, Argon2Profile("m16", 1, 16, 1)) != base


def test_length() -> None:
    assert len(derive_key(b"secret", SALT, TESTING, length=64)) == 64
    assert len(derive_key(b"secret", SALT, TESTING)) == 32


def test_secret_at_limit_runs_once(argon2_runs: list[int]) -> None:
    derive_key(b"x" * MAX_SECRET_BYTES, SALT, TESTING)
    assert argon2_runs == [8]


def test_secret_over_limit_is_refused_before_argon2(argon2_runs: list[int]) -> None:
    with pytest.raises(BadInput) as caught:
        derive_key(b"x" * (MAX_SECRET_BYTES + 1), SALT, TESTING)
    assert caught.value.code == "secret_too_long"
    assert argon2_runs == []


def test_short_salt_is_refused() -> None:
    with pytest.raises(BadInput):
        derive_key(b"secret", SALT[:15], TESTING)


@pytest.mark.parametrize("length", [15, 1025])
def test_length_out_of_range_is_refused(length: int) -> None:
    with pytest.raises(BadInput):
        derive_key(b"secret", SALT, TESTING, length=length)


def test_max_secret_bytes_is_1024() -> None:
    assert MAX_SECRET_BYTES == 1024
