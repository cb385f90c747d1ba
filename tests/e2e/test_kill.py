"""T4: SIGKILL at random under concurrent submissions loses nothing that was acknowledged.

One data folder, ``REFUGIUM_KILL_CYCLES`` cycles (default 50; more for a soak). Each cycle
starts `refugium serve` in a process group of its own (so the start-up sweep runs every
time), two client threads send text plus a 3 MiB file, each with a unique canary, in a
loop, and the whole process group is SIGKILLed at a random moment between 0.2 and 5 s
(``REFUGIUM_KILL_SEED`` repeats a run; the seed is printed). After a last start and a clean
stop:

- every acknowledged receipt (a 200 whose page had ``id="receipt"``) opens its submission,
  and the decrypted text and file (SHA-256) are exactly what was sent;
- every submission in the database is one that a client sent, whole (text and its one
  file), whether or not its receipt reached the client;
- ``PRAGMA integrity_check`` is ok, ``foreign_key_check`` empty, no attachment row names a
  missing file, no file in store/files lacks a row, and store/tmp is empty;
- no canary, in any encoding, and no file's SHA-256 (hex) is anywhere in the data folder,
  the TMPDIR or the server logs; nor, after each kill, in what the dead server left (the
  database with its WAL and shared memory, unfinished uploads in store/tmp).

A soak:  REFUGIUM_KILL_CYCLES=1000 .venv/bin/python -m pytest -s tests/e2e/test_kill.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.cli_runner import refugium
from tests.e2e.inspect_data import inspect
from tests.e2e.reporter import Reporter, receipt_in, wait_group_gone
from tests.e2e.residue import control_bytes, files_under, forms_of, hex_digests_in, scan
from tests.live_server import server_process

ADMIN_PASS = "kill test admin passphrase"
FILE_BYTES = 3 * 1024 * 1024
CLIENTS = 2
KILL_AFTER = (0.2, 5.0)  # seconds after the server accepts connections


@dataclass
class Attempt:
    """One submission a client started: what it sent, and what came back."""

    canary: str
    text: str
    sha256: str
    outcome: str = "sending"  # then an HTTP status, or "cut" if the connection died
    receipt: str | None = None


def _report(canary: str) -> tuple[str, bytes]:
    content = bytearray(os.urandom(FILE_BYTES))
    raw = canary.encode()
    for offset in (0, 65536 - len(raw) // 2, FILE_BYTES // 2, FILE_BYTES - len(raw)):
        content[offset : offset + len(raw)] = raw
    return f"Kill test report {canary}: what happened, where, when.", bytes(content)


class Client(threading.Thread):
    """A reporter who submits again and again until told to stop."""

    def __init__(self, base: str, prefix: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.reporter = Reporter(base)
        self.prefix = prefix
        self.stop = stop
        self.attempts: list[Attempt] = []
        self.errors: list[str] = []

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            try:
                form = self.reporter.form()
            except requests.RequestException:
                time.sleep(0.02)  # the server is gone: the cycle is ending
                continue
            except AssertionError as error:
                self.errors.append(f"the form: {error}")
                time.sleep(0.1)
                continue
            number += 1
            canary = f"{self.prefix}{number:05d}-{secrets.token_hex(4)}"
            text, content = _report(canary)
            attempt = Attempt(canary, text, hashlib.sha256(content).hexdigest())
            self.attempts.append(attempt)
            try:
                response = self.reporter.submit(
                    text, [(f"{canary}.bin", content)], form=form, timeout=120
                )
            except requests.RequestException:
                attempt.outcome = "cut"
                continue
            attempt.outcome = str(response.status_code)
            if response.status_code == 200:
                attempt.receipt = receipt_in(response.text)
                if attempt.receipt is None:
                    self.errors.append(f"{canary}: a 200 without a receipt")
            else:
                self.errors.append(f"{canary}: HTTP {response.status_code}")


def _database(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data / 'refugium.sqlite3'}?mode=ro", uri=True)


def _named_files(data: Path) -> set[str]:
    database = _database(data)
    try:
        rows = database.execute("select stored_name from intake_attachment")
        return {name for (name,) in rows}
    finally:
        database.close()


def _store(data: Path) -> tuple[list[str], set[str]]:
    """Names in store/tmp, and in store/files."""
    store = data / "store"
    return sorted(os.listdir(store / "tmp")), set(os.listdir(store / "files"))


@pytest.mark.slow
def test_sigkill_at_random_loses_no_acknowledged_submission(tmp_path):
    cycles = int(os.environ.get("REFUGIUM_KILL_CYCLES", "50"))
    seed = int(os.environ.get("REFUGIUM_KILL_SEED") or secrets.randbits(32))
    print(f"\nkill test: {cycles} cycles, REFUGIUM_KILL_SEED={seed}")
    rng = random.Random(seed)
    run = secrets.token_hex(6)
    prefix = f"rfgkill-{run}-"
    started = time.monotonic()
    data = tmp_path / "data"
    temp = tmp_path / "tmpdir"
    temp.mkdir(mode=0o700)
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    init = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert init.returncode == 0, init.stderr
    env = {
        "TMPDIR": str(temp),
        "REFUGIUM_FORM_MIN_SECONDS": "0",
        "REFUGIUM_SUBMISSIONS_PER_MINUTE": "1000000",
    }

    needles = {"canary prefix": forms_of(prefix)}
    attempts: list[Attempt] = []
    client_errors: list[str] = []
    hits_after_kills: list[str] = []
    wal_seen = False
    staged_at_kill = orphans_at_kill = 0
    for cycle in range(cycles):
        log = logs_dir / f"cycle-{cycle:04d}.log"
        with server_process(data, log, env=env, new_session=True) as server:
            # Serving means the start-up sweep has run: nothing half-done is left.
            temp_names, stored = _store(data)
            assert temp_names == [], f"cycle {cycle}: store/tmp not swept: {temp_names}"
            named = _named_files(data)
            assert stored <= named, f"cycle {cycle}: unnamed files {sorted(stored - named)}"
            stop = threading.Event()
            clients = [
                Client(server.url, f"{prefix}{cycle:04d}-{c}-", stop) for c in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            time.sleep(rng.uniform(*KILL_AFTER))
            stop.set()
            server.kill_group()
            wait_group_gone(server.process.pid)
            for client in clients:
                client.join(timeout=180)
                assert not client.is_alive(), "a client hung"
                attempts += client.attempts
                client_errors += client.errors
        temp_names, stored = _store(data)
        staged_at_kill += len(temp_names)
        orphans_at_kill += len(stored - _named_files(data))
        # What a seizure right after the crash would find, before the next start tidies up:
        # the WAL and shared memory as the dead server left them, unfinished uploads.
        committed = data / "store" / "files"
        left_behind = [p for p in files_under(data) if not p.is_relative_to(committed)]
        hits, _ = scan(left_behind, needles)
        hits_after_kills += [f"cycle {cycle}: {h}" for h in hits]
        wal_seen = wal_seen or any(p.name.endswith("-wal") for p in left_behind)
    # A last start, so that the sweep runs after the last kill, and a clean stop.
    with server_process(data, logs_dir / "final.log", env=env, new_session=True) as server:
        assert Reporter(server.url).session.get(server.url + "/submit/", timeout=30).ok
    killing = time.monotonic() - started

    acknowledged = [a for a in attempts if a.receipt]
    outcomes = Counter(a.outcome for a in attempts)
    print(
        f"kill test: {len(attempts)} submissions started, {len(acknowledged)} acknowledged, "
        f"outcomes {dict(outcomes)}; at the kills, {staged_at_kill} uploads were in "
        f"store/tmp and {orphans_at_kill} files were renamed but not yet committed; "
        f"{killing:.0f} s"
    )
    assert client_errors == []
    assert len(acknowledged) >= max(1, cycles // 2)  # the clients did get through

    # --- The database and the store, read-only, server stopped.
    temp_names, stored = _store(data)
    assert temp_names == []
    database = _database(data)
    try:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        named = {n for (n,) in database.execute("select stored_name from intake_attachment")}
        (submission_count,) = database.execute(
            "select count(*) from intake_submission"
        ).fetchone()
    finally:
        database.close()
    assert sorted(named - stored) == []  # rows naming missing files
    assert sorted(stored - named) == []  # files no row names

    # --- No canary and no file's hash anywhere (T9), server stopped, no connection open.
    searched = files_under(data, temp, logs_dir)
    outside_store = [p for p in searched if not p.is_relative_to(data / "store")]
    assert hits_after_kills == []
    assert wal_seen, "no WAL was left by any kill: the search after kills searched none"
    hits, scanned = scan(searched, needles)
    assert [str(h) for h in hits] == []
    assert scanned >= len(acknowledged) * FILE_BYTES
    sent_hashes = {a.sha256 for a in attempts}
    assert sent_hashes & hex_digests_in(outside_store) == set()
    # Positive control: the same searches find the canary and a hash where they are.
    control = tmp_path / "control.bin"
    _text, content = _report(f"{prefix}control")
    digest = hashlib.sha256(content).hexdigest()
    control.write_bytes(control_bytes(needles) + content + digest.encode())
    found, _ = scan([control], needles)
    assert {h.form for h in found} == set(needles["canary prefix"])
    assert digest in hex_digests_in([control])

    # --- Every acknowledged receipt opens its submission, byte-identical; every stored
    # submission is one that was sent, whole.
    answer = inspect(
        data,
        {
            "receipts": [a.receipt for a in acknowledged],
            "decrypt": True,
            "user": "admin",
            "passphrase": ADMIN_PASS,
        },
    )
    by_canary = {a.canary: a for a in attempts}
    submissions = {}
    for submission in answer["submissions"]:
        (message,) = submission["messages"]
        canary = message["text"].split()[3].rstrip(":")
        attempt = by_canary.get(canary)
        assert attempt is not None, f"{submission['code']} is no submission a client sent"
        assert message["text"] == attempt.text
        (file,) = message["files"]
        assert file["name"] == f"{canary}.bin"
        assert file["sha256"] == file["recorded_sha256"] == attempt.sha256
        assert file["size"] == file["recorded_size"] == FILE_BYTES
        submissions[submission["code"]] = canary
    assert len(submissions) == submission_count
    lost = [
        a.canary
        for a in acknowledged
        if submissions.get(answer["receipts"][a.receipt]) != a.canary
    ]
    assert lost == [], f"acknowledged but not retrievable: {lost}"

    # The command-line inbox agrees, for a few of them: list and show, files decrypted.
    listed = refugium(
        data, "inbox", "list", "--user", "admin", "--passphrase-stdin", "--json",
        stdin=ADMIN_PASS + "\n",
    )
    assert listed.returncode == 0, listed.stderr
    assert {row["code"] for row in json.loads(listed.stdout)} == set(submissions)
    for attempt in rng.sample(acknowledged, min(3, len(acknowledged))):
        code = answer["receipts"][attempt.receipt]
        out = tmp_path / f"show-{code}"
        out.mkdir()
        shown = refugium(
            data, "inbox", "show", code, "--user", "admin", "--passphrase-stdin", "--json",
            "--files-to", str(out), stdin=ADMIN_PASS + "\n",
        )
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["messages"][0]["text"] == attempt.text
        (path,) = out.iterdir()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == attempt.sha256
        shutil.rmtree(out)
    print(
        f"kill test: {len(acknowledged)} acknowledged receipts all open their submissions "
        f"({submission_count - len(acknowledged)} more were stored whole whose receipt never "
        f"reached the client); {time.monotonic() - started:.0f} s in all"
    )
    # Gigabytes of ciphertext: keep the database and logs of a passing run, not the store.
    shutil.rmtree(data / "store")
