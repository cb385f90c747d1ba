"""T9 and T10: no plaintext of a report, and nothing about the reporter, at rest.

A real server (`refugium init`, `refugium serve` under gunicorn, TMPDIR pointed at a folder
this test owns) takes reports the way a browser sends them, from 127.0.0.2 with canary
User-Agent, X-Forwarded-For and Referer headers: text with a marker, and files with markers
embedded at several offsets (one under Django's 2.5 MiB in-memory limit, 3 MiB, 40 MiB).
Then the paths that have left plaintext on other systems: a form that fails validation
after its files were streamed, an upload the client abandons mid-body, and a server
SIGKILLed (its whole process group) mid-upload and started again, so that the start-up
sweep runs. Afterwards every file of the data folder (database, -wal, -shm, store/files,
store/tmp, keys, audit log), the TMPDIR and the server logs are searched for every marker
in raw, UTF-16, hex, percent and base64 forms, and for each file's SHA-256 (and SHA-1,
MD5), hex and raw: 0 hits. The same search finds every form in a control file written
here, and every acknowledged submission decrypts, whole, with `refugium inbox show`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli_runner import refugium
from tests.e2e.inspect_data import inspect
from tests.e2e.reporter import RawUpload, Reporter, receipt_in, wait_for_staged, wait_group_gone
from tests.e2e.residue import control_bytes, digest_forms, files_under, forms_of, scan
from tests.live_server import server_process

ADMIN_PASS = "canary test admin passphrase"
MiB = 1024 * 1024
SOURCE = "127.0.0.2"


def _file_with(marker: bytes, size: int) -> bytes:
    """Random bytes with the marker at the start, across the 64 KiB chunk boundary of
    Django's reads, across the 2.5 MiB in-memory limit, in the middle and at the end."""
    content = bytearray(os.urandom(size))
    offsets = {0, 65536 - len(marker) // 2, size // 2, size - len(marker)}
    if size > 2_621_440:
        offsets.add(2_621_440 - 7)
    for offset in offsets:
        content[offset : offset + len(marker)] = marker
    return bytes(content)


def _wait_empty(folder: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while any(folder.iterdir()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{folder} still holds {sorted(p.name for p in folder.iterdir())}")
        time.sleep(0.05)


@pytest.mark.slow
def test_no_plaintext_or_reporter_metadata_at_rest(tmp_path):
    started = time.monotonic()
    run = secrets.token_hex(6)
    data = tmp_path / "data"
    temp = tmp_path / "tmpdir"  # the server's TMPDIR
    temp.mkdir(mode=0o700)
    plain = tmp_path / "plain"  # plaintext kept by the test, outside what is searched
    plain.mkdir()
    logs = [tmp_path / "server-1.log", tmp_path / "server-2.log"]
    init = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert init.returncode == 0, init.stderr

    def marker(what: str) -> str:
        return f"rfgcanary-{what}-{run}-{secrets.token_hex(6)}"

    text_markers = {
        key: marker(key.replace("-", "")) for key in ("1", "2", "invalid", "aborted", "killed")
    }
    texts = {
        "text-1": f"Что случилось: канарейка {text_markers['1']} конец.",
        "text-2": f"What happened: {text_markers['2']}.",
        "text-invalid": f"Invalid form, {text_markers['invalid']}.",
        "text-aborted": f"Abandoned, {text_markers['aborted']}.",
        "text-killed": f"Server killed, {text_markers['killed']}.",
    }
    file_markers = {
        key: marker(key).encode()
        for key in ("small", "3mib", "40mib", "invalid", "aborted", "killed")
    }
    sizes = {"small": 200 * 1024, "3mib": 3 * MiB, "40mib": 40 * MiB, "invalid": 3 * MiB}
    files = {key: _file_with(file_markers[key], size) for key, size in sizes.items()}
    names = {key: f"{marker('name' + key)}.jpg" for key in files}
    for key, content in files.items():
        (plain / names[key]).write_bytes(content)
    streamed = {key: _file_with(file_markers[key], 8 * MiB) for key in ("aborted", "killed")}
    streamed_names = {key: f"{marker('name' + key)}.mp4" for key in streamed}
    headers = {
        "User-Agent": f"Mozilla/5.0 (canary-ua-{run})",
        "X-Forwarded-For": "198.51.100.77",
        "Referer": f"http://canary-referer-{run}.example/",
    }
    env = {"TMPDIR": str(temp), "REFUGIUM_FORM_MIN_SECONDS": "0"}

    receipts = {}
    with server_process(data, logs[0], env=env, new_session=True) as server:
        staging = data / "store" / "tmp"
        reporter = Reporter(server.url, source=SOURCE, headers=headers)
        # Acknowledged: text, a small and a 3 MiB file; then text and a 40 MiB file.
        for key, text, sent in (
            ("1", texts["text-1"], ("small", "3mib")),
            ("2", texts["text-2"], ("40mib",)),
        ):
            response = reporter.submit(text, [(names[k], files[k]) for k in sent])
            assert response.status_code == 200, response.status_code
            receipts[key] = receipt_in(response.text)
            assert receipts[key]
            assert len(receipts[key].split()) == 10
        # Validation fails (a choice not on the list) after the file was streamed and
        # encrypted: nothing is kept.
        refused = reporter.submit(
            texts["text-invalid"],
            [(names["invalid"], files["invalid"])],
            extra={"when": "no-such-choice"},
        )
        assert refused.status_code == 400
        assert receipt_in(refused.text) is None
        # The client goes away in the middle of the file.
        aborted = RawUpload(
            server.port,
            reporter.form(),
            text=texts["text-aborted"],
            file_name=streamed_names["aborted"],
            declared_file_bytes=20 * MiB,
            source=SOURCE,
            headers=headers,
        )
        aborted.send(streamed["aborted"][: 6 * MiB])
        wait_for_staged(staging, MiB)
        aborted.close()
        _wait_empty(staging)  # the server threw the unfinished upload away
        # The server dies, workers and all, in the middle of a file.
        killed = RawUpload(
            server.port,
            reporter.form(),
            text=texts["text-killed"],
            file_name=streamed_names["killed"],
            declared_file_bytes=20 * MiB,
            source=SOURCE,
            headers=headers,
        )
        killed.send(streamed["killed"][: 6 * MiB])
        wait_for_staged(staging, MiB)
        server.kill_group()
        wait_group_gone(server.process.pid)
        killed.close()
        left = list(staging.iterdir())
        assert left, "the kill was meant to leave an unfinished upload"
        # What a seizure right after a crash finds: the WAL and shared memory as the dead
        # server left them (the restart below checkpoints them away), and the unfinished
        # upload still in store/tmp. Searched below along with the rest.
        after_kill = {p: p.read_bytes() for p in files_under(data, temp, logs[0])}

    # Start again: the sweep removes the unfinished upload before anything is served.
    with server_process(data, logs[1], env=env, new_session=True) as server:
        assert list(staging.iterdir()) == []
        assert Reporter(server.url).session.get(server.url + "/submit/", timeout=30).ok
    sent_at = time.monotonic()

    # --- The search, with the server stopped and no SQLite connection in this process.
    needles: dict[str, dict[str, bytes]] = {}
    for key, text in texts.items():
        needles[key] = forms_of(text_markers[key.removeprefix("text-")])
        needles[key + " (whole)"] = forms_of(text)
    needles["canary word"] = forms_of("канарейка")
    for key, value in file_markers.items():
        needles[f"marker in file {key}"] = forms_of(value)
    for key, name in {**names, **streamed_names}.items():
        needles[f"file name {key}"] = forms_of(name)
    for key, content in files.items():
        needles[f"digests of {key}"] = digest_forms(content)
    needles["user agent"] = forms_of(headers["User-Agent"])
    needles["referer"] = forms_of(headers["Referer"])
    needles["x-forwarded-for"] = forms_of(headers["X-Forwarded-For"])
    needles["source address"] = {
        "raw": SOURCE.encode(),
        "utf-16-le": SOURCE.encode("utf-16-le"),
    }
    snapshot = tmp_path / "after-kill"  # outside what is searched, until searched here
    for path, content in after_kill.items():
        copy = snapshot / path.relative_to(tmp_path)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(content)
    searched = files_under(data, temp, *logs, snapshot)
    hits, scanned = scan(searched, needles)
    assert [str(h) for h in hits] == []

    # The search covered what it was meant to: the database and its WAL, three stored
    # files (43 MiB of ciphertext), the keys, the audit log and both server logs.
    names_searched = {p.relative_to(tmp_path).as_posix() for p in searched}
    assert {
        "data/refugium.sqlite3",
        "data/audit.jsonl",
        "server-1.log",
        "server-2.log",
        "after-kill/data/refugium.sqlite3",
        "after-kill/data/refugium.sqlite3-wal",
        "after-kill/data/refugium.sqlite3-shm",
    } <= names_searched
    assert any(n.startswith("after-kill/data/store/tmp/") for n in names_searched)
    assert any(n.startswith("data/keys/") for n in names_searched)
    stored = [n for n in names_searched if n.startswith("data/store/files/")]
    assert len(stored) == 3
    assert scanned > 2 * 43 * MiB

    # Positive control: the same search finds every form of every secret where it is.
    control = plain / "control.bin"
    control.write_bytes(control_bytes(needles))
    found, _ = scan([control], needles)
    assert {(h.secret, h.form) for h in found} == {
        (label, form) for label, forms in needles.items() for form in forms
    }
    written = [plain / name for name in names.values()]
    found, _ = scan(written, {k: {"raw": v} for k, v in file_markers.items()})
    assert {h.secret for h in found} == set(sizes)

    # --- Every acknowledged submission is there, whole.
    database = sqlite3.connect(f"file:{data / 'refugium.sqlite3'}?mode=ro", uri=True)
    try:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = {name for (name,) in database.execute("select stored_name from intake_attachment")}
        # The refused form, the abandoned upload and the killed one stored nothing.
        (submission_count,) = database.execute("select count(*) from intake_submission").fetchone()
    finally:
        database.close()
    assert rows == {p.name for p in (data / "store" / "files").iterdir()}
    assert submission_count == len(receipts)
    answer = inspect(data, {"receipts": list(receipts.values())})
    codes = {key: answer["receipts"][receipt] for key, receipt in receipts.items()}
    assert None not in codes.values()
    assert len(set(codes.values())) == 2
    for key, sent in (("1", ("small", "3mib")), ("2", ("40mib",))):
        out = tmp_path / f"decrypted-{key}"
        out.mkdir()
        shown = refugium(
            data, "inbox", "show", codes[key], "--user", "admin", "--passphrase-stdin",
            "--json", "--files-to", str(out), stdin=ADMIN_PASS + "\n",
        )
        assert shown.returncode == 0, shown.stderr
        view = json.loads(shown.stdout)
        (message,) = view["messages"]
        assert message["text"] == texts[f"text-{key}"]
        assert sorted(f["name"] for f in message["attachments"]) == sorted(names[k] for k in sent)
        expected = {hashlib.sha256(files[k]).hexdigest() for k in sent}
        assert {f["sha256"] for f in message["attachments"]} == expected
        assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()} == expected
    print(
        f"canary: {len(needles)} secrets in {sum(len(f) for f in needles.values())} forms "
        f"over {len(searched)} files ({scanned / MiB:.0f} MiB); serving and killing took "
        f"{sent_at - started:.1f} s, the whole test {time.monotonic() - started:.1f} s"
    )


@pytest.mark.slow
def test_a_body_cut_short_stores_no_submission(tmp_path):
    """What reached the server of a request the client never finished must not become a
    submission: "a whole submission or nothing" (DESIGN §3) holds for a lost connection as
    it does for a crash. Two cuts: in the middle of a file (the client closes the socket),
    and between two parts (the client stops sending and half-closes)."""
    data = tmp_path / "data"
    init = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert init.returncode == 0, init.stderr
    env = {"TMPDIR": str(tmp_path), "REFUGIUM_FORM_MIN_SECONDS": "0"}
    answers = []
    with server_process(data, tmp_path / "server.log", env=env) as server:
        reporter = Reporter(server.url)
        in_file = RawUpload(
            server.port, reporter.form(), text="cut in a file",
            file_name="photo.jpg", declared_file_bytes=8 * MiB,
        )
        in_file.send(os.urandom(2 * MiB))
        wait_for_staged(data / "store" / "tmp", MiB)
        in_file.close()
        _wait_empty(data / "store" / "tmp")
        between = RawUpload(
            server.port, reporter.form(), text="cut between parts",
            file_name="photo.jpg", declared_file_bytes=8 * MiB, send_file_header=False,
        )
        between.sock.shutdown(socket.SHUT_WR)
        answers.append(between.sock.recv(1 << 16))
        between.close()
        time.sleep(0.5)  # let the worker finish the first request, whatever it does
    database = sqlite3.connect(f"file:{data / 'refugium.sqlite3'}?mode=ro", uri=True)
    try:
        (count,) = database.execute("select count(*) from intake_submission").fetchone()
    finally:
        database.close()
    assert [receipt_in(a.decode("utf-8", "replace")) for a in answers] == [None]
    assert count == 0
