"""docs/keys.md promises that the archive opens with stock tools when refugium is gone.

This runs the documented steps with Debian's `sqlite3` and `age` commands (installed by
`scripts/bootstrap --test`): a missing tool fails the test, it does not skip it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from refugium.crypto import Recipient, encrypt
from tests.cli_runner import refugium

PASS = "archive test admin passphrase"


def _doc_sql() -> str:
    text = (Path(__file__).parent.parent / "docs" / "keys.md").read_text()
    match = re.search(r'sqlite3 refugium-data/refugium.sqlite3 "\n(.*?)"\n', text, re.S)
    assert match is not None, "the documented query is gone from docs/keys.md"
    return match.group(1)


def test_documented_steps_decrypt_a_desk_file_with_stock_age(tmp_path):
    data = tmp_path / "refugium-data"
    init = refugium(data, "init", "--passphrase-stdin", stdin=PASS + "\n")
    assert init.returncode == 0, init.stderr
    paper_key = re.search(r"AGE-SECRET-KEY-1[0-9A-Z]+", init.stdout).group(0)  # type: ignore[union-attr]

    (tmp_path / "recovery.key").write_text(paper_key + "\n")
    subprocess.run(
        ["sqlite3", "refugium-data/refugium.sqlite3", _doc_sql()], cwd=tmp_path, check=True
    )
    subprocess.run(
        ["age", "-d", "-i", "recovery.key", "-o", "intake-1.key", "intake-1.age"],
        cwd=tmp_path,
        check=True,
    )
    recipient = subprocess.run(
        ["age-keygen", "-y", "intake-1.key"], cwd=tmp_path, check=True, capture_output=True,
        text=True,
    ).stdout.strip()

    testimony = "Synthetic testimony for the archive test. Ӏ ё".encode()
    (tmp_path / "some-file.age").write_bytes(encrypt(testimony, [Recipient.parse(recipient)]))
    subprocess.run(
        ["age", "-d", "-i", "intake-1.key", "-o", "testimony.bin", "some-file.age"],
        cwd=tmp_path,
        check=True,
    )
    assert (tmp_path / "testimony.bin").read_bytes() == testimony

    listed = subprocess.run(
        ["sqlite3", str(data / "refugium.sqlite3"),
         "SELECT g.recipient FROM accounts_deskkeygeneration g JOIN accounts_desk d "
         "ON d.id = g.desk_id WHERE d.name = 'intake' AND g.number = 1"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert listed == recipient
