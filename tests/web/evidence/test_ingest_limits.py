"""`refugium evidence add` at its limits (issue 6): a 1 GiB file in flat memory, read back by
the stock `age`; ingests killed at random moments, then the next start; hostile file names.

Every test runs the real command in a subprocess, as a user's script would.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from refugium.chain import verify_chain_file
from refugium.crypto import VerifyKey
from tests.cli_runner import REPO, cli_env, refugium
from tests.live_server import server_process
from tests.procfs import children, vm_hwm_kib

ADMIN_PASS = "admin passphrase for the ingest limits test"
MiB = 1024 * 1024
GiB = 1024 * MiB


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    """A new data folder, removed afterwards (it holds gigabytes of age files)."""
    folder = tmp_path / "data"
    done = refugium(folder, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert done.returncode == 0, done.stderr
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def sparse_random(path: Path, size: int, every: int) -> Path:
    """A sparse file of ``size`` bytes with 1 MiB of random bytes at every ``every`` bytes:
    cheap to make and to read (the holes cost no disk), but neither all zeros nor a
    repetition a cipher or a hash could shortcut."""
    with path.open("wb") as out:
        out.truncate(size)
        for offset in range(0, size, every):
            out.seek(offset)
            out.write(os.urandom(min(MiB, size - offset)))
    return path


def sha256sum(path: Path) -> str:
    done = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return done.stdout.split()[0]


def rows(data: Path, query: str) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(data / "refugium.sqlite3") as db:
        return db.execute(query).fetchall()


def stored_name(data: Path, code: str) -> str:
    with sqlite3.connect(data / "refugium.sqlite3") as db:
        (name,) = db.execute(
            "select stored_name from evidence_item where code = ?", (code,)
        ).fetchone()
    return str(name)


def export_identity(data: Path, key: Path) -> Path:
    done = refugium(
        data, "desk", "export-identity", "documentation", "--out", str(key),
        "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return key


def age_decrypted_sha256(key: Path, stored: Path) -> str:
    """SHA-256 of what the stock `age` decrypts, piped into `sha256sum` (never on disk)."""
    age = subprocess.Popen(["age", "-d", "-i", str(key), str(stored)], stdout=subprocess.PIPE)
    assert age.stdout is not None
    summed = subprocess.run(
        ["sha256sum"], stdin=age.stdout, capture_output=True, text=True, check=True
    )
    age.stdout.close()
    assert age.wait() == 0
    return summed.stdout.split()[0]


# --- Memory: a 1 GiB file ------------------------------------------------------------------


def add_measured(data: Path, path: Path) -> tuple[str, str, dict[int, int]]:
    """Runs `refugium evidence add PATH`; returns the printed code and SHA-256, and the peak
    RSS (VmHWM, KiB) of each process of the command.

    What is measured: the kernel's own peak RSS (VmHWM in /proc/PID/status) of the CLI
    process and of each of its children, which is the age encryption worker, read every
    10 ms while the command runs. The last value seen per process is kept (a child caught
    between fork and exec still shows its parent's peak, which the parent's own value
    already counts). Their sum bounds from above the largest total RSS at any one moment.
    ``getrusage(RUSAGE_CHILDREN)`` would give the largest single process, not the sum.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "refugium.cli", "evidence", "add", str(path)],
        env=cli_env(data),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen: dict[int, int] = {}
    while process.poll() is None:
        for pid in [process.pid, *children(process.pid)]:
            hwm = vm_hwm_kib(pid)
            if hwm is not None:
                seen[pid] = hwm
        time.sleep(0.01)
    out, err = process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")
    code, sha256, _shown = out.decode().rstrip("\n").split("  ", 2)
    return code, sha256, seen


