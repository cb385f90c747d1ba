"""Tests for refugium.vault.custody: the custody log on the signed chain, and commitments."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from refugium.chain import verify_chain_file
from refugium.crypto.signing import SigningKey
from refugium.errors import BadInput, ChainBroken
from refugium.vault.custody import CustodyLog, commitment, new_salt

SHA = hashlib.sha256(b"photo bytes").hexdigest()
SALT = "00112233445566778899aabbccddeeff"
AT = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def log(tmp_path: Path, key: SigningKey) -> CustodyLog:
    return CustodyLog(tmp_path / "custody.jsonl", key.verify_key, key, clock=lambda: AT)


# -- commitments ----------------------------------------------------------------------


def test_commitment_is_the_documented_formula() -> None:
    expected = hashlib.sha256(f"{SALT}:{SHA}".encode("ascii")).hexdigest()
    assert commitment(SHA, SALT) == expected


def test_commitment_is_deterministic_and_differs_with_the_salt() -> None:
    assert commitment(SHA, SALT) == commitment(SHA, SALT)
    other_salt = "ff" + SALT[2:]
    assert commitment(SHA, other_salt) != commitment(SHA, SALT)
    other_sha = hashlib.sha256(b"other").hexdigest()
    assert commitment(other_sha, SALT) != commitment(SHA, SALT)
    assert commitment(SHA, SALT) != SHA


def test_commitment_matches_the_stock_command_in_the_docstring() -> None:
    out = subprocess.run(
        ["sh", "-c", f"printf '%s:%s' {SALT} {SHA} | sha256sum"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == f"{commitment(SHA, SALT)}  -\n"


def test_new_salt_is_16_random_bytes_in_hex() -> None:
    salts = {new_salt() for _ in range(50)}
    assert len(salts) == 50
    for salt in salts:
        assert len(salt) == 32
        assert bytes.fromhex(salt).hex() == salt


@pytest.mark.parametrize(
    ("sha", "salt"),
    [
        (SHA.upper(), SALT),
        (SHA[:-1], SALT),
        (SHA + "0", SALT),
        (SHA, SALT.upper()),
        (SHA, SALT[:30]),  # 15 bytes: too short
        (SHA, SALT + "0"),  # odd length
        (SHA, ""),
        (SHA, "zz" * 16),
    ],
)
def test_commitment_refuses_malformed_input(sha: str, salt: str) -> None:
    with pytest.raises(BadInput) as info:
        commitment(sha, salt)
    assert info.value.code == "bad_commitment_input"


# -- recording ------------------------------------------------------------------------


def test_record_writes_the_documented_body(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    entry = log.record("ingested", "a1b2c3", actor="desk-1", content=c, size=1234)
    assert entry["seq"] == 0
    assert entry["body"] == {
        "at": "2026-03-01T12:30:05Z",
        "event": "ingested",
        "item": "a1b2c3",
        "actor": "desk-1",
        "content": c,
        "size": 1234,
    }
    copy = commitment(hashlib.sha256(b"stripped").hexdigest(), new_salt())
    shared = log.record("shared", "a1b2c3", actor="ana", content=c, copy=copy)
    assert shared["body"]["copy"] == copy
    assert "size" not in shared["body"]
    attached = log.record("attached", "a1b2c3", actor="ana", content=c, record="E-0001")
    assert attached["body"]["record"] == "E-0001"
    assert log.verify() == 3
    assert verify_chain_file(log.path, log.verify_key) == 3


def test_the_log_never_holds_the_bare_sha256(log: CustodyLog) -> None:
    log.record("ingested", "a1", actor="desk-1", content=commitment(SHA, SALT), size=11)
    assert SHA.encode() not in log.path.read_bytes()
    with pytest.raises(BadInput):  # a bare hash is refused only by shape: document the rule
        log.record("viewed", "a1", actor="desk-1", content="not-a-hash")


def test_every_event_is_accepted_and_others_refused(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    extra = {"shared": {"copy": c}, "attached": {"record": "E-1"}, "detached": {"record": "E-1"}}
    events = ["ingested", "viewed", "exported", "shared", "attached", "detached", "deleted"]
    for event in events:
        log.record(event, "item1", actor="u1", content=c, **extra.get(event, {}))
    assert [e["body"]["event"] for e in log.entries()] == events
    for bad in ["edited", "Ingested", "", "ingested "]:
        with pytest.raises(BadInput) as info:
            log.record(bad, "item1", actor="u1", content=c)
        assert info.value.code == "unknown_event"
    assert log.verify() == len(events)


def test_required_fields(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    for event in ["shared", "attached", "detached"]:
        with pytest.raises(BadInput) as info:
            log.record(event, "item1", actor="u1", content=c)
        assert info.value.code == "not_an_identifier"
    with pytest.raises(BadInput):
        log.record("shared", "item1", actor="u1", content=c, copy="E-0001")  # not a digest
    assert not log.path.exists()


FREE_TEXT = [
    "Zelimkhan Khasuev",  # a space
    "Зелимхан",  # non-ASCII letters
    "line\nbreak",
    "a" * 65,
    "lunar-mosaic-velvet-harbor-quiet",  # a receipt or passphrase
    "",
    "tab\there",
    'quote"d',
]


@pytest.mark.parametrize("value", FREE_TEXT)
@pytest.mark.parametrize("where", ["item", "actor", "record", "extra"])
def test_values_that_look_like_free_text_are_refused(
    log: CustodyLog, value: str, where: str
) -> None:
    c = commitment(SHA, SALT)
    kwargs: dict[str, str] = {"actor": "u1", "content": c}
    item = "item1"
    event = "viewed"
    if where == "item":
        item = value
    elif where == "actor":
        kwargs["actor"] = value
    elif where == "record":
        event, kwargs["record"] = "attached", value
    else:
        kwargs["reason"] = value
    with pytest.raises(BadInput) as info:
        log.record(event, item, **kwargs)
    assert info.value.code == "not_an_identifier"
    if value:
        assert value not in info.value.message  # the message never repeats the value
    assert not log.path.exists()


def test_identifiers_pass(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    log.record("attached", "9f" * 16, actor="ana.k@desk", content=c, record="E-0001")
    log.record("viewed", "row:42", actor="u_1", content=c, reason="court-order-7")
    assert log.verify() == 2


@pytest.mark.parametrize("name", ["Reason", "x" * 33, "1x", "bad-name", "_x", "é"])
def test_bad_field_names_are_refused(log: CustodyLog, name: str) -> None:
    with pytest.raises(BadInput):
        log.record("viewed", "i1", actor="u1", content=commitment(SHA, SALT), **{name: "v1"})
    assert not log.path.exists()


@pytest.mark.parametrize("size", [-1, True, 2**53, "12"])
def test_bad_sizes_are_refused(log: CustodyLog, size: object) -> None:
    with pytest.raises(BadInput) as info:
        log.record("ingested", "i1", actor="u1", content=commitment(SHA, SALT), size=size)  # type: ignore[arg-type]
    assert info.value.code == "bad_size"


def test_sizes_at_the_limits_pass(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    log.record("ingested", "i1", actor="u1", content=c, size=0)
    log.record("ingested", "i2", actor="u1", content=c, size=2**53 - 1)
    assert log.verify() == 2


def test_times_are_utc_to_the_second_and_must_be_aware(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    plus3 = datetime(2026, 3, 1, 15, 30, 5, 999_999, tzinfo=timezone(timedelta(hours=3)))
    assert log.record("viewed", "i1", actor="u1", content=c, at=plus3)["body"]["at"] == (
        "2026-03-01T12:30:05Z"
    )
    with pytest.raises(BadInput) as info:
        log.record("viewed", "i1", actor="u1", content=c, at=datetime(2026, 3, 1))
    assert info.value.code == "naive_time"


def test_entries_by_item_verify_and_head(log: CustodyLog, key: SigningKey) -> None:
    c = commitment(SHA, SALT)
    log.record("ingested", "i1", actor="u1", content=c)
    log.record("ingested", "i2", actor="u1", content=c)
    log.record("viewed", "i1", actor="u2", content=c)
    assert [(e["seq"], e["body"]["event"]) for e in log.entries("i1")] == [
        (0, "ingested"),
        (2, "viewed"),
    ]
    assert [e["seq"] for e in log.entries()] == [0, 1, 2]
    assert list(log.entries("nope")) == []
    head = log.head()
    last = log.path.read_bytes().splitlines(keepends=True)[-1]
    assert head == (3, hashlib.sha256(last).hexdigest())
    assert log.verify(anchor=head) == 3
    reader = CustodyLog(log.path, key.verify_key)  # read-only
    assert reader.verify() == 3
    with pytest.raises(BadInput) as info:
        reader.record("viewed", "i1", actor="u1", content=c)
    assert info.value.code == "no_signing_key"


def test_an_edited_entry_is_caught(log: CustodyLog) -> None:
    c = commitment(SHA, SALT)
    log.record("ingested", "i1", actor="u1", content=c)
    log.record("viewed", "i1", actor="u2", content=c)
    data = log.path.read_bytes()
    log.path.write_bytes(data.replace(b'"actor":"u2"', b'"actor":"u3"'))
    with pytest.raises(ChainBroken) as info:
        log.verify()
    assert info.value.index == 1


def test_a_foreign_signing_key_is_refused(tmp_path: Path, key: SigningKey) -> None:
    with pytest.raises(BadInput) as info:
        CustodyLog(tmp_path / "c.jsonl", key.verify_key, SigningKey.generate())
    assert info.value.code == "key_mismatch"
