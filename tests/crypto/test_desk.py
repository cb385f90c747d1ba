from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from refugium.crypto import DecryptionFailed, DeskKey, Identity, decrypt, encrypt


def test_wrap_unwrap_round_trip(desk_key: DeskKey, identity: Identity) -> None:
    blob = desk_key.wrap_to(identity.recipient)
    assert DeskKey.unwrap(blob, identity) == desk_key
    assert desk_key.identity.to_secret_string().encode() not in blob


def test_unwrap_with_wrong_identity_fails(desk_key: DeskKey, identity: Identity) -> None:
    blob = desk_key.wrap_to(identity.recipient)
    with pytest.raises(DecryptionFailed):
        DeskKey.unwrap(blob, Identity.generate())


def test_unwrap_of_damaged_blob_fails(desk_key: DeskKey, identity: Identity) -> None:
    blob = desk_key.wrap_to(identity.recipient)
    with pytest.raises(DecryptionFailed):
        DeskKey.unwrap(blob[:-1], identity)


def test_unwrap_of_an_age_file_that_is_not_a_key_fails(identity: Identity) -> None:
    with pytest.raises(DecryptionFailed):
        DeskKey.unwrap(encrypt(b"not a key\n", [identity.recipient]), identity)
    with pytest.raises(DecryptionFailed):
        DeskKey.unwrap(encrypt(b"\xff\xfe", [identity.recipient]), identity)


def test_desk_identity_decrypts_files_for_the_desk(desk_key: DeskKey, identity: Identity) -> None:
    ciphertext = encrypt(b"record", [desk_key.recipient])
    unwrapped = DeskKey.unwrap(desk_key.wrap_to(identity.recipient), identity)
    assert decrypt(ciphertext, [unwrapped.identity]) == b"record"


def test_key_id_is_first_8_bytes_of_sha256_of_recipient(desk_key: DeskKey) -> None:
    expected = hashlib.sha256(str(desk_key.recipient).encode()).hexdigest()[:16]
    assert desk_key.key_id == expected
    assert len(desk_key.key_id) == 16


def test_key_id_pinned_for_a_known_key() -> None:
    desk_key = DeskKey(Identity.from_seed(bytes(32)))
    # sha256(b"age19ljhmg68e43yx9fgm2k9lwefquc0la5y4lzvlshdjzv47kxt8d6qr9vf4p")[:8]
    assert desk_key.key_id == "0087f1a8efddf6b8"


def test_generations_differ() -> None:
    first, second = DeskKey.generate(), DeskKey.generate()
    assert first != second
    assert first.key_id != second.key_id


def test_restore_from_identity(desk_key: DeskKey) -> None:
    secret = desk_key.identity.to_secret_string()
    restored = DeskKey(Identity.from_secret_string(secret))
    assert restored == desk_key
    assert restored.key_id == desk_key.key_id
    assert restored._field_key() == desk_key._field_key()


def test_derived_keys_are_distinct_and_not_the_raw_secret(desk_key: DeskKey) -> None:
    raw = desk_key.identity._secret_bytes()
    field_key = desk_key._field_key()
    keyed_hash_key = desk_key._keyed_hash_key()
    assert len(field_key) == len(keyed_hash_key) == 32
    assert len({raw, field_key, keyed_hash_key}) == 3


def test_derived_keys_pinned() -> None:
    # HKDF-SHA256(ikm = 32 zero bytes, no salt, info = label): pins the labels.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    desk_key = DeskKey(Identity.from_seed(bytes(32)))

    def hkdf(info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, None, info).derive(bytes(32))

    assert desk_key._field_key() == hkdf(b"refugium/field/v1")
    assert desk_key._keyed_hash_key() == hkdf(b"refugium/keyed-hash/v1")


def test_repr_hides_the_secret(desk_key: DeskKey) -> None:
    assert repr(desk_key) == f"<DeskKey {desk_key.key_id} (secret)>"
    assert desk_key.identity.to_secret_string() not in repr(desk_key)


def test_revoked_member_cannot_unwrap_next_generation() -> None:
    alice, bob, mallory = Identity.generate(), Identity.generate(), Identity.generate()
    recovery = Identity.generate()
    generation_1 = DeskKey.generate()
    blobs_1 = {
        name: generation_1.wrap_to(member.recipient)
        for name, member in [("alice", alice), ("bob", bob), ("mallory", mallory)]
    }
    assert DeskKey.unwrap(blobs_1["mallory"], mallory) == generation_1

    # Mallory is removed: generation 2 is wrapped to the remaining members and recovery only.
    generation_2 = DeskKey.generate()
    blobs_2 = {
        "alice": generation_2.wrap_to(alice.recipient),
        "bob": generation_2.wrap_to(bob.recipient),
        "recovery": generation_2.wrap_to(recovery.recipient),
    }
    for blob in blobs_2.values():
        with pytest.raises(DecryptionFailed):
            DeskKey.unwrap(blob, mallory)
    new_record = encrypt(b"after removal", [generation_2.recipient])
    with pytest.raises(DecryptionFailed):
        decrypt(new_record, [mallory, DeskKey.unwrap(blobs_1["mallory"], mallory).identity])
    assert DeskKey.unwrap(blobs_2["alice"], alice) == generation_2
    assert DeskKey.unwrap(blobs_2["bob"], bob) == generation_2


def test_recovery_paper_key_typed_back_unwraps(desk_key: DeskKey) -> None:
    recovery = Identity.generate()
    blob = desk_key.wrap_to(recovery.recipient)
    paper = recovery.to_secret_string()
    typed = "  " + " ".join(paper[i : i + 4] for i in range(0, len(paper), 4)).lower() + "\n"
    assert DeskKey.unwrap(blob, Identity.from_secret_string(typed)) == desk_key


def test_stock_age_reads_the_wrapped_desk_key(
    desk_key: DeskKey,
    identity: Identity,
    run_age_decrypt: Callable[[bytes, Identity], bytes],
) -> None:
    printed = run_age_decrypt(desk_key.wrap_to(identity.recipient), identity)
    assert printed == desk_key.identity.to_secret_string().encode() + b"\n"
    # What age printed is a key refugium accepts, and that age itself can use on desk files.
    assert DeskKey(Identity.from_secret_string(printed.decode())) == desk_key
    record = encrypt(b"desk record", [desk_key.recipient])
    assert run_age_decrypt(record, Identity.from_secret_string(printed.decode())) == (
        b"desk record"
    )
