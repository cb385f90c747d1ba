"""``refugium inbox``: the inbox from the command line, in a subprocess with production
settings (production Argon2id cost), against a data folder of its own.

The tests share that folder and run in file order, as a researcher's session would: list,
read, save files, reply, then set a status and delete.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import REPO, cli_env, one_line_error, refugium

ADMIN_PASS = "admin passphrase for the inbox cli test"
RITA_PASS = "rita passphrase for the inbox cli test"
PHOTO = bytes(range(256)) * 700  # 175 KiB: several age chunks
ESCAPE = "\x1b]0;owned\x07"

# Stores a submission as the intake does, or reads what its reporter sees with the receipt.
_REPORTER = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refugium.web.settings")
import django
django.setup()
from refugium.web.intake import flood, submissions
from refugium.web.intake.models import Submission
from refugium.web.intake.upload_handler import StagedUpload
spec = json.loads(sys.stdin.read())
if spec["do"] == "submit":
    desk = submissions.intake_desk()
    uploads = []
    for name, data, kind in spec["files"]:
        upload = submissions.store().begin([submissions.desk_recipient(desk)])
        upload.write(bytes.fromhex(data))
        uploads.append(StagedUpload(upload.finish(), name, kind))
    receipt = submissions.create(text=spec["text"], hints={"where": "moscow"}, uploads=uploads,
                                 language="en", form_token=flood.issue_form_token())
    session = submissions.open_with_receipt(receipt.to_text())
    code = Submission.objects.get(pk=session.submission_id).code
    print(json.dumps({"code": code, "receipt": receipt.to_text()}))
else:
    status, replies = submissions.reporter_view(submissions.open_with_receipt(spec["receipt"]))
    print(json.dumps({"status": status, "replies": [r.text for r in replies]}))
"""


def _reporter(data: Path, spec: dict) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-c", _REPORTER],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=cli_env(data),
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _audit(data: Path) -> list[tuple[str, str, str]]:
    entries = []
    for line in (data / "audit.jsonl").read_text().splitlines():
        body = json.loads(line)["body"]
        entries.append((body["actor"], body["action"], body["object"]["id"]))
    return entries


def _inbox(data: Path, *args: str, user: str = "admin", stdin: str = ADMIN_PASS + "\n"):  # type: ignore[no-untyped-def]
    return refugium(data, "inbox", *args, "--user", user, "--passphrase-stdin", stdin=stdin)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict, dict]:  # type: ignore[type-arg]
    data = tmp_path_factory.mktemp("inbox") / "data"
    result = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert result.returncode == 0, result.stderr
    older = _reporter(data, {"do": "submit", "text": "older report", "files": []})
    newer = _reporter(
        data,
        {
            "do": "submit",
            "text": f"They came at night.{ESCAPE}\nSecond line.",
            "files": [
                ["../../photo\u202egnp.exe", PHOTO.hex(), "image/png"],
                ["notes.txt", b"notes".hex(), "text/plain"],
            ],
        },
    )
    return data, older, newer


def test_inbox_commands_have_help():
    for action in ("list", "show", "reply", "status", "delete"):
        result = refugium(Path("/nonexistent"), "inbox", action, "--help")
        assert result.returncode == 0
        assert "--user NAME" in result.stdout
        assert "--passphrase-stdin" in result.stdout


def test_list(folder):
    data, older, newer = folder
    result = _inbox(data, "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["code"], r["status"], r["unread"], r["files"]) for r in rows] == [
        (newer["code"], "new", True, 2),
        (older["code"], "new", True, 0),
    ]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["received_on"])
    text = _inbox(data, "list")
    assert text.returncode == 0
    assert re.search(rf"^{newer['code']}  \S+  new\s+files=2 unread$", text.stdout, re.M)


def test_wrong_passphrase_exits_1(folder):
    data, _, _ = folder
    result = _inbox(data, "list", stdin="not the admin passphrase\n")
    assert result.returncode == 1
    one_line_error(result)


def test_unknown_user_and_code_exit_2(folder):
    data, _, _ = folder
    result = _inbox(data, "list", user="ghost")
    assert result.returncode == 2
    assert "no user" in one_line_error(result)
    result = _inbox(data, "show", "0123456789ab")
    assert result.returncode == 2
    assert "no submission '0123456789ab'" in one_line_error(result)


def test_no_passphrase_on_stdin_exits_2(folder):
    data, _, _ = folder
    result = _inbox(data, "list", stdin="")
    assert result.returncode == 2
    one_line_error(result)


