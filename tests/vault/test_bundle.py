"""Tests for refugium.vault.bundle: a bundle verifies with refugium and with stock tools
alone (the commands of its VERIFY.txt, run as written), and every kind of edit is named by
``verify_bundle`` and fails those commands."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
import tracemalloc
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.crypto.signing import SigningKey
from refugium.errors import BadInput, ChainBroken, Conflict, DecryptionFailed
from refugium.vault.bundle import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    BundleItem,
    safe_file_name,
    verify_bundle,
    write_bundle,
)
from refugium.vault.custody import CustodyLog, commitment, new_salt

MIB = 1 << 20
BIG_SIZE = 5 * MIB + 12_345
# Testimony in Cyrillic, two bytes a letter in UTF-8, streamed in 7-byte chunks: most chunk
# boundaries fall inside a letter. A tool that decodes each chunk as text (HURIDOCS Preserve
# did) corrupts it; the bundle must copy bytes.
CYRILLIC = ("Свидетель показал: задержан 12 марта, Грозный, ул. Мира 7.\n" * 400).encode()
CYRILLIC_CHUNK = 7

for tool in ("sha256sum", "openssl", "base64", "sed", "grep", "mktemp"):
    if shutil.which(tool) is None:
        pytest.fail(f"stock tool {tool} missing: the court's commands cannot be tested")


@dataclass
class Source:
    """One item's plaintext and what the vault knows of it."""

    item: str
    name: str
    data: bytes
    chunk: int
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def chunks(self) -> Iterator[bytes]:
        for i in range(0, len(self.data), self.chunk):
            yield self.data[i : i + self.chunk]


SOURCES = [
    Source(
        "a1f0c3d2e5b4a6c7",
        "DCIM/IMG_0001.JPG",
        random.Random(1).randbytes(BIG_SIZE),
        MIB + 17,
        "image/jpeg",
    ),
    Source("b7e2", "Показания_\u202etxt.exe", CYRILLIC, CYRILLIC_CHUNK, "text/plain"),
    Source("c9", "../x", b"\x00\xff\n" * 10, 4, "application/octet-stream"),
]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


def make_log(folder: Path, key: SigningKey, sources: list[Source]) -> tuple[CustodyLog, dict]:  # type: ignore[type-arg]
    """A custody log with an ingest, a view and more for each source; returns its salts."""
    log = CustodyLog(folder / "custody.jsonl", key.verify_key, key)
    salts = {s.item: new_salt() for s in sources}
    for s in sources:
        c = commitment(s.sha256, salts[s.item])
        log.record("ingested", s.item, actor="desk-1", content=c, size=len(s.data))
        log.record("viewed", s.item, actor="ana", content=c)
    first = sources[0]
    c0 = commitment(first.sha256, salts[first.item])
    copy = commitment(hashlib.sha256(b"stripped copy").hexdigest(), new_salt())
    log.record("shared", first.item, actor="ana", content=c0, copy=copy)
    log.record("attached", first.item, actor="ana", content=c0, record="E-0001")
    for s in sources:
        log.record("exported", s.item, actor="ana", content=commitment(s.sha256, salts[s.item]))
    return log, salts


