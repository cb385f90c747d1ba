"""Tests for refugium.chain: format, round trip, tamper detection, concurrency, crashes."""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refugium.chain import GENESIS, MAX_INT, SignedChain, canonical_json, verify_chain_file
from refugium.crypto.signing import SigningKey
from refugium.errors import BadInput, ChainBroken

# Bodies with non-ASCII text, escapes and nesting, so that tamper tests cover multi-byte
# characters and every kind of JSON token.
SAMPLE_BODIES: list[dict[str, Any]] = [
    {"event": "ingested", "sha256": "ab" * 32, "size": 1234},
    {"note": 'Зелимхан "quoted" \\ tab\t nl\n é ü 中', "n": -7, "ok": True},
    {"nested": {"list": [1, 2, {"x": None}], "empty": {}}, "flag": False},
    {},
    {"big": MAX_INT, "small": -MAX_INT, "ctrl": "\x00\x1f\x7f"},
]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def sample_bytes(key: SigningKey, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A five-entry chain's file, built once; tamper tests edit copies of its bytes."""
    path = tmp_path_factory.mktemp("sample") / "chain.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    for body in SAMPLE_BODIES:
        chain.append(body)
    return path.read_bytes()


def line_starts(data: bytes) -> list[int]:
    """Offsets where each line begins."""
    starts = [0]
    for i, byte in enumerate(data):
        if byte == 0x0A and i + 1 < len(data):
            starts.append(i + 1)
    return starts


def line_of(data: bytes, offset: int) -> int:
    """Index of the line holding byte ``offset`` (a newline belongs to its line)."""
    return sum(1 for s in line_starts(data) if s <= offset) - 1


_SCRATCH = tempfile.TemporaryDirectory(prefix="refugium-test-chain-")


def broken_index(data: bytes, key: SigningKey) -> int | None:
    """Verifies ``data`` as a chain file; the index of the first bad entry, or None."""
    path = Path(_SCRATCH.name) / "chain.jsonl"
    path.write_bytes(data)
    try:
        verify_chain_file(path, key.verify_key)
    except ChainBroken as exc:
        broken = exc
    else:
        return None
    assert broken.code == "chain_broken"
    assert broken.message.startswith(f"entry {broken.index}: ")
    return broken.index


# -- format and round trip ---------------------------------------------------------------


def test_first_line_is_exactly_the_documented_format(tmp_path: Path, key: SigningKey) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    entry = chain.append({"b": 1, "a": "é"})
    signed = b'{"body":{"a":"\xc3\xa9","b":1},"prev":"' + GENESIS.encode() + b'","seq":0}'
    sig = base64.b64encode(key.sign(signed)).decode()  # Ed25519 signatures are deterministic
    expected = signed[:-1] + b',"sig":"' + sig.encode() + b'"}\n'
    assert (tmp_path / "c.jsonl").read_bytes() == expected
    assert entry == {"seq": 0, "prev": GENESIS, "body": {"b": 1, "a": "é"}, "sig": sig}


def test_prev_is_the_sha256_of_the_previous_line_with_its_newline(
    tmp_path: Path, key: SigningKey
) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    chain.append({"i": 0})
    second = chain.append({"i": 1})
    first_line = (tmp_path / "c.jsonl").read_bytes().split(b"\n")[0] + b"\n"
    assert second["prev"] == hashlib.sha256(first_line).hexdigest()
    assert second["seq"] == 1


def test_round_trip_and_counts(tmp_path: Path, key: SigningKey) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    written = [chain.append(body) for body in SAMPLE_BODIES]
    assert chain.verify() == 5
    read = list(chain.entries())
    assert read == written
    assert [e["body"] for e in read] == SAMPLE_BODIES
    assert [e["seq"] for e in read] == [0, 1, 2, 3, 4]
    last_line = (tmp_path / "c.jsonl").read_bytes().splitlines(keepends=True)[-1]
    assert chain.head() == (5, hashlib.sha256(last_line).hexdigest())
    # A reader with only the public key sees the same.
    reader = SignedChain(tmp_path / "c.jsonl", key.verify_key)
    assert reader.verify() == 5
    assert verify_chain_file(tmp_path / "c.jsonl", key.verify_key) == 5


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_INT, max_value=MAX_INT)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_bodies = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(json_bodies, min_size=1, max_size=4))
def test_any_json_body_round_trips(key: SigningKey, bodies: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        chain = SignedChain(Path(folder) / "c.jsonl", key.verify_key, key)
        for body in bodies:
            chain.append(body)
        assert chain.verify() == len(bodies)
        assert [e["body"] for e in chain.entries()] == bodies


def test_empty_and_missing_chains(tmp_path: Path, key: SigningKey) -> None:
    missing = SignedChain(tmp_path / "none.jsonl", key.verify_key, key)
    assert missing.verify() == 0
    assert missing.head() == (0, GENESIS)
    assert list(missing.entries()) == []
    assert missing.repair_torn_tail() == 0
    assert not (tmp_path / "none.jsonl").exists()
    with pytest.raises(FileNotFoundError):
        verify_chain_file(tmp_path / "none.jsonl", key.verify_key)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert verify_chain_file(tmp_path / "empty.jsonl", key.verify_key) == 0


def test_file_is_created_0600(tmp_path: Path, key: SigningKey) -> None:
    old = os.umask(0)
    try:
        SignedChain(tmp_path / "c.jsonl", key.verify_key, key).append({})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.jsonl").stat().st_mode) == 0o600


def test_append_refuses_a_symlink_at_the_path(tmp_path: Path, key: SigningKey) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    (tmp_path / "c.jsonl").symlink_to(target)
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    with pytest.raises(OSError, match="symbolic link") as info:
        chain.append({})
    assert info.value.errno == errno.ELOOP
    assert target.read_bytes() == b""


def test_a_long_last_line_spanning_several_tail_reads(tmp_path: Path, key: SigningKey) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    chain.append({"x": "a" * 20_000})
    chain.append({"x": "b" * 30_000})
    chain.append({"x": "c"})
    assert chain.verify() == 3


def test_entries_can_be_external_checked_with_sha256sum_and_openssl(
    tmp_path: Path, key: SigningKey
) -> None:
    """DESIGN §4: a court's expert checks the log with standard tools, no refugium."""
    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        pytest.skip("openssl or sha256sum not installed")
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    chain.append({"event": "ingested", "name": "é"})
    second = chain.append({"event": "viewed"})
    (tmp_path / "key.pem").write_bytes(key.verify_key.to_public_pem())
    lines = path.read_bytes().splitlines(keepends=True)
    out = subprocess.run(
        ["sha256sum"], input=lines[0], capture_output=True, check=True
    ).stdout.split()[0]
    assert out.decode() == second["prev"]
    for i, line in enumerate(lines):
        cut = line.rindex(b',"sig":"')
        (tmp_path / f"msg{i}").write_bytes(line[:cut] + b"}")
        sig = base64.b64decode(json.loads(line)["sig"])
        (tmp_path / f"sig{i}").write_bytes(sig)
        verify = [
            "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "key.pem"),
            "-rawin", "-in", str(tmp_path / f"msg{i}"), "-sigfile", str(tmp_path / f"sig{i}"),
        ]  # fmt: skip
        assert subprocess.run(verify, capture_output=True).returncode == 0
        (tmp_path / f"msg{i}").write_bytes(line[:cut] + b" }")
        assert subprocess.run(verify, capture_output=True).returncode != 0


# -- bodies that have no canonical form are refused ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"f": 1.5},
        {"f": float("nan")},
        {"i": MAX_INT + 1},
        {"i": -MAX_INT - 1},
        {"s": "\ud800"},
        {"t": (1, 2)},
        {"b": b"bytes"},
        {1: "int key"},
        {"deep": [{"x": 0.0}]},
        ["not", "an", "object"],
        "text",
    ],
)
def test_bodies_without_a_canonical_form_are_refused(
    tmp_path: Path, key: SigningKey, body: Any
) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    with pytest.raises(BadInput) as info:
        chain.append(body)
    assert info.value.code == "bad_chain_body"
    assert not (tmp_path / "c.jsonl").exists()


