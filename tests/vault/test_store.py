"""EncryptedStore: streaming uploads, durability, names, timestamps, shredding, sweeping."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refugium.crypto import DecryptionFailed, Identity, decrypt
from refugium.errors import BadInput, NotFound
from refugium.vault import (
    NORMALISED_TIME,
    EncryptedStore,
    FileChanged,
    Staged,
    SweepReport,
    TooLarge,
)
from tests.vault.conftest import data_of, make_store

MiB = 1 << 20
NAME = re.compile(r"^[0-9a-f]{32}$")


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stage(store: EncryptedStore, data: bytes, identity: Identity, piece: int = 65536) -> Staged:
    upload = store.begin([identity.recipient])
    for chunk in pieces(data, piece):
        upload.write(chunk)
    return upload.finish()


def put(store: EncryptedStore, data: bytes, identity: Identity) -> str:
    return stage(store, data, identity).commit()


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def header_length(age_file: bytes) -> int:
    return age_file.index(b"\n", age_file.index(b"\n--- ") + 1) + 1


def stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in ("age-encrypt", "age-decrypt")]


# Layout


def test_creates_private_folders(tmp_path: Path) -> None:
    store = EncryptedStore(tmp_path / "a" / "vault")
    for folder in (store.root, store.files, store.tmp):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert listing(store.root) == ["files", "tmp"]


def test_tightens_existing_folders(tmp_path: Path) -> None:
    (tmp_path / "vault" / "files").mkdir(parents=True, mode=0o755)
    (tmp_path / "vault").chmod(0o755)
    store = make_store(tmp_path)
    for folder in (store.root, store.files, store.tmp):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


# Round trip


def test_round_trip(store: EncryptedStore, identity: Identity, age_cli: str) -> None:
    data = data_of(3 * MiB + 12345)
    staged = stage(store, data, identity, piece=50_000)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.size == len(data)
    name = staged.commit()

    assert b"".join(store.iter_plaintext(name, [identity])) == data
    with store.open(name) as raw:
        ciphertext = raw.read()
    assert decrypt(ciphertext, [identity]) == data
    assert store.size_on_disk(name) == len(ciphertext)
    assert listing(store.files) == [name]
    assert listing(store.tmp) == []
    assert stat.S_IMODE((store.files / name).stat().st_mode) == 0o600

    # An organisation without refugium reads it with the stock tool and its key.
    keyfile = store.root.parent / "key.txt"
    keyfile.write_text(identity.to_secret_string() + "\n")
    printed = subprocess.run(
        [age_cli, "-d", "-i", str(keyfile), str(store.files / name)],
        capture_output=True,
        check=True,
    ).stdout
    assert printed == data


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(st.binary(max_size=70_000), max_size=12))
def test_round_trip_any_chunks(tmp_path: Path, parts: list[bytes]) -> None:
    identity = Identity.from_seed(bytes(range(32)))
    store = make_store(tmp_path)
    upload = store.begin([identity.recipient])
    for part in parts:
        upload.write(part)
    staged = upload.finish()
    data = b"".join(parts)
    assert (staged.size, staged.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    name = staged.commit()
    assert b"".join(store.iter_plaintext(name, [identity], chunk_size=4096)) == data
    store.shred(name)


def test_empty_file(store: EncryptedStore, identity: Identity) -> None:
    staged = store.begin([identity.recipient]).finish()
    assert staged.sha256 == hashlib.sha256(b"").hexdigest()
    assert staged.size == 0
    name = staged.commit()
    assert list(store.iter_plaintext(name, [identity])) == []


def test_several_recipients(store: EncryptedStore) -> None:
    desk, backup = Identity.generate(), Identity.generate()
    upload = store.begin([desk.recipient, backup.recipient])
    upload.write(b"for two desks")
    name = upload.finish().commit()
    for identity in (desk, backup):
        assert b"".join(store.iter_plaintext(name, [identity])) == b"for two desks"


def test_wrong_identity(store: EncryptedStore, identity: Identity) -> None:
    name = put(store, data_of(200_000), identity)
    with pytest.raises(DecryptionFailed):
        store.iter_plaintext(name, [Identity.generate()])
    assert stream_threads() == []


def test_no_recipients_or_negative_limit(store: EncryptedStore, identity: Identity) -> None:
    with pytest.raises(BadInput) as caught:
        store.begin([])
    assert caught.value.code == "no_recipients"
    with pytest.raises(ValueError, match="negative"):
        store.begin([identity.recipient], max_bytes=-1)
    assert listing(store.tmp) == []


def test_iter_plaintext_closes_its_file(store: EncryptedStore, identity: Identity) -> None:
    name = put(store, data_of(MiB), identity)
    open_fds = len(os.listdir("/proc/self/fd"))
    assert len(b"".join(store.iter_plaintext(name, [identity]))) == MiB
    iterator = store.iter_plaintext(name, [identity], chunk_size=1000)
    next(iterator)
    iterator.close()
    assert len(os.listdir("/proc/self/fd")) == open_fds
    assert stream_threads() == []


# The plaintext boundary

CANARY = b"CANARY-7f3a9e-testimony-of-a-witness"


def canary_forms() -> list[bytes]:
    forms = [CANARY, CANARY.hex().encode(), CANARY.hex().upper().encode()]
    for shift in range(3):
        # The base64 characters that depend only on the canary's bytes, at each alignment.
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.append(encode(b"\0" * shift + CANARY)[4:-4])
    return list(dict.fromkeys(forms))


def leaks(folder: Path) -> list[str]:
    found = []
    forms = canary_forms()
    for dirpath, _dirs, files in os.walk(folder):
        for file in files:
            path = Path(dirpath) / file
            try:
                content = path.read_bytes()
            except FileNotFoundError:  # renamed or deleted meanwhile
                continue
            found += [path.name for form in forms if form in content]
    return found


def test_leak_scanner_finds_each_form(tmp_path: Path) -> None:
    # The control: without it, the next test could pass on a scanner that sees nothing.
    forms = canary_forms()
    # Raw, two hex spellings, base64 at three alignments (the URL-safe spelling is the same
    # for this canary).
    assert len(forms) == 6
    for index, form in enumerate(forms):
        (tmp_path / f"control{index}").write_bytes(b"x" * 100 + form + b"y" * 100)
    assert sorted(leaks(tmp_path)) == sorted(f"control{index}" for index in range(len(forms)))
    for index, prefix in enumerate((b"", b"a", b"ab")):
        (tmp_path / f"b64-{index}").write_bytes(base64.b64encode(prefix + CANARY + b"cd"))
    assert {"b64-0", "b64-1", "b64-2"} <= set(leaks(tmp_path))


def test_no_plaintext_reaches_the_disk(store: EncryptedStore, identity: Identity) -> None:
    block = CANARY + data_of(4096 - len(CANARY))
    data = b"".join(block[i:] + block[:i] for i in range(0, 4096 * 4, 5))[: 3 * MiB + 777]
    assert data.count(CANARY) > 500
    upload = store.begin([identity.recipient])
    largest_temp = 0
    for chunk in pieces(data, 65536):
        upload.write(chunk)
        assert leaks(store.root) == []
        temp_files = listing(store.tmp)
        assert len(temp_files) == 1
        largest_temp = max(largest_temp, (store.tmp / temp_files[0]).stat().st_size)
    # The scans covered a temporary file of real size, not an empty one.
    assert largest_temp > 2 * MiB
    staged = upload.finish()
    assert leaks(store.root) == []
    name = staged.commit()
    assert leaks(store.root) == []
    assert b"".join(store.iter_plaintext(name, [identity])) == data


# Limits


def test_limit_exactly_reached_is_accepted(store: EncryptedStore, identity: Identity) -> None:
    upload = store.begin([identity.recipient], max_bytes=1000)
    upload.write(b"a" * 600)
    upload.write(b"b" * 400)
    upload.write(b"")
    staged = upload.finish()
    assert staged.size == 1000
    assert b"".join(store.iter_plaintext(staged.commit(), [identity])) == b"a" * 600 + b"b" * 400


@pytest.mark.parametrize("chunks", [[b"a" * 600, b"b" * 401], [b"c" * 1001]])
def test_one_byte_over_the_limit(
    store: EncryptedStore, identity: Identity, chunks: list[bytes]
) -> None:
    upload = store.begin([identity.recipient], max_bytes=1000)

    def write_all() -> None:
        for chunk in chunks:
            upload.write(chunk)

    with pytest.raises(TooLarge) as caught:
        write_all()
    assert caught.value.code == "too_large"
    assert caught.value.limit == 1000
    assert isinstance(caught.value, BadInput)
    assert upload.size == sum(len(chunk) for chunk in chunks[:-1])
    # Aborted and deleted before the error was raised.
    assert listing(store.tmp) == []
    assert listing(store.files) == []
    assert stream_threads() == []
    with pytest.raises(ValueError, match="aborted"):
        upload.write(b"x")


def test_zero_limit(store: EncryptedStore, identity: Identity) -> None:
    assert store.begin([identity.recipient], max_bytes=0).finish().size == 0
    upload = store.begin([identity.recipient], max_bytes=0)
    upload.write(b"")
    with pytest.raises(TooLarge):
        upload.write(b"x")


# Abort and discard


def test_abort_leaves_nothing(store: EncryptedStore, identity: Identity) -> None:
    upload = store.begin([identity.recipient])
    upload.write(data_of(2 * MiB))
    assert len(listing(store.tmp)) == 1
    upload.abort()
    upload.abort()
    assert listing(store.tmp) == []
    assert listing(store.files) == []
    assert stream_threads() == []
    with pytest.raises(ValueError, match="aborted"):
        upload.finish()


def test_leaving_the_with_block_aborts(store: EncryptedStore, identity: Identity) -> None:

    def fail_midway() -> None:
        with store.begin([identity.recipient]) as upload:
            upload.write(b"partial")
            raise KeyError

    with pytest.raises(KeyError):
        fail_midway()
    with store.begin([identity.recipient]) as upload:
        upload.write(b"never finished")
    assert listing(store.tmp) == []
    assert stream_threads() == []


def test_discard_leaves_nothing(store: EncryptedStore, identity: Identity) -> None:
    staged = stage(store, data_of(MiB), identity)
    assert listing(store.tmp) == [staged.temp_path.name]
    staged.discard()
    staged.discard()
    assert listing(store.tmp) == []
    with pytest.raises(ValueError, match="discarded"):
        staged.commit()
    with pytest.raises(KeyError), stage(store, b"x", identity) as staged:
        raise KeyError
    assert listing(store.tmp) == []
    assert listing(store.files) == []


def test_commit_twice(store: EncryptedStore, identity: Identity) -> None:
    staged = stage(store, b"once", identity)
    name = staged.commit()
    with pytest.raises(ValueError, match="committed"):
        staged.commit()
    staged.discard()  # after commit: nothing
    assert listing(store.files) == [name]


# Names and timestamps


def test_names_are_random_hex(store: EncryptedStore, identity: Identity) -> None:
    names = []
    for index in range(20):
        staged = stage(store, b"same bytes", identity)
        temp_name = staged.temp_path.name
        assert NAME.match(temp_name)
        name = staged.commit()
        assert NAME.match(name)
        assert name != temp_name
        names.append(name)
        assert index == len(set(names)) - 1
    assert listing(store.files) == sorted(names)


def test_timestamps_are_normalised(store: EncryptedStore, identity: Identity) -> None:
    assert NORMALISED_TIME == 0
    name = put(store, data_of(100_000), identity)
    info = (store.files / name).stat()
    assert (info.st_mtime, info.st_atime) == (0, 0)
    # Reading it does not record when it was viewed (O_NOATIME).
    assert len(b"".join(store.iter_plaintext(name, [identity]))) == 100_000
    info = (store.files / name).stat()
    assert (info.st_mtime, info.st_atime) == (0, 0)


# Shredding


def test_shred(store: EncryptedStore, identity: Identity, monkeypatch: pytest.MonkeyPatch) -> None:
    data = data_of(300_000)
    name = put(store, data, identity)
    kept = put(store, b"another file", identity)
    original = (store.files / name).read_bytes()
    copies: list[bytes] = []
    real_unlink = os.unlink

    def copy_then_unlink(path: str | os.PathLike[str], **kwargs: object) -> None:
        # What a forensic image taken just before the unlink would hold.
        copies.append(Path(path).read_bytes())
        real_unlink(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", copy_then_unlink)
    store.shred(name)
    monkeypatch.undo()

    assert listing(store.files) == [kept]
    with pytest.raises(NotFound):
        store.open(name)
    [shredded] = copies
    header = header_length(original)
    assert len(shredded) == len(original)
    # Every line of the header is gone: the stanzas (the wrapped file key) and the MAC line.
    lines = original[:header].split(b"\n")
    assert lines[-2].startswith(b"--- ")
    assert [line for line in lines if len(line) > 8 and line in shredded] == []
    assert shredded[header:] == original[header:]  # only the header was touched
    assert decrypt(original, [identity]) == data  # the control
    with pytest.raises(DecryptionFailed):
        decrypt(shredded, [identity])
    with pytest.raises(DecryptionFailed):
        decrypt(original[:header] + shredded[header:], [Identity.generate()])


def test_shred_missing(store: EncryptedStore) -> None:
    with pytest.raises(NotFound):
        store.shred("0" * 32)


# Sweeping


def test_sweep(store: EncryptedStore, identity: Identity) -> None:
    first = put(store, b"first", identity)
    second = put(store, b"second", identity)
    orphan = put(store, b"committed, row never written", identity)
    stage(store, b"staged, never committed", identity)
    in_progress = store.begin([identity.recipient])
    in_progress.write(data_of(MiB))
    (store.files / "junk.txt").write_bytes(b"not ours")
    outside = store.root.parent / "outside"
    outside.write_bytes(b"outside the vault")
    (store.files / ("a" * 32)).symlink_to(outside)
    missing = "f" * 32

    report = store.sweep({first, second, missing, "a" * 32})

    assert report == SweepReport(
        temp_removed=2, orphans_removed=3, kept=2, missing=("a" * 32, missing)
    )
    assert listing(store.files) == sorted([first, second])
    assert listing(store.tmp) == []
    assert outside.read_bytes() == b"outside the vault"
    assert b"".join(store.iter_plaintext(first, [identity])) == b"first"
    assert b"".join(store.iter_plaintext(second, [identity])) == b"second"
    assert store.sweep({first, second}) == SweepReport(0, 0, 2, ())
    in_progress.abort()
    assert orphan not in listing(store.files)


# Path confinement


@pytest.mark.parametrize(
    "name",
    ["../x", "../" + "0" * 29, "0" * 31, "0" * 33, "A" * 32, "/etc/passwd", "", "0" * 31 + "\n"],
)
def test_names_outside_the_pattern(store: EncryptedStore, identity: Identity, name: str) -> None:
    with pytest.raises(NotFound):
        store.open(name)
    with pytest.raises(NotFound):
        store.iter_plaintext(name, [identity])
    with pytest.raises(NotFound):
        store.size_on_disk(name)
    with pytest.raises(NotFound):
        store.shred(name)


def test_symlink_in_files_is_never_followed(store: EncryptedStore, identity: Identity) -> None:
    target = store.root.parent / "target.age"
    ciphertext = stage(store, b"outside", identity)
    shutil.move(ciphertext.temp_path, target)
    before = target.read_bytes()
    for link in ("b" * 32, "c" * 32):
        (store.files / link).symlink_to(target)
    # One relative link, one inside: neither is a file of the store.
    (store.files / ("d" * 32)).symlink_to(os.path.relpath(target, store.files))
    for link in ("b" * 32, "c" * 32, "d" * 32):
        with pytest.raises(NotFound):
            store.open(link)
        with pytest.raises(NotFound):
            store.iter_plaintext(link, [identity])
        with pytest.raises(NotFound):
            store.size_on_disk(link)
        with pytest.raises(NotFound):
            store.shred(link)
    assert target.read_bytes() == before


def test_existing_files_with_names_outside_the_pattern(
    store: EncryptedStore, identity: Identity
) -> None:
    # Real age files, so only the name check stands between them and the caller.
    staged = stage(store, b"misnamed", identity)
    for name in ("0" * 31, "A" * 32, "0" * 33, "g" * 32):
        shutil.copy(staged.temp_path, store.files / name)
        with pytest.raises(NotFound):
            store.open(name)
        with pytest.raises(NotFound):
            store.size_on_disk(name)
        with pytest.raises(NotFound):
            store.shred(name)
        assert (store.files / name).exists()


def test_a_symlink_swapped_in_after_the_check_is_not_followed(
    store: EncryptedStore, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race the path check cannot see: O_NOFOLLOW must refuse the link on its own.
    target = store.root.parent / "target.age"
    shutil.move(stage(store, b"outside", identity).temp_path, target)
    link = "b" * 32
    (store.files / link).symlink_to(target)
    monkeypatch.setattr(os.path, "realpath", lambda path: str(path))
    with pytest.raises(NotFound):
        store.open(link)
    with pytest.raises(NotFound):
        store.shred(link)
    assert decrypt(target.read_bytes(), [identity]) == b"outside"


def test_files_folder_replaced_by_a_symlink(store: EncryptedStore, identity: Identity) -> None:
    # The resolved path must stay inside files/ as it was when the store was opened.
    name = put(store, b"inside", identity)
    elsewhere = store.root.parent / "elsewhere"
    store.files.rename(elsewhere)
    store.files.symlink_to(elsewhere)
    with pytest.raises(NotFound):
        store.open(name)
    with pytest.raises(NotFound):
        store.shred(name)
    assert (elsewhere / name).exists()


def test_other_kinds_of_entry(store: EncryptedStore, identity: Identity) -> None:
    fifo, folder = "e" * 32, "1" * 32
    os.mkfifo(store.files / fifo)
    (store.files / folder).mkdir()
    for name in (fifo, folder):
        with pytest.raises(NotFound):  # and does not hang on the FIFO
            store.open(name)
        with pytest.raises(NotFound):
            store.size_on_disk(name)
        with pytest.raises(NotFound):
            store.shred(name)


# Quota


def test_total_bytes(store: EncryptedStore, identity: Identity) -> None:
    assert store.total_bytes() == 0
    first = put(store, data_of(100_000), identity)
    second = put(store, b"", identity)
    committed = store.size_on_disk(first) + store.size_on_disk(second)
    assert store.total_bytes() == committed
    staged = stage(store, data_of(70_000), identity)
    assert store.total_bytes() == committed + staged.temp_path.stat().st_size
    staged.discard()
    assert store.total_bytes() == committed
    # Only regular files count: not a link, however long its target's name.
    (store.files / ("b" * 32)).symlink_to(store.root.parent / ("x" * 200))
    assert store.total_bytes() == committed


# Crashes. The steps that make "acknowledged means durable": write the file, fsync it,
# rename it into files/, fsync the folder.

STEPS = ["write", "fsync-file", "rename", "fsync-dir"]


def failing_at(step: str, fail: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``step`` call ``fail`` instead of touching the disk."""
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace
    real_splice = os.splice

    def is_regular(fd: int) -> bool:
        return stat.S_ISREG(os.fstat(fd).st_mode)

    def write(fd: int, data: bytes) -> int:
        if step == "write" and is_regular(fd):
            fail()
        return real_write(fd, data)

    def splice(src: int, dst: int, count: int) -> int:
        # The relay moves ciphertext into the file with splice(2): a write all the same.
        if step == "write" and is_regular(dst):
            fail()
        return real_splice(src, dst, count)

    def fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        if (step == "fsync-file" and stat.S_ISREG(mode)) or (
            step == "fsync-dir" and stat.S_ISDIR(mode)
        ):
            fail()
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        if step == "rename":
            fail()
        real_replace(src, dst)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "splice", splice)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)


