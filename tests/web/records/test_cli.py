"""``refugium records`` and ``refugium vocab`` in a subprocess with production settings,
against a data folder of their own, as a user's script runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import refugium

ADMIN_PASS = "admin passphrase for the records cli test"
IVAN_PASS = "ivan passphrase for the records cli test"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("records-cli") / "data"
    assert refugium(folder, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n").returncode == 0
    added = refugium(
        folder,
        "user",
        "add",
        "ivan",
        "--desk",
        "intake",
        "--passphrase-stdin",
        stdin=IVAN_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    return folder


def records(data: Path, *args: str, passphrase: str = ADMIN_PASS, user: str = "admin"):  # type: ignore[no-untyped-def]
    return refugium(
        data, "records", *args, "--user", user, "--passphrase-stdin", stdin=passphrase + "\n"
    )


def test_import_then_export_round_trip(data: Path, tmp_path: Path) -> None:
    source = tmp_path / "ngo-list.csv"
    source.write_text(
        "id,full_name,given_name,patronymic,family_name,birth_date,place,gender\n"
        "1,Ахмед Ахмедов,,,,1985,Аргун,м\n2,,Isa,,Musaev,1990-04,Grozny,male\n",
        encoding="utf-8",
    )
    done = records(data, "import", str(source), "--kind", "persons")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported 2 persons (P-0001 to P-0002).")
    again = records(data, "import", str(source), "--kind", "persons")
    assert again.returncode == 2
    assert "ngo-list.csv, line 2: id: this id was imported before" in again.stderr
    out = tmp_path / "all.json"
    exported = records(data, "export", "--kind", "persons", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    people = json.loads(out.read_text(encoding="utf-8"))["records"]
    assert [p["full_name"] for p in people] == ["Ахмед Ахмедов", ""]
    assert people[1]["family_name"] == "Musaev"
    refused = records(data, "export", "--kind", "persons", "--out", str(out))
    assert refused.returncode == 2
    assert "exists; refusing to overwrite it" in refused.stderr


def test_skip_bad_writes_the_rejects_and_never_overwrites_them(data: Path, tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(
        "id,full_name,birth_date\na,Good One,1980\nb,Bad One,1980-13\n", encoding="utf-8"
    )
    done = records(data, "import", str(source), "--kind", "persons", "--skip-bad")
    assert done.returncode == 0, done.stderr
    assert "Skipped 1 bad rows" in done.stdout
    rejects = tmp_path / "mixed.rejects.csv"
    assert "line 3" in rejects.read_text(encoding="utf-8")
    again = records(data, "import", str(source), "--kind", "persons", "--skip-bad")
    assert again.returncode == 2
    assert "mixed.rejects.csv exists" in again.stderr


def test_errors_are_one_line_with_the_right_exit_code(data: Path, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("id,full_name\n1,Ça va\n".encode("latin-1"))
    bad = records(data, "import", str(source), "--kind", "persons")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "refugium: error: latin1.csv: not UTF-8 (byte 15); save it as UTF-8 and try again"
    )
    wrong = records(data, "import", str(source), "--kind", "persons", passphrase="wrong one!!!!")
    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr
    outsider = records(
        data, "import", str(source), "--kind", "persons", user="ivan", passphrase=IVAN_PASS
    )
    assert outsider.returncode == 1
    assert "not an active member of desk 'documentation'" in outsider.stderr


def test_vocab_list_add_retire_and_sync(data: Path) -> None:
    listed = refugium(data, "vocab", "list")
    assert listed.returncode == 0
    assert "act-types" in listed.stdout
    assert "ESF 4" in listed.stdout
    added = refugium(
        data,
        "vocab",
        "add",
        "place-kinds",
        "filtration-camp",
        "--en",
        "Filtration camp",
        "--ru",
        "Фильтрационный лагерь",
    )
    assert added.returncode == 0, added.stderr
    terms = refugium(data, "vocab", "list", "place-kinds").stdout
    assert "filtration-camp" in terms
    assert "local" in terms
    assert refugium(data, "vocab", "retire", "place-kinds", "filtration-camp").returncode == 0
    assert "retired" in refugium(data, "vocab", "list", "place-kinds").stdout
    synced = refugium(data, "vocab", "sync")
    assert synced.returncode == 0
    assert "0 terms added" in synced.stdout
    missing = refugium(data, "vocab", "list", "nope")
    assert missing.returncode == 2
