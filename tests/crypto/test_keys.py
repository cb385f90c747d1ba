from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.crypto import BadInput, DecryptionFailed, Identity, Recipient, decrypt, encrypt

# The all-zero seed's identity; ``age-keygen -y`` gives ZERO_RECIPIENT for ZERO_SECRET.
ZERO_SECRET = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ8H00W3"
ZERO_RECIPIENT = "age19ljhmg68e43yx9fgm2k9lwefquc0la5y4lzvlshdjzv47kxt8d6qr9vf4p"


def test_from_seed_is_the_standard_encoding() -> None:
    identity = Identity.from_seed(bytes(32))
    assert identity.to_secret_string() == ZERO_SECRET
    assert str(identity.recipient) == ZERO_RECIPIENT


def test_from_seed_is_deterministic_and_round_trips_secret_bytes() -> None:
    seed = bytes(range(32))
    assert Identity.from_seed(seed) == Identity.from_seed(seed)
    assert Identity.from_seed(seed)._secret_bytes() == seed
    assert Identity.from_seed(seed) != Identity.from_seed(bytes(range(1, 33)))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_from_seed_wrong_length(length: int) -> None:
    with pytest.raises(BadInput) as caught:
        Identity.from_seed(bytes(length))
    assert caught.value.code == "bad_seed"


def test_generate_gives_distinct_identities() -> None:
    assert Identity.generate() != Identity.generate()


def test_secret_string_round_trip(identity: Identity) -> None:
    text = identity.to_secret_string()
    assert text.startswith("AGE-SECRET-KEY-1")
    assert len(text) == 74
    assert Identity.from_secret_string(text) == identity


def test_secret_string_typed_from_paper(identity: Identity) -> None:
    text = identity.to_secret_string()
    groups = [text[i : i + 5] for i in range(0, len(text), 5)]
    typed = "\n  " + " ".join(groups).lower() + " \t\n"
    assert Identity.from_secret_string(typed) == identity
    mixed = "".join(c.lower() if i % 2 else c for i, c in enumerate(text))
    assert Identity.from_secret_string(mixed) == identity


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AGE-SECRET-KEY-1",
        ZERO_SECRET[:-1] + "4",  # checksum broken
        ZERO_SECRET[:-2],
        ZERO_RECIPIENT,
        "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ8H00W3",
        "x" * 10_000,
    ],
)
def test_malformed_secret_string(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        Identity.from_secret_string(text)
    assert caught.value.code == "bad_identity"


@given(st.text(max_size=200))
def test_garbage_secret_string_is_bad_input_only(text: str) -> None:
    with pytest.raises(BadInput):
        Identity.from_secret_string(text)


def test_recipient_parse_round_trip(identity: Identity) -> None:
    text = str(identity.recipient)
    assert text.startswith("age1")
    assert Recipient.parse(text) == identity.recipient
    assert Recipient.parse(f"  {text.upper()}\n") == identity.recipient
    assert hash(Recipient.parse(text)) == hash(identity.recipient)
    assert identity.recipient != Identity.generate().recipient


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        ZERO_RECIPIENT[:-1] + "q",
        ZERO_SECRET,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN",
        "age1" + "q" * 2000,
    ],
)
def test_malformed_recipient(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        Recipient.parse(text)
    assert caught.value.code == "bad_recipient"


@given(st.text(max_size=200))
def test_garbage_recipient_is_bad_input_only(text: str) -> None:
    with pytest.raises(BadInput):
        Recipient.parse(text)


def test_repr_hides_the_secret(identity: Identity) -> None:
    secret = identity.to_secret_string()
    assert secret not in repr(identity)
    assert secret not in str(identity)
    assert repr(identity) == f"<Identity for {identity.recipient} (secret)>"


def test_encrypt_decrypt_round_trip(identity: Identity) -> None:
    ciphertext = encrypt(b"testimony", [identity.recipient])
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert b"testimony" not in ciphertext
    assert decrypt(ciphertext, [identity]) == b"testimony"


def test_encrypt_to_several_recipients(identity: Identity) -> None:
    other = Identity.generate()
    ciphertext = encrypt(b"data", [identity.recipient, other.recipient])
    assert decrypt(ciphertext, [identity]) == b"data"
    assert decrypt(ciphertext, [other]) == b"data"


def test_decrypt_picks_the_right_identity(identity: Identity) -> None:
    ciphertext = encrypt(b"data", [identity.recipient])
    assert decrypt(ciphertext, [Identity.generate(), identity]) == b"data"


def test_wrong_identity_fails(identity: Identity) -> None:
    ciphertext = encrypt(b"data", [identity.recipient])
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext, [Identity.generate()])


def test_no_identities_fails(identity: Identity) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(encrypt(b"data", [identity.recipient]), [])


def test_no_recipients_is_bad_input() -> None:
    with pytest.raises(BadInput) as caught:
        encrypt(b"data", [])
    assert caught.value.code == "no_recipients"


def test_truncated_or_tampered_file_fails(identity: Identity) -> None:
    ciphertext = encrypt(b"data" * 100, [identity.recipient])
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext[:-1], [identity])
    tampered = bytearray(ciphertext)
    tampered[-5] ^= 1
    with pytest.raises(DecryptionFailed):
        decrypt(bytes(tampered), [identity])


@given(st.binary(max_size=300))
def test_garbage_fails_with_decryption_failed_only(data: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(data, [Identity.from_seed(bytes(32))])


@settings(max_examples=50)
@given(st.binary(max_size=5000))
def test_round_trip_any_bytes(data: bytes) -> None:
    identity = Identity.from_seed(bytes(range(32)))
    assert decrypt(encrypt(data, [identity.recipient]), [identity]) == data


def test_stock_age_decrypts_our_files(
    identity: Identity, run_age_decrypt: Callable[[bytes, Identity], bytes]
) -> None:
    payload = bytes(range(256)) * 1000  # more than one 64 KiB age chunk
    assert run_age_decrypt(encrypt(payload, [identity.recipient]), identity) == payload


def test_stock_age_decrypts_to_derived_identity(
    run_age_decrypt: Callable[[bytes, Identity], bytes],
) -> None:
    identity = Identity.from_seed(bytes(range(32)))
    assert run_age_decrypt(encrypt(b"reply", [identity.recipient]), identity) == b"reply"


def test_we_decrypt_stock_age_files(age_cli: str, identity: Identity) -> None:
    result = subprocess.run(
        [age_cli, "-r", str(identity.recipient)],
        input=b"from the stock tool",
        capture_output=True,
        check=True,
    )
    assert decrypt(result.stdout, [identity]) == b"from the stock tool"


@pytest.mark.parametrize("seed", [bytes(32), bytes(range(32)), b"\xff" * 32])
def test_stock_age_keygen_agrees_on_derived_recipient(
    seed: bytes, age_keygen_cli: str, tmp_path: Path
) -> None:
    identity = Identity.from_seed(seed)
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(identity.to_secret_string() + "\n")
    result = subprocess.run(
        [age_keygen_cli, "-y", str(keyfile)], capture_output=True, check=True, text=True
    )
    assert result.stdout == f"{identity.recipient}\n"