def assert_nothing_or_whole(store: EncryptedStore, data: bytes, identity: Identity) -> int:
    files = listing(store.files)
    assert len(files) <= 1
    if files:
        with store.open(files[0]) as raw:
            assert decrypt(raw.read(), [identity]) == data
    return len(files)


def test_durability_order(
    store: EncryptedStore, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Power loss cannot be simulated here, so the order itself is pinned: the file's bytes and
    # times reach the disk before the rename, and the rename before commit() returns.
    events: list[str] = []
    real_write, real_fsync, real_replace, real_utime = os.write, os.fsync, os.replace, os.utime
    real_splice = os.splice

    def kind(fd: int) -> str:
        return "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"

    def write(fd: int, data: bytes) -> int:
        if stat.S_ISREG(os.fstat(fd).st_mode) and events[-1:] != ["write"]:
            events.append("write")
        return real_write(fd, data)

    def splice(src: int, dst: int, count: int) -> int:
        if stat.S_ISREG(os.fstat(dst).st_mode) and events[-1:] != ["write"]:
            events.append("write")
        return real_splice(src, dst, count)

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(f"fsync-{kind(fd)}")

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        events.append("rename")

    def utime(target: int, times: tuple[int, int]) -> None:
        real_utime(target, times)
        events.append(f"utime-{kind(target)}")

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "splice", splice)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "utime", utime)
    staged = stage(store, data_of(MiB), identity)
    assert events == ["write", "utime-file", "fsync-file"]
    name = staged.commit()
    assert events == ["write", "utime-file", "fsync-file", "rename", "fsync-dir"]
    assert listing(store.files) == [name]