@pytest.mark.slow
def test_a_1_gib_file_is_ingested_in_flat_memory_and_opens_with_age(data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(os.urandom(1024))
    big = sparse_random(tmp_path / "big.bin", GiB, every=64 * MiB)

    _code, _sha, small_peaks = add_measured(data, tiny)
    code, printed, big_peaks = add_measured(data, big)
    # The CLI and its encryption worker were both seen, each time.
    assert len(small_peaks) == 2
    assert len(big_peaks) == 2
    growth_mib = (sum(big_peaks.values()) - sum(small_peaks.values())) / 1024
    print(f"peak RSS: 1 KiB {sum(small_peaks.values())} KiB, 1 GiB {sum(big_peaks.values())} KiB")
    assert growth_mib < 64, f"peak RSS grew by {growth_mib:.1f} MiB for 1 GiB"

    key = export_identity(data, tmp_path / "documentation.key")
    stored = data / "store" / "files" / stored_name(data, code)
    assert age_decrypted_sha256(key, stored) == sha256sum(big) == printed


# --- Kills: no record and no orphan after the next start ----------------------------------


def listing(folder: Path) -> list[str]:
    """The names in ``folder``; none before the store is first used."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def log_size(data: Path) -> int:
    try:
        return (data / "custody.jsonl").stat().st_size
    except FileNotFoundError:
        return 0


def _when(data: Path, how: str, process: subprocess.Popen[bytes], before: int) -> None:
    """Waits for the moment ``how`` names (or the end of the command)."""
    files = data / "store" / "files"
    while process.poll() is None:
        if how == "renamed" and len(listing(files)) > before:
            return
        if how == "custody" and log_size(data) > before:
            return
        time.sleep(0.0005)


@pytest.mark.slow
def test_a_killed_ingest_leaves_no_record_and_no_orphan_after_the_next_start(  # type: ignore[no-untyped-def]
    data, tmp_path
) -> None:
    big = sparse_random(tmp_path / "big.bin", 256 * MiB, every=16 * MiB)
    rng = random.Random()
    # Six kills at a random time (before, while and after streaming), three the moment the
    # stored file is renamed into files/ (after its custody entry, before its row), one the
    # moment the custody entry is written (before the rename), and one ingest left alone.
    plan = [("delay", rng.uniform(0.3, 2.2)) for _ in range(6)]
    plan += [("renamed", 0.0)] * 3 + [("custody", 0.0), ("none", 0.0)]
    files = data / "store" / "files"
    outcomes = []
    completed = 0
    for how, delay in plan:
        count = len(rows(data, "select code from evidence_item"))
        before = log_size(data) if how == "custody" else len(listing(files))
        process = subprocess.Popen(
            [sys.executable, "-m", "refugium.cli", "evidence", "add", str(big)],
            env=cli_env(data),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: the kill reaches the age worker too
        )
        if how == "delay":
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=delay)
        elif how in ("renamed", "custody"):
            _when(data, how, process, before)
        if how != "none" and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        status = process.wait(timeout=60)
        with_row = len(rows(data, "select code from evidence_item")) - count
        outcomes.append((how, round(delay, 2), status, with_row))
        # A command that finished said so with status 0 and left its item; a killed one
        # left one whole item or none.
        assert with_row in (0, 1), outcomes
        if status == 0:
            assert with_row == 1, outcomes
            completed += 1
        else:
            assert status == -signal.SIGKILL, outcomes
    # Some kills hit an ingest in the middle (what the sweep is for).
    assert any(s == -signal.SIGKILL and r == 0 for _h, _d, s, r in outcomes), outcomes
    items = dict(rows(data, "select code, stored_name from evidence_item"))
    unfinished = len(os.listdir(data / "store" / "tmp"))
    orphans = len(set(os.listdir(files)) - set(items.values()))
    print(f"kills: {outcomes}; before the sweep {unfinished} in tmp/, {orphans} orphans")
    assert unfinished + orphans > 0, outcomes

    # The next start: `refugium serve` sweeps before it serves.
    with server_process(data, tmp_path / "server.log"):
        pass

    # Every item the database holds is whole: killed after its commit, or completed.
    assert len(items) >= completed
    key = export_identity(data, tmp_path / "documentation.key")
    expected = sha256sum(big)
    for name in items.values():
        assert age_decrypted_sha256(key, files / name) == expected
    assert os.listdir(data / "store" / "tmp") == []
    attachments = {n for (n,) in rows(data, "select stored_name from intake_attachment")}
    assert set(os.listdir(files)) == set(items.values()) | attachments
    assert refugium(data, "audit", "verify").returncode == 0
    verify_key = VerifyKey.from_public_pem((data / "keys" / "log-verify.pem").read_bytes())
    entries = [
        json.loads(line)["body"]
        for line in (data / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert verify_chain_file(data / "custody.jsonl", verify_key) == len(entries)
    # The only leftover the log may hold: an `ingested` entry for an item that never arrived
    # (killed between the entry and the commit). Every item has exactly one.
    assert {e["event"] for e in entries} == {"ingested"}
    logged = [e["item"] for e in entries]
    assert all(logged.count(code) == 1 for code in items), outcomes
    never_arrived = set(logged) - set(items)
    print(f"custody: {len(entries)} entries, {len(never_arrived)} for items that never arrived")
    assert len(logged) == len(items) + len(never_arrived)


# --- Hostile names ----------------------------------------------------------------------------


def raw_unsafe(text: str) -> list[str]:
    """Control (other than the newline between lines), format (bidi overrides, isolates,
    zero-width) and line or paragraph separator characters in ``text``."""
    return [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


def hostile_names() -> list[str]:
    long = "д" * 121 + "abc.jpeg"  # 250 bytes of UTF-8; ext4 allows 255
    assert len(long.encode("utf-8")) == 250
    return [
        "photo\u202egpj.exe",  # reads as "photoexe.jpg"
        "isolate\u2067\u200ename.txt",
        "a;b&c|d$(id)`id`'\"*?<>!{}[]\\~#%.txt",
        "two\nlines.txt",
        "\x1b[2J\x1b]0;title\x07bell.txt",
        "-rf --help.txt",
        long,
    ]


@pytest.mark.slow
def test_hostile_names_are_kept_exactly_and_never_printed_raw(data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "incoming"
    folder.mkdir()
    by_hash = {}
    for index, name in enumerate(hostile_names()):
        path = folder / name
        try:
            path.write_bytes(f"file {index}\n".encode() + os.urandom(64))
        except OSError:  # a file system that refuses the name (a newline, say)
            continue
        by_hash[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    assert len(by_hash) >= len(hostile_names()) - 1

    added = refugium(data, "evidence", "add", str(folder), "--by", "admin")
    assert added.returncode == 0, added.stderr
    assert raw_unsafe(added.stdout + added.stderr) == []
    lines = added.stdout.splitlines()
    assert len(lines) == len(by_hash)  # a newline in a name is shown, not printed
    codes = {}
    for line in lines:
        code, sha256, _shown = line.split("  ", 2)
        codes[code] = by_hash[sha256]

    for code, path in codes.items():
        shown = refugium(
            data, "evidence", "show", code, "--json",
            "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["name"] == path.name
        text = refugium(
            data, "evidence", "show", code,
            "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
        )  # fmt: skip
        assert text.returncode == 0, text.stderr
        assert raw_unsafe(text.stdout + text.stderr) == []
    listed = refugium(data, "evidence", "list")
    assert listed.returncode == 0, listed.stderr
    assert raw_unsafe(listed.stdout + listed.stderr) == []
    assert sorted(line.split()[0] for line in listed.stdout.splitlines()) == sorted(codes)

    bundle = tmp_path / "bundle"
    exported = refugium(
        data, "evidence", "export", *codes, "--out", str(bundle),
        "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    verified = refugium(data, "verify", str(bundle))
    assert verified.returncode == 0, verified.stdout
    names = os.listdir(bundle / "files")
    assert len(names) == len(codes)
    for name in names:
        code = name.split("-", 1)[0]
        assert code in codes
        assert raw_unsafe(name) == []
        assert not set(name) & set("/\\<>:\"|?*`$'")
        assert len(name.encode("utf-8")) <= 255
        assert (bundle / "files" / name).read_bytes() == codes[code].read_bytes()