def bundle_items(sources: list[Source], salts: dict[str, str]) -> list[BundleItem]:
    return [
        BundleItem(
            item=s.item,
            name=s.name,
            salt=salts[s.item],
            sha256=s.sha256,
            size=len(s.data),
            media_type=s.media_type,
            details={"source": "Грозный, встреча 3", "collected_by": "desk-1"},
            chunks=s.chunks,
        )
        for s in sources
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> tuple[Path, CustodyLog]:
    """One bundle of SOURCES, built once; tamper tests edit copies of it."""
    folder = tmp_path_factory.mktemp("built")
    log, salts = make_log(folder, key, SOURCES)
    result = write_bundle(folder / "bundle", bundle_items(SOURCES, salts), log, key)
    assert result.path == folder / "bundle"
    return result.path, log


@pytest.fixture
def bundle(built: tuple[Path, CustodyLog], tmp_path: Path) -> Path:
    """A fresh copy of the built bundle that this test may damage."""
    copy = tmp_path / "bundle"
    shutil.copytree(built[0], copy)
    return copy


def file_of(source: Source) -> str:
    return f"files/{safe_file_name(source.item, source.name)}"


def steps(bundle: Path) -> dict[int, str]:
    """VERIFY.txt cut at its "# Step N." headings: step number to its text."""
    text = (bundle / "VERIFY.txt").read_text("utf-8")
    found = {}
    for part in re.split(r"^(?=# Step \d+\. )", text, flags=re.M)[1:]:
        number = re.match(r"# Step (\d+)\. ", part)
        assert number is not None
        found[int(number.group(1))] = part
    return found


def run_sh(bundle: Path, script: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Runs shell text in the bundle folder with ``sh -e``, as VERIFY.txt says to."""
    done = subprocess.run(
        ["sh", "-e", "-c", script],
        cwd=bundle,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def run(bundle: Path, *argv: str) -> int:
    return subprocess.run(argv, cwd=bundle, capture_output=True, timeout=120).returncode


OPENSSL_VERIFY = (
    "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "custody-public.pem", "-rawin",
    "-in", "MANIFEST.sha256", "-sigfile", "MANIFEST.sha256.sig",
)  # fmt: skip


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# -- a good bundle ----------------------------------------------------------------------


def test_layout_modes_and_contents(built: tuple[Path, CustodyLog], key: SigningKey) -> None:
    path, log = built
    names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))
    assert names == sorted(
        [
            "MANIFEST.sha256",
            "MANIFEST.sha256.sig",
            "VERIFY.txt",
            "custody-public.pem",
            "custody.jsonl",
            "files",
            "items.json",
            *(file_of(s) for s in SOURCES),
        ]
    )
    for p in [path, *path.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p
    for s in SOURCES:
        assert (path / file_of(s)).read_bytes() == s.data
    assert (path / "custody.jsonl").read_bytes() == log.path.read_bytes()
    assert (path / "custody-public.pem").read_bytes() == key.verify_key.to_public_pem()
    manifest = (path / "MANIFEST.sha256").read_text("utf-8").splitlines()
    listed = [line.split("  ", 1)[1] for line in manifest]
    assert listed == sorted(
        ["VERIFY.txt", "custody.jsonl", "items.json", *(file_of(s) for s in SOURCES)]
    )
    for line in manifest:
        digest, rel = line.split("  ", 1)
        assert digest == hashlib.sha256((path / rel).read_bytes()).hexdigest()
    key.verify_key.verify(
        (path / "MANIFEST.sha256.sig").read_bytes(), (path / "MANIFEST.sha256").read_bytes()
    )
    items = json.loads((path / "items.json").read_text("utf-8"))
    assert items["format"] == "refugium-bundle-1"
    by_id = {rec["item"]: rec for rec in items["items"]}
    for s in SOURCES:
        rec = by_id[s.item]
        assert rec["file"] == file_of(s)
        assert rec["sha256"] == s.sha256
        assert rec["commitment"] == commitment(s.sha256, rec["salt"])
        assert rec["size"] == len(s.data)
        assert rec["media_type"] == s.media_type
        assert rec["details"] == {"source": "Грозный, встреча 3", "collected_by": "desk-1"}
    assert not list(path.parent.glob(".bundle.partial-*"))


def test_cyrillic_chunks_really_split_letters() -> None:
    """The test data does what it claims: chunks that are not valid UTF-8 on their own."""
    cyrillic = SOURCES[1]
    broken = 0
    for chunk in cyrillic.chunks():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            broken += 1
    assert broken > 100


def test_verify_bundle_finds_nothing_wrong(built: tuple[Path, CustodyLog]) -> None:
    assert verify_bundle(built[0]) == []


def test_every_command_of_verify_txt_passes(built: tuple[Path, CustodyLog]) -> None:
    path = built[0]
    found = steps(path)
    assert sorted(found) == [1, 2, 3, 4, 5]
    outputs = {}
    for number, text in found.items():
        code, out = run_sh(path, text)
        assert code == 0, (number, out)
        outputs[number] = out
    assert "FAILED" not in "".join(outputs.values())
    assert outputs[1].count(": OK\n") == 3 + len(SOURCES)
    assert "Signature Verified Successfully" in outputs[2]
    assert "custody.jsonl: 11 entries, each signed and linked to the one before" in outputs[3]
    for s in SOURCES:
        assert f"{s.item}: file, SHA-256, salt and custody log agree" in outputs[4]
    fingerprint = hashlib.sha256(
        subprocess.run(
            ["openssl", "pkey", "-pubin", "-in", "custody-public.pem", "-outform", "DER"],
            cwd=path,
            capture_output=True,
            check=True,
        ).stdout
    ).hexdigest()
    assert fingerprint in outputs[5]
    assert built[1].head()[1] in outputs[5]


@pytest.mark.parametrize("locale", [None, "C"])
def test_the_whole_file_runs_as_a_script(
    built: tuple[Path, CustodyLog], locale: str | None
) -> None:
    env = dict(os.environ)
    if locale is not None:
        env["LC_ALL"] = locale
    code, out = run_sh(built[0], (built[0] / "VERIFY.txt").read_text("utf-8"), env)
    assert code == 0, out
    assert out.rstrip("\n").endswith("ALL CHECKS PASSED")


def test_verify_txt_needs_no_jq(built: tuple[Path, CustodyLog]) -> None:
    text = (built[0] / "VERIFY.txt").read_text("utf-8")
    assert "jq " not in text.replace("jq and Python are not needed", "")
    assert "python" not in text.lower().replace("jq and python are not needed", "")


# -- tampering: one byte changed anywhere is named and fails the stock commands ---------


def run_verify_txt(bundle: Path) -> tuple[int, str]:
    return run_sh(bundle, (bundle / "VERIFY.txt").read_text("utf-8"))


def test_a_changed_byte_in_a_stored_file(bundle: Path) -> None:
    big = file_of(SOURCES[0])
    flip(bundle / big, BIG_SIZE // 2)
    assert verify_bundle(bundle) == [f"{big}: SHA-256 does not match the manifest"]
    assert run(bundle, "sha256sum", "-c", "MANIFEST.sha256") != 0
    found = steps(bundle)
    code, out = run_sh(bundle, found[1])
    assert code != 0
    assert f"{big}: FAILED" in out
    code, out = run_sh(bundle, found[4])
    assert code != 0
    assert f"{SOURCES[0].item}: FAILED" in out
    assert run_sh(bundle, found[2])[0] == 0  # the manifest itself is intact
    code, out = run_verify_txt(bundle)
    assert code != 0
    assert "ALL CHECKS PASSED" not in out


def test_a_changed_byte_in_the_manifest(bundle: Path) -> None:
    manifest = bundle / "MANIFEST.sha256"
    lines = manifest.read_bytes().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.endswith(b"  items.json\n"))
    offset = sum(len(line) for line in lines[:index]) + 10  # a hex digit of items.json's hash
    data = bytearray(manifest.read_bytes())
    data[offset] = ord("1") if data[offset] == ord("0") else ord("0")  # still a hex digit
    manifest.write_bytes(bytes(data))
    assert verify_bundle(bundle) == [
        "items.json: SHA-256 does not match the manifest",
        "MANIFEST.sha256.sig: signature does not verify",
    ]
    assert run(bundle, "sha256sum", "-c", "MANIFEST.sha256") != 0
    assert run(bundle, *OPENSSL_VERIFY) != 0
    found = steps(bundle)
    assert run_sh(bundle, found[1])[0] != 0
    assert run_sh(bundle, found[2])[0] != 0
    assert run_verify_txt(bundle)[0] != 0


def test_a_changed_byte_in_the_manifest_s_separator(bundle: Path) -> None:
    """A line sha256sum would skip as malformed without --strict is still caught."""
    manifest = bundle / "MANIFEST.sha256"
    data = manifest.read_bytes()
    manifest.write_bytes(data[:64] + b" \t" + data[66:])
    problems = verify_bundle(bundle)
    assert "MANIFEST.sha256: line 1 is not a sha256sum line for this bundle" in problems
    assert "MANIFEST.sha256.sig: signature does not verify" in problems
    assert run(bundle, "sha256sum", "--strict", "-c", "MANIFEST.sha256") != 0
    assert run(bundle, *OPENSSL_VERIFY) != 0
    assert run_verify_txt(bundle)[0] != 0


def test_a_changed_byte_in_a_custody_line(bundle: Path) -> None:
    log = bundle / "custody.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    offset = sum(len(line) for line in lines[:3]) + lines[3].index(b'"actor":"ana"') + 10
    flip(log, offset)  # entry 3's actor "ana" becomes "`na"
    assert verify_bundle(bundle) == [
        "custody.jsonl: SHA-256 does not match the manifest",
        "custody.jsonl: entry 3: bad signature",
    ]
    assert run(bundle, "sha256sum", "-c", "MANIFEST.sha256") != 0
    code, out = run_sh(bundle, steps(bundle)[3])
    assert code != 0
    assert "custody.jsonl: entry 3: FAILED, signature does not verify" in out
    code, out = run_verify_txt(bundle)
    assert code != 0
    assert "ALL CHECKS PASSED" not in out


def test_a_changed_byte_in_a_custody_line_s_signature_or_link(bundle: Path) -> None:
    """The shell loop alone catches an edit to a signature and to a prev link."""
    log = bundle / "custody.jsonl"
    original = log.read_bytes()
    lines = original.splitlines(keepends=True)
    for line_no, field in [(2, b'"sig":"'), (5, b'"prev":"')]:
        log.write_bytes(original)
        offset = sum(len(line) for line in lines[:line_no]) + lines[line_no].index(field) + 12
        flip(log, offset)
        code, out = run_sh(bundle, steps(bundle)[3])
        assert code != 0
        assert f"custody.jsonl: entry {line_no}: FAILED" in out
        assert f"custody.jsonl: entry {line_no}: " in "\n".join(verify_bundle(bundle))


def test_a_changed_byte_in_the_signature(bundle: Path) -> None:
    flip(bundle / "MANIFEST.sha256.sig", 5)
    assert verify_bundle(bundle) == ["MANIFEST.sha256.sig: signature does not verify"]
    assert run(bundle, *OPENSSL_VERIFY) != 0
    code, out = run_sh(bundle, steps(bundle)[2])
    assert code != 0
    assert "Signature Verified Successfully" not in out
    assert run_sh(bundle, steps(bundle)[1])[0] == 0  # the files themselves are intact
    assert run_verify_txt(bundle)[0] != 0


def test_a_file_slipped_in_or_removed(bundle: Path) -> None:
    (bundle / "files" / "extra.jpg").write_bytes(b"planted")
    assert verify_bundle(bundle) == ["files/extra.jpg: not listed in the manifest"]
    assert run_sh(bundle, steps(bundle)[1])[0] != 0
    (bundle / "files" / "extra.jpg").unlink()
    (bundle / file_of(SOURCES[2])).unlink()
    assert verify_bundle(bundle) == [
        f"{file_of(SOURCES[2])}: listed in the manifest but missing",
        f"items.json: item {SOURCES[2].item}: size differs from the file's",
    ]
    assert run(bundle, "sha256sum", "-c", "MANIFEST.sha256") != 0


def test_a_bundle_re_signed_with_another_key_fails_only_the_anchor(bundle: Path) -> None:
    """A forger re-signing with a key of their own passes every internal check but the
    custody lines, which were signed with the organisation's key."""
    other = SigningKey.generate()
    (bundle / "custody-public.pem").write_bytes(other.verify_key.to_public_pem())
    (bundle / "MANIFEST.sha256.sig").write_bytes(
        other.sign((bundle / "MANIFEST.sha256").read_bytes())
    )
    assert verify_bundle(bundle) == ["custody.jsonl: entry 0: bad signature"]
    assert run(bundle, *OPENSSL_VERIFY) == 0
    assert run_sh(bundle, steps(bundle)[3])[0] != 0


def test_items_json_must_agree_with_the_log(
    tmp_path: Path, key: SigningKey, built: tuple[Path, CustodyLog]
) -> None:
    """items.json re-signed with the right key but a salt that matches no ingest entry."""
    path = tmp_path / "b"
    shutil.copytree(built[0], path)
    items = json.loads((path / "items.json").read_text("utf-8"))
    rec = items["items"][0]
    rec["salt"] = new_salt()
    rec["commitment"] = commitment(rec["sha256"], rec["salt"])
    (path / "items.json").write_text(json.dumps(items), "utf-8")
    manifest = (path / "MANIFEST.sha256").read_text("utf-8")
    new_hash = hashlib.sha256((path / "items.json").read_bytes()).hexdigest()
    manifest = re.sub(
        r"^[0-9a-f]{64}  items\.json$", f"{new_hash}  items.json", manifest, flags=re.M
    )
    (path / "MANIFEST.sha256").write_text(manifest, "utf-8")
    (path / "MANIFEST.sha256.sig").write_bytes(key.sign(manifest.encode()))
    assert verify_bundle(path) == [
        f"items.json: item {rec['item']}: commitment is in no ingested entry of custody.jsonl"
    ]


# -- writing: refusals and clean failure ------------------------------------------------


@dataclass
class Small:
    log: CustodyLog
    items: list[BundleItem]


@pytest.fixture
def small(tmp_path: Path, key: SigningKey) -> Small:
    sources = [SOURCES[1], SOURCES[2]]
    log, salts = make_log(tmp_path, key, sources)
    return Small(log, bundle_items(sources, salts))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("kind", ["folder", "file", "dangling-symlink"])
def test_refuses_an_existing_out(tmp_path: Path, small: Small, key: SigningKey, kind: str) -> None:
    out = tmp_path / "out"
    if kind == "folder":
        out.mkdir()
    elif kind == "file":
        out.write_bytes(b"keep me")
    else:
        out.symlink_to(tmp_path / "nowhere")
    with pytest.raises(Conflict) as info:
        write_bundle(out, small.items, small.log, key)
    assert info.value.code == "bundle_exists"
    if kind == "folder":
        assert list(out.iterdir()) == []
    elif kind == "file":
        assert out.read_bytes() == b"keep me"
    assert leftovers(tmp_path) == []


def test_a_hash_mismatch_leaves_no_bundle(tmp_path: Path, small: Small, key: SigningKey) -> None:
    out = tmp_path / "out"
    tampered = bytearray(SOURCES[2].data)
    tampered[3] ^= 0xFF
    items = [small.items[0], replace(small.items[1], chunks=lambda: iter([bytes(tampered)]))]
    with pytest.raises(DecryptionFailed) as info:
        write_bundle(out, items, small.log, key)
    assert info.value.code == "content_mismatch"
    assert SOURCES[2].item in info.value.message
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_short_file_leaves_no_bundle(tmp_path: Path, small: Small, key: SigningKey) -> None:
    out = tmp_path / "out"
    items = [replace(small.items[0], chunks=lambda: iter([CYRILLIC[:-1]])), small.items[1]]
    with pytest.raises(DecryptionFailed):
        write_bundle(out, items, small.log, key)
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "error", [DecryptionFailed("bad"), KeyboardInterrupt(), OSError(28, "full")]
)
def test_an_interruption_mid_file_leaves_no_bundle(
    tmp_path: Path, small: Small, key: SigningKey, error: BaseException
) -> None:
    closed: list[bool] = []

    class Failing:
        def __iter__(self) -> Iterator[bytes]:
            return self

        def __next__(self) -> bytes:
            if closed:
                raise AssertionError("read after close")
            if not hasattr(self, "started"):
                self.started = True
                return b"x" * 1000
            raise error

        def close(self) -> None:
            closed.append(True)

    out = tmp_path / "out"
    items = [small.items[0], replace(small.items[1], chunks=Failing)]
    with pytest.raises(type(error)):
        write_bundle(out, items, small.log, key)
    assert closed == [True]  # a decrypting worker is stopped, not left running
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_an_item_without_an_ingest_entry_is_refused(
    tmp_path: Path, small: Small, key: SigningKey
) -> None:
    items = [replace(small.items[0], salt=new_salt())]
    with pytest.raises(BadInput) as info:
        write_bundle(tmp_path / "out", items, small.log, key)
    assert info.value.code == "not_ingested"
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_broken_custody_log_is_refused(tmp_path: Path, small: Small, key: SigningKey) -> None:
    data = small.log.path.read_bytes()
    small.log.path.write_bytes(data.replace(b'"actor":"ana"', b'"actor":"bob"', 1))
    with pytest.raises(ChainBroken):
        write_bundle(tmp_path / "out", small.items, small.log, key)
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_the_signing_key_must_be_the_custody_key(tmp_path: Path, small: Small) -> None:
    with pytest.raises(BadInput) as info:
        write_bundle(tmp_path / "out", small.items, small.log, SigningKey.generate())
    assert info.value.code == "key_mismatch"


@pytest.mark.parametrize(
    "change",
    [
        {"item": "has space"},
        {"sha256": "AB" * 32},
        {"salt": "short"},
        {"size": -1},
        {"details": {"source": 3}},
    ],
)
def test_malformed_items_are_refused(
    tmp_path: Path,
    small: Small,
    key: SigningKey,
    change: dict,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(BadInput):
        write_bundle(tmp_path / "out", [replace(small.items[0], **change)], small.log, key)
    assert not (tmp_path / "out").exists()


def test_an_item_twice_is_refused(tmp_path: Path, small: Small, key: SigningKey) -> None:
    with pytest.raises(BadInput):
        write_bundle(tmp_path / "out", [small.items[0], small.items[0]], small.log, key)


def test_memory_does_not_grow_with_the_file(tmp_path: Path, key: SigningKey) -> None:
    size, piece = 48 * MIB, 256 * 1024

    def stream() -> Iterator[bytes]:
        rng = random.Random(7)
        for _ in range(size // piece):
            yield rng.randbytes(piece)

    digest = hashlib.sha256()
    for chunk in stream():
        digest.update(chunk)
    sha, salt = digest.hexdigest(), new_salt()
    log = CustodyLog(tmp_path / "c.jsonl", key.verify_key, key)
    log.record("ingested", "big1", actor="desk-1", content=commitment(sha, salt), size=size)
    item = BundleItem("big1", "video.mp4", salt, sha, size, "video/mp4", {}, stream)
    tracemalloc.start()
    try:
        write_bundle(tmp_path / "out", [item], log, key)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB
    assert verify_bundle(tmp_path / "out") == []


# -- hostile names ------------------------------------------------------------------------

HOSTILE = {
    "../x": "i1-x",
    "../../etc/passwd": "i1-passwd",
    "a\x00b.jpg": "i1-ab.jpg",
    "photo\u202egpj.exe": "i1-photogpj.exe",
    "C:\\Users\\me\\evidence.pdf": "i1-evidence.pdf",
    "..": "i1-file",
    "": "i1-file",
    "\u200b\u2066\u2069": "i1-file",
    "it's $(rm -rf ~) `x`.txt": "i1-it_s _(rm -rf ~) _x_.txt",
    "line\nbreak\r.txt": "i1-linebreak.txt",
    "Допрос  Гуцериев\u00a0 2024.docx": "i1-Допрос Гуцериев 2024.docx",
    " .hidden": "i1-hidden",
}


@pytest.mark.parametrize(("name", "expected"), sorted(HOSTILE.items()))
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name("i1", name) == expected


@pytest.mark.parametrize("name", ["a" * 300, "я" * 300 + ".jpeg", "x" * 250 + "." + "e" * 40])
def test_long_names_are_cut_keeping_a_short_extension(name: str) -> None:
    safe = safe_file_name("i1", name)
    rest = safe.removeprefix("i1-")
    assert len(rest) <= MAX_NAME_CHARS
    assert len(rest.encode("utf-8")) <= MAX_NAME_BYTES
    assert len(safe.encode("utf-8")) < 255
    if name.endswith(".jpeg"):
        assert rest.endswith(".jpeg")
        assert rest.startswith("яяя")


@pytest.mark.parametrize("name", ["../x", "a\x00b", "evil\u202eTXT.exe", "n" * 300, "'; sh"])
def test_hostile_names_land_inside_files_and_verify(
    tmp_path: Path, key: SigningKey, name: str
) -> None:
    data = b"evidence"
    sha, salt = hashlib.sha256(data).hexdigest(), new_salt()
    log = CustodyLog(tmp_path / "c.jsonl", key.verify_key, key)
    log.record("ingested", "i1", actor="desk-1", content=commitment(sha, salt), size=len(data))
    item = BundleItem("i1", name, salt, sha, len(data), "text/plain", {}, lambda: iter([data]))
    result = write_bundle(tmp_path / "out", [item], log, key)
    rel = result.files["i1"]
    assert rel.startswith("files/i1-")
    [stored] = list((tmp_path / "out" / "files").iterdir())
    assert stored.name == rel.removeprefix("files/")
    assert stored.read_bytes() == data
    for bad in ("/", "\x00", "\u202e", "'"):
        assert bad not in stored.name
    assert len(stored.name) <= 3 + MAX_NAME_CHARS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "out"]
    assert verify_bundle(tmp_path / "out") == []
    code, out = run_verify_txt(tmp_path / "out")
    assert code == 0, out


def test_verify_bundle_escapes_invisible_characters_in_what_it_reports(bundle: Path) -> None:
    (bundle / "files" / "x\u202eyz").write_bytes(b"planted")
    assert verify_bundle(bundle) == ["files/x\\u202eyz: not listed in the manifest"]


def test_verify_bundle_of_something_else(tmp_path: Path) -> None:
    assert verify_bundle(tmp_path / "none") == ["none: not a bundle folder"]
    (tmp_path / "empty").mkdir()
    problems = verify_bundle(tmp_path / "empty")
    for name in ("MANIFEST.sha256", "MANIFEST.sha256.sig", "custody.jsonl", "items.json"):
        assert f"{name}: missing" in problems


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=400), item=st.from_regex(r"[A-Za-z0-9_]{1,64}", fullmatch=True))
def test_any_name_becomes_a_safe_one(name: str, item: str) -> None:
    safe = safe_file_name(item, name)
    assert safe.startswith(f"{item}-")
    rest = safe.removeprefix(f"{item}-")
    assert rest not in ("", ".", "..")
    assert len(rest) <= MAX_NAME_CHARS
    assert len(rest.encode("utf-8")) <= MAX_NAME_BYTES
    assert not any(unicodedata.category(c)[0] == "C" for c in rest)
    assert not any(c in "/\\\x00\n'\"$`" for c in rest)
    assert rest == rest.strip(". ")
    assert safe_file_name(item, name) == safe  # deterministic


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> Path:
    folder = tmp_path_factory.mktemp("small")
    sources = [SOURCES[1], SOURCES[2]]
    log, salts = make_log(folder, key, sources)
    return write_bundle(folder / "bundle", bundle_items(sources, salts), log, key).path


_EDIT_SCRATCH = tempfile.TemporaryDirectory(prefix="refugium-test-bundle-")


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_single_byte_edit_anywhere_is_reported(small_bundle: Path, data: st.DataObject) -> None:
    """Every file of a bundle is covered: by the manifest, or by the signature over it."""
    files = sorted(p.relative_to(small_bundle) for p in small_bundle.rglob("*") if p.is_file())
    rel = data.draw(st.sampled_from(files))
    original = (small_bundle / rel).read_bytes()
    offset = data.draw(st.integers(0, len(original) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != original[offset]))
    copy = Path(_EDIT_SCRATCH.name) / "bundle"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(small_bundle, copy)
    edited = bytearray(original)
    edited[offset] = new
    (copy / rel).write_bytes(bytes(edited))
    assert verify_bundle(copy) != []


def test_a_files_folder_symlinked_out_of_the_bundle_is_not_followed(
    bundle: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.move(bundle / "files", outside)
    (bundle / "files").symlink_to(outside)
    problems = verify_bundle(bundle)
    assert "files/: missing or not a plain folder" in problems
    for s in SOURCES:
        assert f"{file_of(s)}: listed in the manifest but missing" in problems