@pytest.mark.parametrize("step", STEPS)
def test_an_error_at_any_step_leaves_nothing(
    store: EncryptedStore, identity: Identity, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    data = data_of(MiB + 3)

    def fail() -> None:
        raise OSError(errno.EIO, "Input/output error")

    failing_at(step, fail, monkeypatch)
    with pytest.raises(OSError, match="Input/output error") as caught:
        put(store, data, identity)
    monkeypatch.undo()
    assert caught.value.errno == errno.EIO
    # An error is not a crash: the store cleans up after itself at once.
    assert assert_nothing_or_whole(store, data, identity) == 0
    assert listing(store.tmp) == []
    assert stream_threads() == []
    assert store.sweep(set()) == SweepReport(0, 0, 0, ())


CRASHING_UPLOAD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from refugium.crypto import Identity
    from refugium.vault import EncryptedStore
    from tests.vault.conftest import data_of
    from tests.vault.test_store import failing_at, pieces

    root, step, secret = sys.argv[1:4]
    store = EncryptedStore(Path(root))
    identity = Identity.from_secret_string(secret)

    class Patch:
        def setattr(self, owner, name, value):
            setattr(owner, name, value)

    if step != "after-commit":
        failing_at(step, lambda: os._exit(99), Patch())
    upload = store.begin([identity.recipient])
    for chunk in pieces(data_of(int(sys.argv[4])), 65536):
        upload.write(chunk)
    name = upload.finish().commit()
    # The database row would be committed here; a crash now leaves an orphan.
    os._exit(99)
    """
)


@pytest.mark.parametrize(
    ("step", "expected_files", "expected_temp"),
    [
        ("write", 0, 1),
        ("fsync-file", 0, 1),
        ("rename", 0, 1),
        ("fsync-dir", 1, 0),
        ("after-commit", 1, 0),
    ],
)
def test_a_crash_at_any_step_leaves_nothing_or_the_whole_file(
    tmp_path: Path, identity: Identity, step: str, expected_files: int, expected_temp: int
) -> None:
    # A real crash: the process dies at the step (os._exit), so no cleanup code runs.
    root = tmp_path / "vault"
    size = 2 * MiB + 1
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_UPLOAD, str(root), step, identity.to_secret_string(),
         str(size)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert result.returncode == 99, result.stderr
    store = EncryptedStore(root)
    assert assert_nothing_or_whole(store, data_of(size), identity) == expected_files
    assert len(listing(store.tmp)) == expected_temp
    # The database never recorded the file, so at the next start sweep takes everything.
    report = store.sweep(set())
    assert (report.temp_removed, report.orphans_removed) == (expected_temp, expected_files)
    assert listing(store.tmp) == []
    assert listing(store.files) == []


# The server process killed mid-upload. The worker process that encrypts then sees the end of
# its input, which would finish the age stream; the file must stay unfinished all the same.

KILLED_MID_UPLOAD = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from refugium.crypto import Identity
    from refugium.vault import EncryptedStore
    from tests.vault.conftest import data_of

    root, secret, when, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = EncryptedStore(Path(root))
    upload = store.begin([Identity.from_secret_string(secret).recipient])
    upload.write(data_of(size))
    if when == "after-all-was-read":
        # Wait until every full chunk is in the file: the worker has read all the input and
        # holds only the last, partial chunk, which it writes once its input ends.
        (temp,) = list(store.tmp.iterdir())
        while True:
            content = temp.read_bytes()
            if b"\\n--- " in content:
                header = content.index(b"\\n", content.index(b"\\n--- ") + 1) + 1
                if len(content) == header + 16 + (size // 65536) * (65536 + 16):
                    break
            time.sleep(0.01)
    print(upload._writer._process.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def ended(pid: int) -> bool:
    """Exited: gone, or a zombie its new parent has not reaped (not ours to reap)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return raw[raw.rindex(b")") + 2 :].split()[0] == b"Z"


@pytest.mark.parametrize(
    ("when", "size"), [("midway", 3 * MiB), ("after-all-was-read", 3 * 65536 + 100)]
)
def test_a_killed_server_leaves_no_valid_age_file(
    tmp_path: Path, identity: Identity, when: str, size: int
) -> None:
    root = tmp_path / "vault"
    result = subprocess.run(
        [sys.executable, "-c", KILLED_MID_UPLOAD, str(root), identity.to_secret_string(), when,
         str(size)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )  # fmt: skip
    assert result.returncode == -9, result.stderr
    worker = int(result.stdout)
    deadline = time.monotonic() + 20
    while not ended(worker):
        assert time.monotonic() < deadline, "the worker outlived its parent"
        time.sleep(0.01)
    store = EncryptedStore(root)
    assert listing(store.files) == []
    (temp,) = listing(store.tmp)
    content = (store.tmp / temp).read_bytes()
    if when == "after-all-was-read":
        # Nothing was added after the parent died: the worker's final chunk went nowhere.
        assert len(content) == header_length(content) + 16 + 3 * (65536 + 16)
    with pytest.raises(DecryptionFailed):
        decrypt(content, [identity])
    assert store.sweep(set()) == SweepReport(1, 0, 0, ())


# Whole files: begin_file, where the worker reads the file and writes the age file itself


def open_source(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY)


@pytest.mark.parametrize("size", [0, 1, MiB + 3])
def test_begin_file_round_trip(
    store: EncryptedStore, identity: Identity, tmp_path: Path, size: int
) -> None:
    data = data_of(size, seed=size)
    source = open_source(tmp_path / "plain.bin", data)
    try:
        with store.begin_file(source, [identity.recipient]) as upload:
            assert len(listing(store.tmp)) == 1
            staged = upload.finish()
        assert (staged.sha256, staged.size) == (hashlib.sha256(data).hexdigest(), size)
        assert listing(store.tmp) == [staged.temp_path.name]
        name = staged.commit()
        assert [t for t in threading.enumerate() if t.name == "age-flush"] == []
        # The source stays the caller's: open, its offset where it was.
        assert os.lseek(source, 0, os.SEEK_CUR) == 0
    finally:
        os.close(source)
    assert listing(store.tmp) == []
    assert listing(store.files) == [name]
    info = (store.files / name).stat()
    assert (info.st_mtime, info.st_atime) == (NORMALISED_TIME, NORMALISED_TIME)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert b"".join(store.iter_plaintext(name, [identity])) == data


def test_begin_file_durability_order(
    store: EncryptedStore, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker writes the file; here the times and the fsync reach it only once the worker
    # is done, and the rename comes after both.
    events: list[str] = []
    real_fsync, real_replace, real_utime = os.fsync, os.replace, os.utime
    source = open_source(tmp_path / "plain.bin", data_of(MiB))

    def kind(fd: int) -> str:
        return "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(f"fsync-{kind(fd)}")

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        events.append("rename")

    def utime(target: int, times: tuple[int, int]) -> None:
        assert os.fstat(target).st_size > MiB  # the whole age file is there
        real_utime(target, times)
        events.append(f"utime-{kind(target)}")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "utime", utime)
    try:
        staged = store.begin_file(source, [identity.recipient]).finish()
        assert events == ["utime-file", "fsync-file"]
        staged.commit()
    finally:
        os.close(source)
    assert events == ["utime-file", "fsync-file", "rename", "fsync-dir"]


def test_begin_file_abort_leaves_nothing(
    store: EncryptedStore, identity: Identity, tmp_path: Path
) -> None:
    path = tmp_path / "sparse.bin"
    with path.open("wb") as f:
        f.truncate(4 << 30)
    source = os.open(path, os.O_RDONLY)
    try:
        upload = store.begin_file(source, [identity.recipient])
        pid = upload._encryption._process.pid
        upload.abort()
        upload.abort()
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped
        with pytest.raises(ValueError, match="aborted"):
            upload.finish()
        with pytest.raises(KeyError), store.begin_file(source, [identity.recipient]):
            raise KeyError
        os.fstat(source)  # still open: the caller's
    finally:
        os.close(source)
    assert listing(store.tmp) == []
    assert listing(store.files) == []


def test_a_file_that_changes_while_it_is_read_is_refused(
    store: EncryptedStore, identity: Identity, tmp_path: Path
) -> None:
    path = tmp_path / "growing.bin"
    source = open_source(path, data_of(MiB))
    try:
        upload = store.begin_file(source, [identity.recipient])
        with path.open("ab") as more:
            more.write(b"appended while the worker reads")
        with pytest.raises(FileChanged):
            upload.finish()
    finally:
        os.close(source)
    assert listing(store.tmp) == []
    assert listing(store.files) == []


def test_begin_file_refuses_what_is_not_a_regular_file(
    store: EncryptedStore, identity: Identity, tmp_path: Path
) -> None:
    folder = os.open(tmp_path, os.O_RDONLY)
    read_end, write_end = os.pipe()
    source = open_source(tmp_path / "plain.bin", b"data")
    try:
        for not_a_file in (folder, read_end):
            with pytest.raises(BadInput):
                store.begin_file(not_a_file, [identity.recipient])
        with pytest.raises(BadInput):
            store.begin_file(source, [])
    finally:
        for fd in (folder, read_end, write_end, source):
            os.close(fd)
    assert listing(store.tmp) == []


def test_begin_file_writes_no_plaintext_to_the_disk(
    store: EncryptedStore, identity: Identity, tmp_path: Path
) -> None:
    block = CANARY + data_of(4096 - len(CANARY))
    data = b"".join(block[i:] + block[:i] for i in range(0, 4096 * 4, 5))[: 3 * MiB + 777]
    assert data.count(CANARY) > 500
    outside = tmp_path / "outside"
    outside.mkdir()
    source = open_source(outside / "plain.bin", data)
    try:
        upload = store.begin_file(source, [identity.recipient])
        staged = upload.finish()
    finally:
        os.close(source)
    assert (store.tmp / staged.temp_path.name).stat().st_size > 3 * MiB
    assert leaks(store.root) == []
    name = staged.commit()
    assert leaks(store.root) == []
    assert b"".join(store.iter_plaintext(name, [identity])) == data


def test_begin_file_writes_back_while_the_worker_writes(
    store: EncryptedStore, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk works while the worker encrypts, so the fsync at the end has little left.
    flushed: list[int] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        real_fdatasync(fd)
        flushed.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    path = tmp_path / "sparse.bin"
    with path.open("wb") as f:
        f.truncate(4 << 30)
    source = os.open(path, os.O_RDONLY)
    try:
        upload = store.begin_file(source, [identity.recipient])
        deadline = time.monotonic() + 20
        while len(flushed) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        upload.abort()
    finally:
        os.close(source)
    assert len(flushed) >= 2
    assert max(flushed) > 0
    assert [t for t in threading.enumerate() if t.name == "age-flush"] == []
    assert listing(store.tmp) == []
