"""`refugium evidence add FILE` without Django (issue 6, the 64 MiB ratio): the desk's
recipient read straight from SQLite is the one the ORM gives; the row written without Django
is the one the ORM writes, in the same order; anything the Django-free path does not know
(a schema, a rotated key) is left to Django; ``ingest`` takes over only a head start that
fits and redoes anything else."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from refugium.crypto import Identity
from refugium.datadir import DataDir
from refugium.vault.store import EncryptedStore
from refugium.web.accounts.models import Desk, DeskKeyGeneration
from refugium.web.core.storage import file_store
from refugium.web.desk import services as desk_services
from refugium.web.evidence import early, services
from refugium.web.evidence.models import Item
from tests import factories
from tests.cli_runner import REPO, cli_env, one_line_error, refugium

ADMIN_PASS = "admin passphrase for the early ingest test"


def test_the_early_module_loads_no_django() -> None:
    code = (
        "import sys, refugium.cli, refugium.web.evidence.early\n"
        "print(sorted(m for m in sys.modules if m.startswith('django')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout == "[]\n"


@pytest.mark.django_db(transaction=True)
def test_the_recipient_read_without_django_is_the_orms(org: factories.Org) -> None:
    database = Path(connection.settings_dict["NAME"])
    for desk in Desk.objects.all():
        assert early.current_recipient(database, desk.name) == (desk.current_generation().recipient)
    # A newer generation (a member revoked) is the one both answer, whatever the row order.
    desk = Desk.objects.get(name="documentation")
    base = desk.current_generation().number
    newer = str(Identity.generate().recipient)
    for number, recipient in ((base + 5, newer), (base + 4, "age1older")):
        DeskKeyGeneration.objects.create(
            desk=desk, number=number, recipient=recipient, key_id=f"k{number}"
        )
    assert desk.current_generation().recipient == newer
    assert early.current_recipient(database, "documentation") == newer
    assert early.current_recipient(database, "no-such-desk") is None
    assert early.current_recipient(database.with_name("missing.sqlite3"), "documentation") is None


def test_no_head_start_without_a_sqlite_database_or_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = DataDir(tmp_path / "data")
    data.root.mkdir()
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence")
    assert early.start(plain, "documentation", data) is None  # no database at all
    folder = tmp_path / "folder"
    folder.mkdir()
    link = tmp_path / "link"
    link.symlink_to(plain)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(early, "current_recipient", lambda *_: str(Identity.generate().recipient))
    for path in (folder, link, fifo, tmp_path / "missing"):
        assert early.start(path, "documentation", data) is None, path
    assert not (data.root / "store").exists()
    monkeypatch.setenv("DATABASE_URL", "postgres://somewhere/refugium")
    assert early.start(plain, "documentation", data) is None
    monkeypatch.delenv("DATABASE_URL")
    started = early.start(plain, "documentation", data)
    assert started is not None
    assert len(os.listdir(data.root / "store" / "tmp")) == 1
    started.abort()
    started.abort()
    assert os.listdir(data.root / "store" / "tmp") == []


def _head_start(path: Path, recipient: str, store: EncryptedStore) -> early.EarlyIngest:
    from refugium.crypto import Recipient

    fd = os.open(path, os.O_RDONLY)
    upload = store.begin_file(fd, [Recipient.parse(recipient)])
    return early.EarlyIngest(path, fd, store.root, recipient, upload)


def _plaintext(item: Item) -> bytes:
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    keys = desk_services.identities(user, keyring, item.desk)
    _meta, chunks = services.plaintext(item, keys, actor="admin", how="download")
    return b"".join(chunks)


@pytest.mark.django_db
def test_ingest_takes_over_a_head_start_that_fits(org: factories.Org, tmp_path: Path) -> None:
    desk = Desk.objects.get(name="documentation")
    path = tmp_path / "testimony.txt"
    path.write_bytes(b"what the witness said\n" * 1000)
    started = _head_start(path, desk.current_generation().recipient, file_store())
    worker = started._upload._encryption._process  # type: ignore[union-attr]
    item, sha256 = services.ingest(path, desk, source="hotline", actor="admin", early=started)
    assert worker.returncode == 0  # this worker's file is the one stored
    with pytest.raises(ValueError, match="taken"):
        started.take()
    started.abort()  # nothing more: it was taken
    assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _plaintext(item) == path.read_bytes()
    assert os.listdir(settings.DATA.root / "store" / "tmp") == []


@pytest.mark.django_db
@pytest.mark.parametrize("differs", ["recipient", "store", "path"])
def test_ingest_redoes_a_head_start_that_does_not_fit(
    org: factories.Org, tmp_path: Path, differs: str
) -> None:
    desk = Desk.objects.get(name="documentation")
    path = tmp_path / "testimony.txt"
    path.write_bytes(b"what the witness said\n" * 1000)
    other = tmp_path / "other.txt"
    other.write_bytes(b"another file")
    recipient = desk.current_generation().recipient
    store = file_store()
    if differs == "recipient":  # a key rotated between the head start and the setup
        recipient = str(Identity.generate().recipient)
    elif differs == "store":
        store = EncryptedStore(tmp_path / "elsewhere")
    started = _head_start(other if differs == "path" else path, recipient, store)
    worker = started._upload._encryption._process  # type: ignore[union-attr]
    item, sha256 = services.ingest(path, desk, source="hotline", actor="admin", early=started)
    assert worker.returncode is not None  # stopped and reaped
    # Aborted, its file closed.
    assert started._upload is None
    assert started._fd is None
    assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # Encrypted again, to the desk's own key.
    assert _plaintext(item) == path.read_bytes()
    assert os.listdir(store.tmp) == []
    assert os.listdir(file_store().tmp) == []
    assert os.listdir(file_store().files) == [item.stored_name]


# The command itself, with a data folder of its own


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evidence-early") / "data"
    done = refugium(folder, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert done.returncode == 0, done.stderr
    return folder


def test_one_file_is_added_with_its_type_and_metadata(data: Path, tmp_path: Path) -> None:
    # The type is sniffed from the first bytes, read while the worker reads the file.
    from tests.web.evidence.test_cli import photo_with_gps

    photo = tmp_path / "photo.bin"
    photo.write_bytes(photo_with_gps())
    done = refugium(data, "evidence", "add", str(photo), "--source", "field", "--by", "admin")
    assert done.returncode == 0, done.stderr
    code, sha256, _shown = done.stdout.rstrip("\n").split("  ", 2)
    assert sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    shown = refugium(
        data, "evidence", "show", code, "--json",
        "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    described = json.loads(shown.stdout)
    assert described["media_type"] == "image/jpeg"
    assert described["sha256"] == sha256
    assert any("GPS" in str(entry) for entry in described["metadata"]["entries"])
    assert os.listdir(data / "store" / "tmp") == []


def test_a_refused_add_leaves_no_worker_and_no_file(data: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence" * 100_000)
    before = sorted(os.listdir(data / "store" / "files"))
    # Refused by ingest, after the head start began: the command aborts it.
    done = refugium(data, "evidence", "add", str(plain), "--source", "x" * 3000)
    assert done.returncode == 2
    assert "--source" in one_line_error(done)
    # Refused before: no such desk (no head start), a link (none either).
    link = tmp_path / "link"
    link.symlink_to(plain)
    for args in (["--desk", "nowhere"], []):
        target = plain if args else link
        refused = refugium(data, "evidence", "add", str(target), *args)
        assert refused.returncode != 0
        one_line_error(refused)
    assert os.listdir(data / "store" / "tmp") == []
    assert sorted(os.listdir(data / "store" / "files")) == before


def test_the_command_takes_its_head_start_over(data: Path, tmp_path: Path) -> None:
    # Without this, a head start that never fits would pass every other test (the Django path
    # redoes it) and only the benchmark would notice.
    plain = tmp_path / "plain.txt"
    plain.write_bytes(os.urandom(3 << 20))
    code = (
        "import sys\n"
        "from refugium.web.evidence import early\n"
        "take, abort = early.EarlyIngest.take, early.EarlyIngest.abort\n"
        "def taken(self):\n"
        "    print('taken', file=sys.stderr)\n"
        "    return take(self)\n"
        "def aborted(self):\n"
        "    print('aborted', self._upload is not None, file=sys.stderr)\n"
        "    abort(self)\n"
        "early.EarlyIngest.take, early.EarlyIngest.abort = taken, aborted\n"
        "from refugium.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "print('django', any(m.startswith('django') for m in sys.modules), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "evidence", "add", str(plain)],
        env=cli_env(data),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Taken over, and by the path that never sets Django up.
    assert done.stderr.splitlines() == ["taken", "django False"]
    assert done.stdout.split("  ")[1] == hashlib.sha256(plain.read_bytes()).hexdigest()


# The whole ingest without Django (one file, SQLite)


def _rows(folder: Path, query: str, *args: object) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(folder / "refugium.sqlite3") as db:
        return db.execute(query, args).fetchall()


def test_a_row_written_without_django_is_the_one_the_orm_writes(data: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_bytes(b"a testimony, added alone\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "two.txt").write_bytes(b"a testimony, added with its folder\n")
    alone = refugium(data, "evidence", "add", str(one), "--source", "hotline")
    assert alone.returncode == 0, alone.stderr
    through_django = refugium(data, "evidence", "add", str(folder), "--source", "hotline")
    assert through_django.returncode == 0, through_django.stderr
    codes = [alone.stdout.split()[0], through_django.stdout.split()[0]]
    columns = "code, desk_id, stored_name, size, added_on, commitment, meta, case_keyed"
    typed = ", ".join(f"typeof({c})" for c in columns.split(", "))
    rows = [
        # Column names of this test's own, not input.
        _rows(data, f"select {columns}, {typed} from evidence_item where code = ?", code)[0]  # noqa: S608
        for code in codes
    ]
    fast, orm = rows
    assert fast[8:] == orm[8:]  # every column of the same SQLite type
    assert fast[1] == orm[1]  # the documentation desk
    assert fast[4] == orm[4] == datetime.now(UTC).date().isoformat()
    assert fast[7] == orm[7] == 0
    assert re.fullmatch(r"[0-9a-f]{12}", fast[0])
    assert (data / "store" / "files" / fast[2]).is_file()
    assert fast[3] == one.stat().st_size
    # The description opens and says what the ORM's does; the commitment is its hash's.
    media_types = []
    for code, path in ((codes[0], one), (codes[1], folder / "two.txt")):
        shown = refugium(
            data, "evidence", "show", code, "--json",
            "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n",
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        described = json.loads(shown.stdout)
        assert described["name"] == path.name
        assert described["source"] == "hotline"
        assert described["added_by"] == "cli"
        media_types.append(described["media_type"])
        assert described["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        (commitment,) = _rows(data, "select commitment from evidence_item where code = ?", code)[0]
        salted = f"{described['salt']}:{described['sha256']}".encode()
        assert commitment == hashlib.sha256(salted).hexdigest()
        assert [e["event"] for e in described["custody"]] == ["ingested", "viewed"]
    assert media_types[0] == media_types[1]


@pytest.fixture
def own_data(data: Path, tmp_path: Path) -> Path:
    """A copy of the initialised data folder, for a test that changes it."""
    copy = tmp_path / "own-data"
    shutil.copytree(data, copy)
    return copy


def _state(folder: Path) -> tuple[object, ...]:
    return (
        _rows(folder, "select code from evidence_item order by code"),
        sorted(os.listdir(folder / "store" / "files")),
        os.listdir(folder / "store" / "tmp"),
        (folder / "custody.jsonl").read_bytes() if (folder / "custody.jsonl").exists() else b"",
    )


def test_an_unknown_schema_is_left_to_django(
    own_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence")
    before = _state(own_data)
    monkeypatch.setattr(early, "ITEM_COLUMNS", early.ITEM_COLUMNS | {"added_by_migration"})
    started = early.start(plain, "documentation", DataDir(own_data))
    assert started is not None
    done = early.ingest_without_django(started, source="", actor="cli", data=DataDir(own_data))
    assert done is None
    # Untouched, for services.ingest to take over.
    assert started.fits(plain, own_data / "store", [started.recipient])
    started.abort()
    assert _state(own_data) == before


def test_a_key_rotated_meanwhile_stores_nothing(own_data: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence" * 10_000)
    before = _state(own_data)
    started = early.start(plain, "documentation", DataDir(own_data))
    assert started is not None
    # A member revoked between the head start and the commit: a newer generation.
    with sqlite3.connect(own_data / "refugium.sqlite3") as db:
        desk, number = db.execute(
            "select d.id, max(g.number) from accounts_desk d join accounts_deskkeygeneration g "
            "on g.desk_id = d.id where d.name = 'documentation'"
        ).fetchone()
        db.execute(
            "insert into accounts_deskkeygeneration (desk_id, number, recipient, key_id, "
            "created_at) values (?, ?, ?, 'k', '2026-01-01 00:00:00')",
            (desk, number + 1, str(Identity.generate().recipient)),
        )
    done = early.ingest_without_django(started, source="", actor="cli", data=DataDir(own_data))
    assert done is None
    # No row, no file (the age file to the old key discarded), no custody entry.
    assert _state(own_data) == before


def test_the_order_without_django_is_the_intakes(
    own_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The custody entry before the rename, the rename before the row: a kill between leaves
    # an entry without an item (never the other way round) and a file the sweep removes.
    from refugium.vault.custody import CustodyLog
    from refugium.vault.store import Staged

    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence" * 10_000)
    events: list[str] = []
    record, commit = CustodyLog.record, Staged.commit
    items = _rows(own_data, "select code from evidence_item")

    def recorded(self: CustodyLog, *args: object, **kwargs: object) -> object:
        assert _rows(own_data, "select code from evidence_item") == items
        events.append("custody")
        return record(self, *args, **kwargs)  # type: ignore[arg-type]

    def committed(self: Staged) -> str:
        name = commit(self)
        assert _rows(own_data, "select code from evidence_item") == items
        events.append("renamed")
        return name

    monkeypatch.setattr(CustodyLog, "record", recorded)
    monkeypatch.setattr(Staged, "commit", committed)
    started = early.start(plain, "documentation", DataDir(own_data))
    assert started is not None
    done = early.ingest_without_django(started, source="", actor="cli", data=DataDir(own_data))
    assert done is not None
    assert events == ["custody", "renamed"]
    assert set(_rows(own_data, "select code from evidence_item")) == {*items, (done[0],)}


@pytest.mark.django_db
def test_the_day_without_django_is_djangos() -> None:
    from django.utils import timezone

    assert early._today() == timezone.localdate().isoformat()
