from __future__ import annotations

import hashlib
import struct
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.crypto import (
    MAX_SECRET_BYTES,
    PRODUCTION,
    TESTING,
    Argon2Profile,
    BadInput,
    DecryptionFailed,
    Identity,
    check_passphrase_policy,
    kdf,
    needs_rewrap,
    unwrap_identity,
    wrap_identity,
)

PASSPHRASE = "correct horse battery staple"
HEADER_BYTES = 1 + 4 + 4 + 1 + 16 + 12
BLOB_BYTES = HEADER_BYTES + 32 + 16


@pytest.fixture
def blob(identity: Identity) -> bytes:
    return wrap_identity(identity, PASSPHRASE, TESTING)


def test_round_trip(identity: Identity, blob: bytes) -> None:
    assert unwrap_identity(blob, PASSPHRASE) == identity


def test_layout(blob: bytes, identity: Identity) -> None:
    assert len(blob) == BLOB_BYTES
    version, time_cost, memory, lanes = struct.unpack_from(">BIIB", blob)
    assert (version, time_cost, memory, lanes) == (1, 1, 8, 1)
    assert identity._secret_bytes() not in blob


def test_salt_and_nonce_are_fresh(identity: Identity) -> None:
    first = wrap_identity(identity, PASSPHRASE, TESTING)
    second = wrap_identity(identity, PASSPHRASE, TESTING)
    assert first[10:26] != second[10:26]
    assert first[26:38] != second[26:38]


def test_wrong_passphrase_fails(blob: bytes) -> None:
    with pytest.raises(DecryptionFailed) as caught:
        unwrap_identity(blob, PASSPHRASE + "!")
    assert caught.value.code == "decryption_failed"


def test_unwrap_costs_one_argon2_run(blob: bytes, argon2_runs: list[int]) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_identity(blob, "wrong passphrase")
    unwrap_identity(blob, PASSPHRASE)
    assert argon2_runs == [8, 8]


def test_passphrase_is_nfc_normalised(identity: Identity) -> None:
    composed = "пароль ёлка café naïve"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    blob = wrap_identity(identity, decomposed, TESTING)
    assert unwrap_identity(blob, composed) == identity