def test_a_pending_member_exits_1(folder):
    data, _, _ = folder
    added = refugium(
        data, "user", "add", "rita", "--desk", "intake", "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    result = _inbox(data, "list", user="rita", stdin=RITA_PASS + "\n")
    assert result.returncode == 1
    assert "not an active member" in one_line_error(result)


def test_show_prints_escaped_text_and_meta_and_audits(folder):
    data, _, newer = folder
    result = _inbox(data, "show", newer["code"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in out
    assert "They came at night.\\x1b]0;owned\\x07\nSecond line." in out
    assert "[where: Moscow]" in out
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert f"{len(PHOTO)} bytes  sha256 {digest}  type image/png  name photo\\u202egnp.exe" in out
    assert (("admin", "submission.read", newer["code"])) in _audit(data)
    rows = json.loads(_inbox(data, "list", "--json").stdout)
    assert [r["unread"] for r in rows if r["code"] == newer["code"]] == [False]


def test_show_json(folder):
    data, _, newer = folder
    result = _inbox(data, "show", newer["code"], "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii()
    document = json.loads(result.stdout)
    (message,) = [m for m in document["messages"] if m["author"] == "reporter"]
    assert message["text"] == f"They came at night.{ESCAPE}\nSecond line."
    assert [a["name"] for a in message["attachments"]] == ["photo\u202egnp.exe", "notes.txt"]


def test_show_files_to_writes_exact_bytes_under_safe_names(folder, tmp_path):
    data, _, newer = folder
    out = tmp_path / "out"
    out.mkdir()
    result = _inbox(data, "show", newer["code"], "--files-to", str(out))
    assert result.returncode == 0, result.stderr
    written = sorted(out.iterdir())
    names = sorted(p.name for p in written)
    # Files are named STORED-safe-name; STORED is random, so compare as sorted lists.
    assert sorted(re.sub(r"^[0-9a-f]{32}-", "", n) for n in names) == [
        "notes.txt",
        "photognp.exe",
    ]
    contents = {p.name.split("-", 1)[1]: p.read_bytes() for p in written}
    assert contents == {"photognp.exe": PHOTO, "notes.txt": b"notes"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in written)
    stored = [n.split("-", 1)[0] for n in names]
    downloads = [e for e in _audit(data) if e[1] == "attachment.download"]
    assert sorted(e[2] for e in downloads[-2:]) == sorted(f"{newer['code']}:{s}" for s in stored)

    again = _inbox(data, "show", newer["code"], "--files-to", str(out))
    assert again.returncode == 2
    assert "refusing to overwrite" in one_line_error(again)
    assert {p.name.split("-", 1)[1]: p.read_bytes() for p in out.iterdir()} == contents

    missing = _inbox(data, "show", newer["code"], "--files-to", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "create it first" in one_line_error(missing)


def test_reply_reaches_the_reporter(folder):
    data, older, _ = folder
    result = _inbox(
        data, "reply", older["code"], stdin=ADMIN_PASS + "\nWe got it.\nStay safe.\n"
    )
    assert result.returncode == 0, result.stderr
    seen = _reporter(data, {"do": "view", "receipt": older["receipt"]})
    assert seen == {"status": "new", "replies": ["We got it.\nStay safe."]}
    shown = _inbox(data, "show", older["code"])
    assert "--- message 2 from desk (admin)" in shown.stdout
    assert ("admin", "submission.reply", older["code"]) in _audit(data)


def test_empty_reply_exits_2(folder):
    data, older, _ = folder
    result = _inbox(data, "reply", older["code"], stdin=ADMIN_PASS + "\n\n  \n")
    assert result.returncode == 2
    assert "empty" in one_line_error(result)


def test_status_and_delete(folder):
    data, older, newer = folder
    result = _inbox(data, "status", older["code"], "closed")
    assert result.returncode == 0, result.stderr
    seen = _reporter(data, {"do": "view", "receipt": older["receipt"]})
    assert seen["status"] == "closed"
    bad = _inbox(data, "status", older["code"], "gone")
    assert bad.returncode == 2

    unconfirmed = _inbox(data, "delete", newer["code"])
    assert unconfirmed.returncode == 2
    assert "--yes" in one_line_error(unconfirmed)
    files = data / "store" / "files"
    assert len(list(files.iterdir())) == 2
    deleted = _inbox(data, "delete", newer["code"], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "2 file(s) shredded" in deleted.stdout
    assert list(files.iterdir()) == []
    rows = json.loads(_inbox(data, "list", "--json").stdout)
    assert [r["code"] for r in rows] == [older["code"]]
    assert ("admin", "submission.delete", newer["code"]) in _audit(data)
    assert refugium(data, "audit", "verify").returncode == 0
