"""Tests for refugium.audit: who did what to which object and when, never content."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from refugium.audit import IDENTIFIER, AuditLog
from refugium.chain import GENESIS
from refugium.crypto.signing import SigningKey
from refugium.errors import BadInput, ChainBroken

NOON = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def log(tmp_path: Path, key: SigningKey) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl", key.verify_key, key, clock=lambda: NOON)


def bodies(log: AuditLog) -> list[dict[str, object]]:
    return [entry["body"] for entry in log.entries()]


def test_record_writes_exactly_who_what_which_when(log: AuditLog) -> None:
    log.record("user:7", "record.view", "record", "42")
    log.record("user:7", "login")
    assert log.verify() == 2
    assert bodies(log) == [
        {
            "at": "2025-03-01T12:00:00Z",
            "actor": "user:7",
            "action": "record.view",
            "object": {"type": "record", "id": "42"},
        },
        {
            "at": "2025-03-01T12:00:00Z",
            "actor": "user:7",
            "action": "login",
            "object": {"type": "", "id": ""},
        },
    ]


def test_time_is_utc_to_the_second(log: AuditLog) -> None:
    moscow = timezone(timedelta(hours=3))
    log.record("u1", "a", at=datetime(2025, 3, 1, 2, 30, 59, 999_999, tzinfo=moscow))
    log.record("u1", "b")  # from the injected clock
    assert [b["at"] for b in bodies(log)] == ["2025-02-28T23:30:59Z", "2025-03-01T12:00:00Z"]


def test_a_time_with_no_zone_is_refused(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, key.verify_key, key, clock=lambda: datetime(2025, 3, 1))
    with pytest.raises(BadInput) as info:
        log.record("u1", "a")
    assert info.value.code == "naive_time"
    with pytest.raises(BadInput):
        log.record("u1", "a", at=datetime(2025, 3, 1))
    assert not path.exists()


def _ten_word_receipt(separator: str) -> str:
    words = Mnemonic("english").to_mnemonic(bytes(range(100, 116))).split()[:10]
    return separator.join(words)


FREE_TEXT = [
    "Zelimkhan Khasuev",
    "Зелимхан",
    "Khasuev\n",
    "admin\nforged line",
    "admin\r",
    "user 7",
    "a" * 65,
    "lunar-mosaic-velvet-harbor-quiet",
    "abandon.ability.able.about.above.absent.absorb.abstract.absurd.abuse",
    "tab\there",
    "semi;colon",
    'quote"d',
    "",
]


@pytest.mark.parametrize("field", ["actor", "action", "object_type", "object_id"])
@pytest.mark.parametrize("value", [*FREE_TEXT, "RECEIPT SPACE", "RECEIPT HYPHEN"])
def test_free_text_is_refused_and_the_file_stays_unchanged(
    log: AuditLog, field: str, value: str
) -> None:
    if value == "RECEIPT SPACE":
        value = _ten_word_receipt(" ")
    elif value == "RECEIPT HYPHEN":
        value = _ten_word_receipt("-")[:64]  # even cut to fit the length limit
    if value == "" and field in ("object_type", "object_id"):
        return  # an empty object is allowed (an action on no object)
    log.record("user:1", "setup")
    before = log.chain.path.read_bytes()
    args = {"actor": "user:1", "action": "x", "object_type": "record", "object_id": "1"}
    args[field] = value
    with pytest.raises(BadInput) as info:
        log.record(**args)
    assert info.value.code == "not_an_identifier"
    assert value.strip() == "" or value not in str(info.value)
    assert log.chain.path.read_bytes() == before


def test_an_object_id_needs_a_type(log: AuditLog) -> None:
    with pytest.raises(BadInput) as info:
        log.record("u1", "view", "", "42")
    assert info.value.code == "not_an_identifier"
    assert not log.chain.path.exists()


def test_non_strings_are_refused(log: AuditLog) -> None:
    with pytest.raises(BadInput):
        log.record(7, "view")  # type: ignore[arg-type]
    assert not log.chain.path.exists()


def test_identifier_limits_both_sides(log: AuditLog) -> None:
    log.record("a" * 64, "b" * 64, "c" * 64, "d" * 64)
    with pytest.raises(BadInput):
        log.record("a" * 65, "b")
    assert log.verify() == 1
    # Real identifiers pass: row ids, UUIDs, dotted action names, e-mail-like logins.
    log.record(
        "user:17", "records.event.view", "records.Event", "b1e0c0de-0000-4000-8000-00000000002a"
    )
    log.record("alice@desk.example", "desk.unlock", "desk", "intake")
    assert log.verify() == 3


identifiers = st.from_regex(r"\A[A-Za-z0-9_.:@-]{1,64}\Z", fullmatch=True)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_anything_that_is_not_an_identifier_is_refused(key: SigningKey, text: str) -> None:
    if IDENTIFIER.fullmatch(text) is not None and text:
        return
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder) / "a.jsonl", key.verify_key, key, clock=lambda: NOON)
        for args in [(text, "a"), ("u", text), ("u", "a", text, "1"), ("u", "a", "t", text)]:
            if text == "" and len(args) == 4:
                continue
            with pytest.raises(BadInput):
                log.record(*args)
        assert not log.chain.path.exists()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.tuples(identifiers, identifiers, identifiers, identifiers), min_size=1, max_size=5
    )
)
def test_audit_lines_hold_only_identifiers_by_construction(
    key: SigningKey, records: list[tuple[str, str, str, str]]
) -> None:
    """Whatever is accepted, every line is printable ASCII and every value an identifier."""
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder) / "a.jsonl", key.verify_key, key, clock=lambda: NOON)
        accepted = []
        for actor, action, object_type, object_id in records:
            try:
                log.record(actor, action, object_type, object_id)
            except BadInput:
                continue  # the word-sequence guard may refuse a generated value
            accepted.append(
                {
                    "at": "2025-03-01T12:00:00Z",
                    "actor": actor,
                    "action": action,
                    "object": {"type": object_type, "id": object_id},
                }
            )
        assert log.verify() == len(accepted)
        assert bodies(log) == accepted
        if not accepted:
            return
        data = log.chain.path.read_bytes()
        assert re.fullmatch(rb"[\x20-\x7e\n]*", data) is not None
        for line in data.splitlines():
            body = json.loads(line)["body"]
            assert set(body) == {"at", "actor", "action", "object"}
            assert set(body["object"]) == {"type", "id"}
            values = [body["actor"], body["action"], body["object"]["type"], body["object"]["id"]]
            assert all(IDENTIFIER.fullmatch(v) for v in values)


def test_verify_catches_tampering_and_the_anchor_catches_a_rewrite(
    log: AuditLog, key: SigningKey
) -> None:
    for i in range(3):
        log.record("user:1", "record.view", "record", str(i))
    head = log.head()
    assert log.verify(anchor=head) == 3
    path = log.chain.path
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"id":"1"', b'"id":"9"'))
    with pytest.raises(ChainBroken) as info:
        log.verify()
    assert info.value.index == 1
    assert info.value.message == "entry 1: bad signature"
    # Someone with the key removes the read of record 1 and re-signs everything:
    path.unlink()
    for i in (0, 2, 3):
        log.record("user:1", "record.view", "record", str(i))
    assert log.verify() == 3
    with pytest.raises(ChainBroken) as info:
        log.verify(anchor=head)
    assert info.value.index == 2


def test_a_reader_needs_no_signing_key(log: AuditLog, key: SigningKey) -> None:
    log.record("u1", "login")
    reader = AuditLog(log.chain.path, key.verify_key)
    assert reader.verify() == 1
    assert reader.head()[0] == 1
    with pytest.raises(BadInput) as info:
        reader.record("u1", "login")
    assert info.value.code == "no_signing_key"
    assert AuditLog(log.chain.path.with_name("new.jsonl"), key.verify_key).head() == (0, GENESIS)


def test_record_many_writes_what_record_would_in_order(log: AuditLog) -> None:
    log.record_many([("user:7", "records.watchlist", "person", "P-1"), ("user:7", "login", "", "")])
    assert log.verify() == 2
    assert [b["action"] for b in bodies(log)] == ["records.watchlist", "login"]
    assert bodies(log)[0]["object"] == {"type": "person", "id": "P-1"}


def test_record_many_writes_nothing_when_one_entry_is_free_text(log: AuditLog) -> None:
    log.record("user:7", "login")
    with pytest.raises(BadInput):
        log.record_many([("user:7", "records.read", "person", "P-1"), ("u", "x", "person", "a b")])
    assert log.verify() == 1