def test_passphrase_at_byte_limit_works(identity: Identity) -> None:
    passphrase = "я" * (MAX_SECRET_BYTES // 2)  # two bytes each: exactly the limit
    blob = wrap_identity(identity, passphrase, TESTING)
    assert unwrap_identity(blob, passphrase) == identity


@pytest.mark.parametrize("passphrase", ["я" * (MAX_SECRET_BYTES // 2) + "x", "x" * 10**6])
def test_passphrase_over_limit_is_refused_before_argon2(
    passphrase: str, identity: Identity, blob: bytes, argon2_runs: list[int]
) -> None:
    with pytest.raises(BadInput) as wrapping:
        wrap_identity(identity, passphrase, TESTING)
    with pytest.raises(BadInput) as unwrapping:
        unwrap_identity(blob, passphrase)
    assert wrapping.value.code == unwrapping.value.code == "passphrase_too_long"
    assert argon2_runs == []


def test_lone_surrogate_is_bad_input(identity: Identity, argon2_runs: list[int]) -> None:
    with pytest.raises(BadInput):
        wrap_identity(identity, "passphrase \ud800 here", TESTING)
    assert argon2_runs == []


@pytest.mark.parametrize("cut", [0, 1, 10, HEADER_BYTES, BLOB_BYTES - 1])
def test_truncated_blob_fails(blob: bytes, cut: int, argon2_runs: list[int]) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_identity(blob[:cut], PASSPHRASE)
    assert argon2_runs == []


def test_extended_blob_fails(blob: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_identity(blob + b"\x00", PASSPHRASE)


def _kdf_ignoring_parameters(secret: bytes, salt: bytes, **params: int) -> bytes:
    # Fast, and blind to the Argon2 parameters: only the associated data can then catch a
    # changed parameter.
    return hashlib.sha256(secret + salt).digest()[: params["length"]]


@settings(max_examples=300)
@given(position=st.integers(min_value=0, max_value=BLOB_BYTES - 1), bit=st.integers(0, 7))
def test_any_flipped_bit_fails(position: int, bit: int) -> None:
    identity = Identity.from_seed(bytes(range(32)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kdf, "_argon2id", _kdf_ignoring_parameters)
        blob = bytearray(wrap_identity(identity, PASSPHRASE, TESTING))
        assert unwrap_identity(bytes(blob), PASSPHRASE) == identity
        blob[position] ^= 1 << bit
        with pytest.raises(DecryptionFailed):
            unwrap_identity(bytes(blob), PASSPHRASE)


def _with_params(blob: bytes, time_cost: int, memory_kib: int, lanes: int) -> bytes:
    return blob[:1] + struct.pack(">IIB", time_cost, memory_kib, lanes) + blob[10:]


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "lanes"),
    [
        (21, 8, 1),  # time above 20
        (1, 1024 * 1024 + 1, 1),  # memory above 1 GiB
        (1, 8, 65),  # lanes above 64
        (2**32 - 1, 2**32 - 1, 255),
        (0, 8, 1),  # below what Argon2 accepts
        (1, 8, 0),
        (1, 7, 1),
    ],
)
def test_tampered_parameters_fail_without_argon2(
    blob: bytes, time_cost: int, memory_kib: int, lanes: int, argon2_runs: list[int]
) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_identity(_with_params(blob, time_cost, memory_kib, lanes), PASSPHRASE)
    assert argon2_runs == []


def test_parameters_at_ceiling_run_argon2(blob: bytes, argon2_runs: list[int]) -> None:
    # Time 20 and 64 lanes are accepted (then fail only on the authentication tag).
    with pytest.raises(DecryptionFailed):
        unwrap_identity(_with_params(blob, 20, 64 * 8, 64), PASSPHRASE)
    assert argon2_runs == [64 * 8]


def test_wrapping_with_profile_above_ceiling_is_refused(identity: Identity) -> None:
    with pytest.raises(BadInput):
        wrap_identity(identity, PASSPHRASE, Argon2Profile("huge", 21, 8, 1))


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_fails(blob: bytes, version: int, argon2_runs: list[int]) -> None:
    with pytest.raises(DecryptionFailed):
        unwrap_identity(bytes([version]) + blob[1:], PASSPHRASE)
    assert argon2_runs == []


def test_needs_rewrap(blob: bytes) -> None:
    assert needs_rewrap(blob, TESTING) is False
    assert needs_rewrap(blob, PRODUCTION) is True
    assert needs_rewrap(blob, Argon2Profile("more time", 2, 8, 1)) is True
    assert needs_rewrap(blob, Argon2Profile("more memory", 1, 16, 1)) is True
    assert needs_rewrap(blob, Argon2Profile("other lanes", 1, 16, 2)) is True


def test_needs_rewrap_false_when_stronger_than_profile(identity: Identity) -> None:
    blob = wrap_identity(identity, PASSPHRASE, Argon2Profile("strong", 2, 32, 1))
    assert needs_rewrap(blob, TESTING) is False
    assert needs_rewrap(blob, Argon2Profile("same", 2, 32, 1)) is False


def test_needs_rewrap_on_malformed_blob(blob: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        needs_rewrap(blob[:-1], TESTING)
    with pytest.raises(DecryptionFailed):
        needs_rewrap(b"\x02" + blob[1:], TESTING)


def test_passphrase_policy_limits() -> None:
    check_passphrase_policy("x" * 12)
    check_passphrase_policy("я" * (MAX_SECRET_BYTES // 2))
    with pytest.raises(BadInput) as short:
        check_passphrase_policy("x" * 11)
    assert short.value.code == "weak_passphrase"
    assert "at least 12 characters" in short.value.message
    with pytest.raises(BadInput) as long:
        check_passphrase_policy("я" * (MAX_SECRET_BYTES // 2) + "x")
    assert long.value.code == "weak_passphrase"
    assert "at most 1024 bytes" in long.value.message


def test_passphrase_policy_counts_characters_after_nfc() -> None:
    # 11 accented letters, 22 code points when decomposed: still too short.
    with pytest.raises(BadInput):
        check_passphrase_policy(unicodedata.normalize("NFD", "é" * 11))


def test_passphrase_policy_refuses_lone_surrogates() -> None:
    with pytest.raises(BadInput) as caught:
        check_passphrase_policy("twelve chars \ud800")
    assert caught.value.code == "bad_passphrase"
