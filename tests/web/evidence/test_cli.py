"""The evidence vault from the command line, as a researcher and a court's expert use it
(issue 6): add, list, show, share, export, verify, and the archive read with stock `age`."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.cli_runner import refugium

ADMIN_PASS = "admin passphrase for the evidence cli test"


PAPER_KEYS: dict[Path, str] = {}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evidence-cli") / "data"
    done = refugium(folder, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert done.returncode == 0
    PAPER_KEYS[folder] = re.search(r"AGE-SECRET-KEY-1[0-9A-Z]+", done.stdout).group(0)  # type: ignore[union-attr]
    return folder


def unlocked(data: Path, *args: str):  # type: ignore[no-untyped-def]
    return refugium(data, *args, "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")


def photo_with_gps() -> bytes:
    """A synthetic JPEG whose EXIF holds a GPS position and a camera serial number."""
    exif = Image.Exif()
    exif[0x010F] = "SyntheticCam"
    exif[0xA431] = "SERIAL-0042"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (43.0, 18.0, 0.0), 3: "E", 4: (45.0, 41.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def added(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("incoming")
    (folder / "photo.jpg").write_bytes(photo_with_gps())
    (folder / "sub").mkdir()
    text = ("Список задержанных, Аргун. " * 5000).encode()  # Cyrillic across chunk boundaries
    (folder / "sub" / "list\u202egnp.txt").write_bytes(text)
    done = refugium(
        data, "evidence", "add", str(folder), "--source", "hotline, phone 3", "--by", "admin"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    # Paths are printed with control and bidi characters escaped (a terminal is no place for
    # an RTL override); the hash says which file each line is about.
    by_hash = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in folder.rglob("*.*")}
    found = {}
    for line in lines:
        code, sha256, shown = line.split("  ", 2)
        path = by_hash[sha256]
        assert "\u202e" not in shown
        found[path.suffix] = (code, path)
    return found


def test_show_gives_name_source_hash_metadata_and_custody(data, added) -> None:  # type: ignore[no-untyped-def]
    code, path = added[".jpg"]
    shown = unlocked(data, "evidence", "show", code, "--json")
    assert shown.returncode == 0, shown.stderr
    item = json.loads(shown.stdout)
    assert (item["name"], item["source"]) == ("photo.jpg", "hotline, phone 3")
    assert item["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert item["media_type"] == "image/jpeg"
    assert item["metadata"]["warnings"]
    assert [e["event"] for e in item["custody"]] == ["ingested", "viewed"]
    # The log holds a commitment, never the hash or the name.
    log = (data / "custody.jsonl").read_text(encoding="utf-8")
    assert item["sha256"] not in log
    assert "photo" not in log
    listed = refugium(data, "evidence", "list")
    assert code in listed.stdout


def test_the_archive_opens_with_the_stock_age_tool(data, added, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    code, path = added[".txt"]
    key = tmp_path / "documentation.key"
    exported = unlocked(data, "desk", "export-identity", "documentation", "--out", str(key))
    assert exported.returncode == 0, exported.stderr
    assert "WARNING" in exported.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(data / "refugium.sqlite3") as db:
        (stored,) = db.execute(
            "select stored_name from evidence_item where code=?", (code,)
        ).fetchone()
    # The paper key gives the same identities when no member can unlock.
    from_paper = tmp_path / "from-paper.key"
    done = refugium(
        data,
        "desk",
        "export-identity",
        "documentation",
        "--out",
        str(from_paper),
        "--paper-key",
        stdin=PAPER_KEYS[data] + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert from_paper.read_text() == key.read_text()
    wrong = refugium(
        data,
        "desk",
        "export-identity",
        "documentation",
        "--out",
        str(tmp_path / "never.key"),
        "--paper-key",
        stdin="AGE-SECRET-KEY-1" + "Q" * 58 + "\n",
    )
    assert wrong.returncode != 0
    assert not (tmp_path / "never.key").exists()
    out = tmp_path / "plain.txt"
    subprocess.run(
        ["age", "-d", "-i", str(key), "-o", str(out), str(data / "store" / "files" / stored)],
        check=True,
    )
    assert out.read_bytes() == path.read_bytes()


def test_a_sharing_copy_has_no_gps_and_the_original_is_untouched(data, added, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, path = added[".jpg"]
    copy = tmp_path / "share.jpg"
    shared = unlocked(data, "evidence", "share", code, "--out", str(copy))
    assert shared.returncode == 0, shared.stderr
    assert b"SERIAL-0042" in path.read_bytes()
    assert b"SERIAL-0042" not in copy.read_bytes()
    assert Image.open(copy).getexif().get_ifd(0x8825) == {}
    history = json.loads(unlocked(data, "evidence", "show", code, "--json").stdout)["custody"]
    assert "shared" in [e["event"] for e in history]


def test_an_export_bundle_verifies_and_a_changed_byte_is_named(data, added, tmp_path) -> None:  # type: ignore[no-untyped-def]
    codes = [added[".jpg"][0], added[".txt"][0]]
    bundle = tmp_path / "bundle"
    done = unlocked(data, "evidence", "export", *codes, "--out", str(bundle))
    assert done.returncode == 0, done.stderr
    assert refugium(data, "verify", str(bundle)).returncode == 0
    again = unlocked(data, "evidence", "export", *codes, "--out", str(bundle))
    assert again.returncode == 2
    stored = sorted((bundle / "files").iterdir())[0]
    data_bytes = bytearray(stored.read_bytes())
    data_bytes[len(data_bytes) // 2] ^= 0x01
    stored.write_bytes(bytes(data_bytes))
    failed = refugium(data, "verify", str(bundle))
    assert failed.returncode == 1
    assert stored.name in failed.stdout
