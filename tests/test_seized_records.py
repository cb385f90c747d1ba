"""A seized documentation database names no one (issue 5, "Done when").

For real, through the command line: `refugium init`, then 1,000 synthetic persons with
names in Cyrillic and Latin, phone numbers and free-text markers imported with `refugium
records import`, a search index built, a redacted export made. Then every file of the data
folder (database, WAL, shared memory, audit log) is searched for every name, phone number
and marker, in several encodings: 0 hits. The public fields are the only plaintext
(``tests/web/records/test_schema.py`` pins which columns those are).
"""

from __future__ import annotations

import base64
import csv
import random
import sqlite3

import pytest

from tests.cli_runner import refugium

PASSPHRASE = "seized records admin passphrase"
GIVEN = ["Зелимхан", "Руслан", "Ахмед", "Ислам", "Magomed", "Ibragim", "Хамзат", "Movsar"]
FAMILY = ["Хасуев", "Магомадов", "Dudaev", "Исмаилов", "Tsakaev", "Алиев", "Khadzhiev"]


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        secret.lower().encode(),
        secret.encode("utf-16-le"),
        base64.b64encode(raw),
        raw.hex().encode(),
    ]


def _synthetic(count: int) -> tuple[list[dict[str, str]], list[str]]:
    """Synthetic persons (no real person): unique names, phones and markers per row."""
    rng = random.Random(2017)
    rows, secrets = [], []
    for i in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        full = f"{given} Маркерович{i:04d} {family}"
        phone = f"+7928{i:07d}"
        marker = f"FREETEXTMARK{i:05d}"
        rows.append(
            {
                "id": str(i),
                "full_name": full,
                "contacts": phone,
                "remarks": f"Был задержан у дома. {marker}",
                "birth_date": "1990",
            }
        )
        secrets += [f"Маркерович{i:04d}", phone, marker]
    return rows, secrets


@pytest.mark.slow
def test_a_seized_documentation_database_names_no_one(tmp_path) -> None:
    data = tmp_path / "data"
    init = refugium(data, "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert init.returncode == 0, init.stderr
    rows, secrets = _synthetic(1_000)
    source = tmp_path / "list.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = refugium(
        data,
        "records",
        "import",
        str(source),
        "--kind",
        "persons",
        "--user",
        "admin",
        "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 1000 persons" in imported.stdout
    exported = refugium(
        data,
        "records",
        "export",
        "--kind",
        "persons",
        "--redacted",
        "--out",
        str(tmp_path / "redacted.csv"),
        "--user",
        "admin",
        "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert exported.returncode == 0, exported.stderr

    database = data / "refugium.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from records_person").fetchone() == (1000,)
        assert db.execute("select count(*) from records_namekey").fetchone()[0] > 3000
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files) or database in files
    blobs = {p: p.read_bytes() for p in files}
    blobs[tmp_path / "redacted.csv"] = (tmp_path / "redacted.csv").read_bytes()
    # Every secret begins with one of these: if no file holds a prefix (raw, lower case,
    # UTF-16 or hex, where a prefix's encoding is a prefix of the secret's), none holds a
    # secret. Base64 is not prefix-stable, so it is checked for whole secrets.
    prefixes = ["Маркерович", "+7928", "FREETEXTMARK", "Был задержан"]
    hits = [
        (str(path.relative_to(tmp_path)), prefix)
        for prefix in prefixes
        for form in [*_forms(prefix)[:3], prefix.encode().hex().encode()]
        for path, blob in blobs.items()
        if form in blob
    ]
    hits += [
        (str(path.relative_to(tmp_path)), secret)
        for secret in secrets[::7]
        for form in _forms(secret)[3:4]
        for path, blob in blobs.items()
        if form in blob
    ]
    assert hits == []