def test_append_needs_the_matching_signing_key(tmp_path: Path, key: SigningKey) -> None:
    with pytest.raises(BadInput) as info:
        SignedChain(tmp_path / "c.jsonl", key.verify_key, SigningKey.generate())
    assert info.value.code == "key_mismatch"
    reader = SignedChain(tmp_path / "c.jsonl", key.verify_key)
    with pytest.raises(BadInput) as info:
        reader.append({})
    assert info.value.code == "no_signing_key"
    assert not (tmp_path / "c.jsonl").exists()


def test_a_chain_signed_by_another_key_fails_at_entry_0(tmp_path: Path, key: SigningKey) -> None:
    other = SigningKey.generate()
    SignedChain(tmp_path / "c.jsonl", other.verify_key, other).append({"a": 1})
    assert SignedChain(tmp_path / "c.jsonl", other.verify_key).verify() == 1
    with pytest.raises(ChainBroken) as info:
        SignedChain(tmp_path / "c.jsonl", key.verify_key).verify()
    assert info.value.index == 0
    assert info.value.message == "entry 0: bad signature"
    # Nor does an appender with our key build on a line it cannot verify.
    with pytest.raises(ChainBroken) as info:
        SignedChain(tmp_path / "c.jsonl", key.verify_key, key).append({"a": 2})
    assert info.value.index == 0


