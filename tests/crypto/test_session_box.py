from __future__ import annotations

import base64
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.crypto import BadInput, DecryptionFailed, SessionBox

SECRET = b"AGE-SECRET-KEY-1SOMETHINGSECRET"


@pytest.fixture
def box() -> SessionBox:
    return SessionBox.generate()


def test_seal_open_round_trip(box: SessionBox) -> None:
    sealed = box.seal(SECRET, context="desk:intake")
    assert box.open(sealed, context="desk:intake") == SECRET


def test_sealed_text_is_ascii_and_hides_the_plaintext(box: SessionBox) -> None:
    sealed = box.seal(SECRET, context="desk:intake")
    assert sealed.isascii()
    assert sealed.startswith("1.")
    assert "SECRET" not in sealed
    body = sealed[2:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert SECRET not in raw
    assert len(raw) == 12 + len(SECRET) + 16


def test_another_box_cannot_open(box: SessionBox) -> None:
    sealed = box.seal(SECRET, context="desk:intake")
    with pytest.raises(DecryptionFailed):
        SessionBox.generate().open(sealed, context="desk:intake")


def test_another_context_cannot_open(box: SessionBox) -> None:
    sealed = box.seal(SECRET, context="desk:intake")
    with pytest.raises(DecryptionFailed):
        box.open(sealed, context="desk:casework")


def test_cookie_value_round_trip(box: SessionBox) -> None:
    value = box.to_cookie_value()
    assert len(value) == 43
    assert "=" not in value
    assert value.replace("-", "").replace("_", "").isalnum()
    sealed = box.seal(SECRET, context="c")
    assert SessionBox.from_cookie_value(value).open(sealed, context="c") == SECRET
    assert SessionBox.from_cookie_value(value).to_cookie_value() == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "A" * 42,
        "A" * 44,
        "A" * 42 + "=",
        "A" * 42 + "+",
        "A" * 42 + "B",  # non-canonical: the last character's unused bits are set
        "A" * 42 + "é",
    ],
)
def test_malformed_cookie_value(value: str) -> None:
    with pytest.raises(BadInput) as caught:
        SessionBox.from_cookie_value(value)
    assert caught.value.code == "bad_session_key"


def test_canonical_cookie_value_of_zero_key() -> None:
    assert SessionBox.from_cookie_value("A" * 43).to_cookie_value() == "A" * 43


@pytest.mark.parametrize(
    "sealed", ["", "1.", "2." + "A" * 60, "1.!!!!", "1." + "A" * 37, "1." + "A" * 5, "x"]
)
def test_malformed_sealed_text(box: SessionBox, sealed: str) -> None:
    with pytest.raises(DecryptionFailed):
        box.open(sealed, context="c")


@given(st.text(max_size=200))
def test_garbage_sealed_text_is_decryption_failed_only(sealed: str) -> None:
    with pytest.raises(DecryptionFailed):
        SessionBox.from_cookie_value("A" * 43).open(sealed, context="c")


@given(st.text(max_size=60))
def test_garbage_cookie_value_is_bad_input_only(value: str) -> None:
    try:
        box = SessionBox.from_cookie_value(value)
    except BadInput:
        return
    assert box.to_cookie_value() == value  # accepted only in its one canonical spelling


def test_flipped_character_fails(box: SessionBox) -> None:
    sealed = box.seal(SECRET, context="c")
    for position in range(2, len(sealed)):
        swapped = "B" if sealed[position] != "B" else "C"
        tampered = sealed[:position] + swapped + sealed[position + 1 :]
        with pytest.raises(DecryptionFailed):
            box.open(tampered, context="c")


def test_repr_hides_the_key(box: SessionBox) -> None:
    assert repr(box) == "<SessionBox (secret)>"
    assert box.to_cookie_value() not in repr(box)


def test_second_spelling_of_the_same_bytes_is_refused(box: SessionBox) -> None:
    sealed = box.seal(b"x" * 31, context="c")  # 59 bytes: the last character has 2 spare bits
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    twin = alphabet[alphabet.index(sealed[-1]) ^ 1]
    respelled = sealed[:-1] + twin
    body = respelled[2:]
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)) == base64.urlsafe_b64decode(
        sealed[2:] + "=" * (-len(body) % 4)
    )
    with pytest.raises(DecryptionFailed):
        box.open(respelled, context="c")


def test_server_secret_box_is_deterministic_per_purpose():
    secret = b"s" * 40
    one = SessionBox.from_server_secret(secret, purpose="reporter")
    again = SessionBox.from_server_secret(secret, purpose="reporter")
    other = SessionBox.from_server_secret(secret, purpose="something-else")
    sealed = one.seal(b"state", context="c")
    assert again.open(sealed, context="c") == b"state"
    with pytest.raises(DecryptionFailed):
        other.open(sealed, context="c")
    with pytest.raises(DecryptionFailed):
        SessionBox.from_server_secret(b"t" * 40, purpose="reporter").open(sealed, context="c")


@pytest.mark.parametrize(("secret", "purpose"), [(b"short", "reporter"), (b"s" * 40, "")])
def test_server_secret_box_refuses_weak_input(secret, purpose):
    with pytest.raises(BadInput):
        SessionBox.from_server_secret(secret, purpose=purpose)
