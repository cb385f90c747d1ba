"""Sharing copies: mat2 strips them, ``report`` checks them, plaintext stays on tmpfs.

These run the real mat2 (Debian's package, installed by scripts/bootstrap): missing mat2 is a
failure, never a skip. Fake mat2 scripts stand in only where a test needs mat2 to misbehave.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from refugium.errors import BadInput
from refugium.vault import sharing
from refugium.vault.metadata import report
from refugium.vault.sharing import is_ram_backed, strip
from refugium.vault.sniff import media_type
from tests.vault.test_metadata import (
    DOCX,
    JPEG,
    MP3,
    MP4,
    ODT,
    PDF,
    PNG,
    WAV,
    make_docx,
    make_jpeg,
    make_mp3,
    make_mp4,
    make_odt,
    make_pdf,
    make_png,
    make_wav,
)


@pytest.fixture(autouse=True)
def mat2_installed() -> str:
    path = shutil.which("mat2")
    if path is None:
        pytest.fail("mat2 is missing: run scripts/bootstrap (it installs Debian's mat2)")
    return path


@pytest.fixture
def ram_dir() -> Iterator[Path]:
    """A folder of this test's own on /dev/shm, to see what strip leaves behind."""
    folder = Path(tempfile.mkdtemp(prefix="refugium-test-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fake_mat2(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-mat2"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(0o700)
    return str(script)


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: make_jpeg(maker_note=True), JPEG),
        (make_png, PNG),
        (make_pdf, PDF),
        (make_docx, DOCX),
        (make_odt, ODT),
        (make_mp3, MP3),
    ],
)
def test_strip_removes_what_endangers_and_leaves_the_original(
    ram_dir: Path, build: Callable[[], bytes], kind: str
) -> None:
    original = build()
    digest = hashlib.sha256(original).hexdigest()
    assert report(original, kind).warnings != ()

    copy = strip(original, kind, ram_dir=ram_dir)

    assert copy != original
    assert media_type(copy) == kind
    check = report(copy, kind)
    assert check.warnings == ()
    assert check.error == ""
    assert hashlib.sha256(original).hexdigest() == digest
    assert list(ram_dir.iterdir()) == []


def test_jpeg_copy_loses_position_serial_and_camera(ram_dir: Path) -> None:
    copy = strip(make_jpeg(), JPEG, ram_dir=ram_dir)
    groups = {group for group, _key, _value in report(copy, JPEG).entries}
    assert groups == {"image"}
    assert b"SN-0042-7731" not in copy
    assert b"ExampleCam" not in copy


def test_docx_copy_loses_author_and_company(ram_dir: Path) -> None:
    copy = strip(make_docx(), DOCX, ram_dir=ram_dir)
    text = report(copy, DOCX)
    assert not any(value in ("Jane Roe", "John Doe", "Example Bureau")
                   for _g, _k, value in text.entries)


def test_unsupported_type_is_refused_with_a_way_out(ram_dir: Path) -> None:
    with pytest.raises(BadInput) as caught:
        strip(b"RIFF....AVI LIST", "video/x-msvideo", ram_dir=ram_dir)
    assert caught.value.message == (
        "mat2 cannot clean video/x-msvideo here; share a re-encoded copy made by hand"
    )
    assert caught.value.code == "cannot_strip"
    assert list(ram_dir.iterdir()) == []


@pytest.mark.parametrize(("build", "kind"), [(make_mp4, MP4), (make_wav, WAV)])
def test_video_and_wav_without_ffmpeg_are_refused(
    ram_dir: Path, monkeypatch: pytest.MonkeyPatch, build: Callable[[], bytes], kind: str
) -> None:
    # mat2 cleans these with ffmpeg, which Debian's mat2 only suggests.
    real_which = shutil.which
    monkeypatch.setattr(
        sharing.shutil, "which", lambda name: None if name == "ffmpeg" else real_which(name)
    )
    with pytest.raises(BadInput) as caught:
        strip(build(), kind, ram_dir=ram_dir)
    assert caught.value.message == (
        f"cleaning {kind} needs ffmpeg, which is not installed; "
        "install it or share a re-encoded copy made by hand"
    )
    assert list(ram_dir.iterdir()) == []


def test_mat2_failure_is_bad_input_and_leaves_nothing(ram_dir: Path) -> None:
    garbage = os.urandom(4096)
    with pytest.raises(BadInput) as caught:
        strip(garbage, JPEG, ram_dir=ram_dir)
    assert caught.value.message.startswith("mat2 could not clean this image/jpeg file (exit")
    assert list(ram_dir.iterdir()) == []


