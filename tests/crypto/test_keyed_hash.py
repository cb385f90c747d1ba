from __future__ import annotations

import hashlib
import hmac
import unicodedata

import pytest

from refugium.crypto import BadInput, DeskKey, Identity, KeyedHasher

GEN_1 = DeskKey(Identity.from_seed(bytes(range(32))))
GEN_2 = DeskKey(Identity.from_seed(bytes(range(1, 33))))


def test_digest_format_and_value() -> None:
    digest = KeyedHasher([GEN_1]).digest("+7 900 000 00 00", purpose="phone")
    message = (
        b"\x00\x00\x00\x07purpose\x00\x00\x00\x05phone"
        b"\x00\x00\x00\x05value\x00\x00\x00\x10+7 900 000 00 00"
    )
    expected = hmac.new(GEN_1._keyed_hash_key(), message, hashlib.sha256).hexdigest()
    assert digest == f"k1:{GEN_1.key_id}:{expected}"
    assert len(digest) == 3 + 16 + 1 + 64


def test_stable() -> None:
    assert KeyedHasher([GEN_1]).digest("x", purpose="p") == KeyedHasher([GEN_1]).digest(
        "x", purpose="p"
    )


def test_different_value_purpose_or_key_differ() -> None:
    base = KeyedHasher([GEN_1]).digest("Ivan", purpose="name")
    assert KeyedHasher([GEN_1]).digest("Ivan ", purpose="name") != base
    assert KeyedHasher([GEN_1]).digest("Ivan", purpose="phone") != base
    assert KeyedHasher([GEN_2]).digest("Ivan", purpose="name") != base


def test_purpose_and_value_cannot_trade_characters() -> None:
    hasher = KeyedHasher([GEN_1])
    assert hasher.digest("bc", purpose="a") != hasher.digest("c", purpose="ab")


def test_value_is_nfc_normalised() -> None:
    hasher = KeyedHasher([GEN_1])
    composed = "Алёна"
    assert hasher.digest(unicodedata.normalize("NFD", composed), purpose="name") == (
        hasher.digest(composed, purpose="name")
    )


def test_candidates_across_rotation() -> None:
    old = KeyedHasher([GEN_1]).digest("Ivan", purpose="name")
    rotated = KeyedHasher([GEN_2, GEN_1])
    new = rotated.digest("Ivan", purpose="name")
    assert new.startswith(f"k1:{GEN_2.key_id}:")
    assert rotated.candidates("Ivan", purpose="name") == [new, old]


def test_no_keys_or_empty_purpose_is_bad_input() -> None:
    with pytest.raises(BadInput):
        KeyedHasher([])
    with pytest.raises(BadInput):
        KeyedHasher([GEN_1]).digest("x", purpose="")


def test_repr_shows_key_ids_only() -> None:
    assert repr(KeyedHasher([GEN_1])) == f"<KeyedHasher keys [{GEN_1.key_id}] (secret)>"