# -- tampering: every edit is caught at the first affected entry --------------------------

# Replacement bytes tried at every offset: a flipped low bit, a flipped case bit, and the
# bytes that matter to JSON's structure, plus bytes that break UTF-8.
SWEEP_BYTES = [None, 0x20, 0x0A, 0x22, 0x5C, 0x30, 0x7D, 0xFF]


def test_every_single_byte_edit_is_detected_exhaustive(
    sample_bytes: bytes, key: SigningKey
) -> None:
    assert broken_index(sample_bytes, key) is None
    missed = []
    for offset in range(len(sample_bytes)):
        original = sample_bytes[offset]
        for replacement in SWEEP_BYTES:
            new = original ^ 0x01 if replacement is None else replacement
            if new == original:
                new = original ^ 0x20
            edited = bytearray(sample_bytes)
            edited[offset] = new
            got = broken_index(bytes(edited), key)
            if got != line_of(sample_bytes, offset):
                missed.append((offset, new, got))
    assert missed == []


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_single_byte_edit_is_detected(
    sample_bytes: bytes, key: SigningKey, data: st.DataObject
) -> None:
    offset = data.draw(st.integers(0, len(sample_bytes) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != sample_bytes[offset]))
    edited = bytearray(sample_bytes)
    edited[offset] = new
    assert broken_index(bytes(edited), key) == line_of(sample_bytes, offset)


def test_the_last_base64_character_cannot_be_respelled(
    sample_bytes: bytes, key: SigningKey
) -> None:
    """b64decode ignores the unused low bits of the last character before '=='; on the last
    line nothing else would notice, so verify insists on the canonical spelling."""
    lines = sample_bytes.splitlines(keepends=True)
    last = lines[-1]
    pos = last.rindex(b'=="}')
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    value = alphabet.index(last[pos - 1 : pos])
    respelled = bytearray(last)
    respelled[pos - 1] = alphabet[value ^ 0x01]  # same decoded bytes, other spelling
    assert base64.b64decode(bytes(respelled[pos - 87 : pos + 2])) == base64.b64decode(
        last[pos - 87 : pos + 2]
    )
    assert broken_index(b"".join(lines[:-1]) + bytes(respelled), key) == len(lines) - 1