def test_a_disk_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    assert is_ram_backed(disk) is False
    with pytest.raises(BadInput, match="is not a RAM-backed filesystem"):
        strip(make_jpeg(), JPEG, ram_dir=disk)
    assert list(disk.iterdir()) == []


def test_dev_shm_is_ram_backed_here() -> None:
    assert is_ram_backed(Path("/dev/shm")) is True


def test_ram_backed_is_told_by_the_longest_mount_point(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        f"tmpfs {tmp_path} tmpfs rw 0 0\n"
        f"/dev/sdb1 {tmp_path}/disk\\040here ext4 rw 0 0\n"
    )
    (tmp_path / "ram").mkdir()
    (tmp_path / "disk here").mkdir()
    (tmp_path / "disk here" / "deeper").mkdir()
    assert is_ram_backed(tmp_path / "ram", str(mounts)) is True
    assert is_ram_backed(tmp_path / "disk here" / "deeper", str(mounts)) is False
    assert is_ram_backed(tmp_path / "missing", str(mounts)) is False
    assert is_ram_backed(tmp_path / "ram", str(tmp_path / "no-mounts")) is False


def test_mat2_gets_a_fixed_name_private_modes_and_a_ram_tmpdir(
    tmp_path: Path, ram_dir: Path
) -> None:
    seen = tmp_path / "seen"
    mat2 = fake_mat2(
        tmp_path,
        f"""\
        f="$2"
        {{ echo "$1"; echo "$f"; stat -c %a "$f"; stat -c %a "$(dirname "$f")"; \
echo "$TMPDIR"; echo "$HOME"; }} > {seen}
        """,
    )
    # The fake leaves the metadata in place, so the check afterwards refuses the copy.
    with pytest.raises(BadInput) as caught:
        strip(make_jpeg(), JPEG, ram_dir=ram_dir, mat2=mat2)
    assert caught.value.message == (
        "the cleaned copy still carries: camera serial number; GPS position; not shared"
    )
    flag, path, file_mode, folder_mode, tmpdir, home = seen.read_text().splitlines()
    assert flag == "--inplace"
    assert os.path.basename(path) == "evidence.jpg"
    assert os.path.dirname(os.path.dirname(path)) == str(ram_dir)
    assert (file_mode, folder_mode) == ("600", "700")
    assert tmpdir == home == os.path.dirname(path)
    assert list(ram_dir.iterdir()) == []


def test_an_empty_copy_is_refused(tmp_path: Path, ram_dir: Path) -> None:
    mat2 = fake_mat2(tmp_path, ': > "$2"\n')
    with pytest.raises(BadInput, match=r"^mat2 made an empty copy of this image/png file$"):
        strip(make_png(), PNG, ram_dir=ram_dir, mat2=mat2)
    assert list(ram_dir.iterdir()) == []


def test_mat2_that_hangs_is_killed(tmp_path: Path, ram_dir: Path) -> None:
    mat2 = fake_mat2(tmp_path, "sleep 60\n")
    started = time.monotonic()
    with pytest.raises(BadInput, match=r"^mat2 took longer than 0.5 s to clean this image/png"):
        strip(make_png(), PNG, ram_dir=ram_dir, mat2=mat2, timeout=0.5)
    assert time.monotonic() - started < 10
    assert list(ram_dir.iterdir()) == []


def test_mat2_that_cannot_start_is_bad_input(tmp_path: Path, ram_dir: Path) -> None:
    with pytest.raises(BadInput, match=r"^mat2 could not be started \(FileNotFoundError\)"):
        strip(make_png(), PNG, ram_dir=ram_dir, mat2=str(tmp_path / "no-such-mat2"))
    assert list(ram_dir.iterdir()) == []


def test_folder_is_removed_on_keyboard_interrupt(
    ram_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def interrupted(command: str, path: str, folder: str, kind: str, timeout: float) -> None:
        seen.append(Path(path))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        raise KeyboardInterrupt

    monkeypatch.setattr(sharing, "_run_mat2", interrupted)
    with pytest.raises(KeyboardInterrupt):
        strip(make_jpeg(), JPEG, ram_dir=ram_dir)
    assert len(seen) == 1
    assert not seen[0].exists()
    assert list(ram_dir.iterdir()) == []