def test_deleting_any_line_but_the_last_is_detected(sample_bytes: bytes, key: SigningKey) -> None:
    lines = sample_bytes.splitlines(keepends=True)
    for i in range(len(lines) - 1):
        assert broken_index(b"".join(lines[:i] + lines[i + 1 :]), key) == i


def test_deleting_the_last_line_needs_an_anchor(tmp_path: Path, key: SigningKey) -> None:
    """The residual risk: cutting the chain at a line boundary leaves a valid, shorter chain.
    A head written down earlier catches it."""
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    for body in SAMPLE_BODIES:
        chain.append(body)
    head = chain.head()
    assert chain.verify(anchor=head) == 5
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    assert chain.verify() == 4
    with pytest.raises(ChainBroken) as info:
        chain.verify(anchor=head)
    assert info.value.index == 4
    assert info.value.message == "the chain has 4 entries, fewer than the recorded head"


def test_swapping_any_two_lines_is_detected(sample_bytes: bytes, key: SigningKey) -> None:
    lines = sample_bytes.splitlines(keepends=True)
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            swapped = list(lines)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            assert broken_index(b"".join(swapped), key) == i


def test_replaying_a_line_is_detected(sample_bytes: bytes, key: SigningKey) -> None:
    lines = sample_bytes.splitlines(keepends=True)
    for i in range(len(lines)):
        replayed = [*lines[: i + 1], lines[i], *lines[i + 1 :]]
        assert broken_index(b"".join(replayed), key) == i + 1


def test_every_truncation_mid_line_is_detected(sample_bytes: bytes, key: SigningKey) -> None:
    starts = set(line_starts(sample_bytes))
    for cut in range(1, len(sample_bytes)):
        got = broken_index(sample_bytes[:cut], key)
        if cut in starts:
            assert got is None  # a clean cut: only an anchor can tell (test above)
        else:
            assert got == line_of(sample_bytes, cut)


def test_kinds_of_failure_are_named(sample_bytes: bytes, key: SigningKey, tmp_path: Path) -> None:
    lines = sample_bytes.splitlines(keepends=True)
    path = tmp_path / "c.jsonl"

    def message(data: bytes) -> str:
        path.write_bytes(data)
        with pytest.raises(ChainBroken) as info:
            verify_chain_file(path, key.verify_key)
        return info.value.message

    assert message(lines[0] + lines[2]) == "entry 1: sequence number out of order"
    assert message(lines[0] + lines[1][:-5]) == "entry 1: incomplete line (an interrupted write)"
    assert message(lines[0] + b"{oops\n") == "entry 1: not valid JSON"
    assert message(lines[0].replace(b'"seq":0', b'"seq": 0')) == "entry 0: not in canonical form"
    assert message(b'{"body":{},"seq":0,"sig":""}\n') == "entry 0: wrong fields"
    assert message(b'{"body":{},"prev":"","seq":true,"sig":""}\n') == "entry 0: wrong field types"
    assert message(b'{"body":{"f":1.5},"prev":"","seq":0,"sig":""}\n') == "entry 0: not valid JSON"
    # A line re-signed with the right key but linked to the wrong predecessor:
    entry = json.loads(lines[1])
    entry["prev"] = "1" * 64
    unsigned = {k: entry[k] for k in ("body", "prev", "seq")}
    entry["sig"] = base64.b64encode(key.sign(canonical_json(unsigned))).decode()
    relinked = canonical_json(entry) + b"\n"
    assert message(lines[0] + relinked) == "entry 1: previous-hash mismatch"


def test_messages_never_carry_content(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    chain.append({"name": "Zelimkhan Khasuev"})
    chain.append({"name": "second"})
    data = path.read_bytes()
    for old, new in [(b"Khasuev", b"Khasuyev"), (b"Zelimkhan", b"Zelimkhan "), (b'"}', b'"')]:
        path.write_bytes(data.replace(old, new, 1))
        with pytest.raises(ChainBroken) as info:
            chain.verify()
        assert info.value.index == 0
        assert "Zelimkhan" not in str(info.value)
        assert "Khasu" not in str(info.value)


# -- anchors: the defence against a rewrite with the seized key ---------------------------


def test_a_rewrite_with_the_signing_key_passes_verify_but_not_the_anchor(
    tmp_path: Path, key: SigningKey
) -> None:
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    for i in range(4):
        chain.append({"event": i})
    published = chain.head()
    chain.append({"event": 4})
    assert chain.verify(anchor=published) == 5  # growth after the anchor is fine
    # The adversary holding the key writes history anew, entry 1 changed:
    path.unlink()
    for i in range(5):
        chain.append({"event": "forged" if i == 1 else i})
    assert chain.verify() == 5  # residual risk: a consistent forgery verifies
    with pytest.raises(ChainBroken) as info:
        chain.verify(anchor=published)
    assert info.value.index == 3
    assert info.value.message == "entry 3: differs from the recorded head"


def test_anchor_of_an_empty_chain_and_malformed_anchors(tmp_path: Path, key: SigningKey) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    assert chain.verify(anchor=(0, GENESIS)) == 0
    chain.append({})
    assert chain.verify(anchor=(0, GENESIS)) == 1
    assert chain.verify(anchor=chain.head()) == 1
    for bad in [(-1, GENESIS), (0, "ab" * 32), (1, GENESIS), (1, "AB" * 32), (1, "a" * 63)]:
        with pytest.raises(BadInput) as info:
            chain.verify(anchor=bad)
        assert info.value.code == "bad_chain_head"
    with pytest.raises(ChainBroken) as broken:
        chain.verify(anchor=(2, "ab" * 32))
    assert broken.value.index == 1


# -- crashes ------------------------------------------------------------------------------


def test_a_torn_last_line_is_reported_refused_and_repairable(
    tmp_path: Path, key: SigningKey
) -> None:
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    for i in range(3):
        chain.append({"i": i})
    whole = path.read_bytes()
    torn = b'{"body":{"i":3},"prev":"' + b"a" * 20  # a crash mid-write
    with path.open("ab") as fh:
        fh.write(torn)
    with pytest.raises(ChainBroken) as info:
        chain.verify()
    assert info.value.index == 3
    with pytest.raises(ChainBroken) as info:
        chain.append({"i": 3})
    assert info.value.index == 3
    assert info.value.message.startswith("entry 3: incomplete line")
    assert path.read_bytes() == whole + torn  # nothing built on the torn line
    assert chain.repair_torn_tail() == len(torn)
    assert path.read_bytes() == whole
    assert chain.repair_torn_tail() == 0
    chain.append({"i": 3})
    assert chain.verify() == 4


def test_a_torn_first_line_is_entry_0(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"body":{')
    chain = SignedChain(path, key.verify_key, key)
    for check in (chain.verify, lambda: chain.append({})):
        with pytest.raises(ChainBroken) as info:
            check()
        assert info.value.index == 0
    assert path.read_bytes() == b'{"body":{'


def test_a_complete_but_invalid_last_line_is_not_built_upon(
    tmp_path: Path, key: SigningKey
) -> None:
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    chain.append({"i": 0})
    with path.open("ab") as fh:
        fh.write(b"\x00" * 40 + b"\n")  # a power cut can leave zeros where data was due
    before = path.read_bytes()
    with pytest.raises(ChainBroken) as info:
        chain.append({"i": 1})
    assert info.value.message == "last entry: not valid JSON; verify the chain"
    assert path.read_bytes() == before
    assert chain.repair_torn_tail() == 0  # repair removes only an incomplete line
    with pytest.raises(ChainBroken) as info:
        chain.verify()
    assert info.value.index == 1


def test_a_failed_write_is_rolled_back(
    tmp_path: Path, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.jsonl"
    chain = SignedChain(path, key.verify_key, key)
    chain.append({"i": 0})
    before = path.read_bytes()
    real_write = os.write

    def half_then_full_disk(fd: int, data: Any) -> int:
        if len(data) > 10:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full_disk)
    with pytest.raises(OSError, match="No space") as info:
        chain.append({"i": 1, "pad": "x" * 100})
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before
    chain.append({"i": 1})
    assert chain.verify() == 2


# -- several processes appending at once -------------------------------------------------


def _append_many(path: str, pem: bytes, worker: int, count: int, start: Any) -> None:
    key = SigningKey.from_private_pem(pem)
    chain = SignedChain(Path(path), key.verify_key, key)
    start.wait()
    for i in range(count):
        chain.append({"worker": worker, "i": i})


def test_concurrent_appends_from_several_processes(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "c.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [
        ctx.Process(target=_append_many, args=(str(path), key.to_private_pem(), w, 50, start))
        for w in range(4)
    ]
    for p in workers:
        p.start()
    start.set()
    for p in workers:
        p.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    chain = SignedChain(path, key.verify_key)
    assert chain.verify() == 200
    entries = list(chain.entries())
    assert [e["seq"] for e in entries] == list(range(200))
    seen = sorted((e["body"]["worker"], e["body"]["i"]) for e in entries)
    assert seen == [(w, i) for w in range(4) for i in range(50)]
    # Each worker's own entries stay in its order.
    for w in range(4):
        assert [e["body"]["i"] for e in entries if e["body"]["worker"] == w] == list(range(50))


def test_verify_waits_for_an_append_in_progress(tmp_path: Path, key: SigningKey) -> None:
    """Verify reads up to a size taken under a shared lock; an append holds the exclusive
    one from before its first byte to after its fsync, so verify never sees half a line."""
    path = tmp_path / "c.jsonl"
    SignedChain(path, key.verify_key, key).append({"i": 0})
    shutil.copy(path, tmp_path / "copy.jsonl")
    SignedChain(tmp_path / "copy.jsonl", key.verify_key, key).append({"i": 1})
    next_line = (tmp_path / "copy.jsonl").read_bytes()[len(path.read_bytes()) :]
    results: list[object] = []

    def verify() -> None:
        try:
            results.append(SignedChain(path, key.verify_key).verify())
        except ChainBroken as exc:
            results.append(exc)

    with path.open("ab") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # as append() does
        fh.write(next_line[:30])
        fh.flush()
        thread = threading.Thread(target=verify)
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive() is True  # waiting for the lock
        fh.write(next_line[30:])
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_UN)
    thread.join(timeout=10)
    assert results == [2]


def test_append_many_writes_the_lines_append_would(tmp_path: Path, key: SigningKey) -> None:
    one_by_one = SignedChain(tmp_path / "a.jsonl", key.verify_key, key)
    one_by_one.append({"first": 1})
    for body in SAMPLE_BODIES:
        one_by_one.append(body)
    together = SignedChain(tmp_path / "b.jsonl", key.verify_key, key)
    together.append({"first": 1})
    entries = together.append_many(SAMPLE_BODIES)
    assert [e["seq"] for e in entries] == list(range(1, 1 + len(SAMPLE_BODIES)))
    assert (tmp_path / "b.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()
    assert together.verify() == 1 + len(SAMPLE_BODIES)
    assert together.append_many([]) == []


def test_append_many_writes_nothing_when_one_body_is_bad(tmp_path: Path, key: SigningKey) -> None:
    chain = SignedChain(tmp_path / "c.jsonl", key.verify_key, key)
    chain.append({"a": 1})
    before = (tmp_path / "c.jsonl").read_bytes()
    with pytest.raises(BadInput):
        chain.append_many([{"b": 2}, {"c": 1.5}])
    assert (tmp_path / "c.jsonl").read_bytes() == before


def test_append_many_syncs_once(
    tmp_path: Path, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = SignedChain(tmp_path / "d.jsonl", key.verify_key, key)
    chain.append({"a": 1})
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    chain.append_many([{"i": i} for i in range(50)])
    assert len(synced) == 1
    assert chain.verify() == 51
