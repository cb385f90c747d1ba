"""A case's own documents in the vault, readable only by its assignees (issue 9: "each case's
sensitive parts are encrypted under a key wrapped only to the caseworkers assigned to it (and
the recovery recipient), not to the whole desk"; "documents from the vault")."""

from __future__ import annotations

import io
import os
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from refugium.crypto import DecryptionFailed, Identity
from refugium.crypto import decrypt as age_decrypt
from refugium.errors import BadInput, Conflict, NotFound
from refugium.vault.store import TooLarge
from refugium.web.casework import cases, documents, services, tasks
from refugium.web.casework.models import Case, CaseDocument
from refugium.web.desk import services as desk_services
from refugium.web.evidence import services as evidence
from refugium.web.evidence.models import Item
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions, _caseworker

DAY = date(2017, 4, 2)
NAME = "Zelimkhan passport scan.pdf"
CONTENT = b"%PDF-1.4\nPassport 96 05 654321 of Zelimkhan Umarov, born in Argun\n"
NOTE = "his passport, photographed by his sister Madina"


@pytest.fixture
def rita(org: factories.Org) -> services.Workspace:
    return _caseworker(org, "rita")


def _open(ws: services.Workspace) -> Case:
    return cases.open_case(ws, risk="high", needs=["documents"], today=DAY).case


def _store(folder: str = "files") -> Path:
    return Path(settings.DATA.root) / "store" / folder


def _stored(store: str = "files") -> list[Path]:
    folder = _store(store)
    return sorted(folder.iterdir()) if folder.exists() else []


def _item_of(ws: services.Workspace, document: CaseDocument) -> Item:
    code = cases._open(cases._keys(ws, document.case), document, "details")["item"]
    return Item.objects.get(code=code)


def _ciphertext(item: Item) -> bytes:
    return (_store() / item.stored_name).read_bytes()


def _big() -> bytes:
    """Larger than one read (1 MiB) and many age chunks (64 KiB), not a multiple of either."""
    return secrets.token_bytes(2 * 2**20 + 12_345)


# --- Reading back ---------------------------------------------------------------------------


def test_an_assignee_reads_the_document_back_byte_identical(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    data = _big()
    first = documents.add_case_document(cw, case, NAME, CONTENT, note=NOTE, today=DAY)
    path = tmp_path / "ticket.bin"
    path.write_bytes(data)
    second = documents.add_case_document(cw, case.code, path.name, path)
    third = documents.add_case_document(cw, case, "upload.bin", io.BytesIO(data))

    opened = documents.open_case_document(cw, case, first.pk)
    assert (opened.name, opened.media_type, opened.note, opened.size) == (
        NAME,
        "application/pdf",
        NOTE,
        len(CONTENT),
    )
    assert opened.read() == CONTENT
    assert NAME not in repr(opened)
    assert NOTE not in repr(opened)
    assert documents.open_case_document(cw, case.code, second.pk).read() == data
    assert b"".join(documents.open_case_document(cw, case, third.pk).chunks) == data

    listed = tasks.documents_of(cw, case)
    assert [(v.number, v.name, v.label, v.case_keyed, v.present) for v in listed] == [
        (first.pk, NAME, NOTE, True, True),
        (second.pk, "ticket.bin", "", True, True),
        (third.pk, "upload.bin", "", True, True),
    ]
    assert listed[1].size == len(data)
    actions = [a for a in _audit_actions() if a[0].startswith("casework.document_")]
    assert actions.count(("casework.document_add", "case", case.code)) == 3
    assert actions.count(("casework.document_get", "case", case.code)) == 3


def test_the_file_is_encrypted_to_the_case_key_and_the_recovery_key_only(
    cw: services.Workspace, org: factories.Org
) -> None:
    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT, note=NOTE)
    item = _item_of(cw, document)
    [(generation, key)] = cases._held(cw, case)
    raw = _ciphertext(item)

    header = raw[: raw.index(b"\n---")]
    assert header.count(b"\n-> X25519 ") == 2  # the case key's generation and recovery
    assert str(key.recipient) == generation.recipient
    assert age_decrypt(raw, [key.identity]) == CONTENT
    assert age_decrypt(raw, [Identity.from_secret_string(org.paper_key)]) == CONTENT
    assert (item.case_keyed, bytes(item.meta), item.size) == (True, b"", len(CONTENT))
    # The description is sealed under the case key, not the desk key.
    assert cases._open([key], document, "details")["name"] == NAME
    with pytest.raises(DecryptionFailed):
        cases._open(list(cw.keys), document, "details")
    with pytest.raises(DecryptionFailed):
        age_decrypt(raw, [k.identity for k in cw.keys])


def test_the_custody_log_records_each_event_with_no_content(cw: services.Workspace) -> None:
    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT, note=NOTE)
    documents.open_case_document(cw, case, document.pk).read()
    item = _item_of(cw, document)

    bodies = [e["body"] for e in evidence.custody().entries(item=item.code)]
    assert [(b["event"], b.get("how")) for b in bodies] == [("ingested", None), ("viewed", "case")]
    assert all(b["content"] == item.commitment for b in bodies)
    sealed = cases._open(cases._keys(cw, case), document, "details")
    text = str(bodies)
    for secret in (NAME, NOTE, sealed["sha256"], sealed["salt"], case.code):
        assert secret not in text


# --- Not the desk's ---------------------------------------------------------------------------


def test_an_unassigned_desk_member_cannot_open_it_with_any_key_they_hold(
    cw: services.Workspace, rita: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT, note=NOTE)
    item = _item_of(cw, document)
    raw = _ciphertext(item)
    assert rita.keys  # she holds the desk's key
    assert rita.identity is not None  # and her own

    with pytest.raises(NotFound) as refused:
        documents.open_case_document(rita, case, document.pk)
    with pytest.raises(NotFound) as missing:
        documents.open_case_document(rita, "C-0999", document.pk)
    assert str(refused.value) == f"no case {case.code!r}"
    assert str(missing.value) == "no case 'C-0999'"
    held = [k.identity for k in rita.keys] + [rita.identity]
    for identity in held:
        with pytest.raises(DecryptionFailed):
            age_decrypt(raw, [identity])
    with pytest.raises(DecryptionFailed):
        age_decrypt(raw, held)
    with pytest.raises(DecryptionFailed):
        cases._open(list(rita.keys), document, "details")
    with pytest.raises(NotFound):
        tasks.documents_of(rita, case)
    with pytest.raises(NotFound):
        tasks.detach_document(rita, case, document.pk)
    assert [b["event"] for b in _bodies(item)] == ["ingested"]


def _bodies(item: Item) -> list[dict[str, Any]]:
    return [e["body"] for e in evidence.custody().entries(item=item.code)]


def test_the_desks_vault_paths_neither_offer_nor_open_it(
    cw: services.Workspace, rita: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT)
    item = _item_of(cw, document)
    path = tmp_path / "leaflet.txt"
    path.write_bytes(b"a desk item")
    desk_item, _sha = evidence.ingest(path, rita.desk, source="", actor="rita")
    identities = [k.identity for k in rita.keys]

    assert list(evidence.desk_items(rita.desk)) == [desk_item]
    with pytest.raises(NotFound) as refused:
        evidence.get(rita.desk, item.code)
    with pytest.raises(NotFound) as missing:
        evidence.get(rita.desk, "ffffffffffff")
    assert str(refused.value).replace(item.code, "X") == str(missing.value).replace(
        "ffffffffffff", "X"
    )
    for attempt in (
        lambda: evidence.show(item, identities, actor="rita"),
        lambda: evidence.plaintext(item, identities, actor="rita", how="download"),
        lambda: evidence.share(item, identities, actor="rita"),
        lambda: evidence.open_meta(item, identities),
        lambda: evidence.export([desk_item, item], identities, tmp_path / "out", actor="rita"),
    ):
        with pytest.raises(NotFound, match="no evidence item"):
            attempt()
    assert not (tmp_path / "out").exists()
    own = _open(rita)
    with pytest.raises(NotFound, match="casework desk's vault"):
        tasks.attach_document(rita, own, item.code)
    assert [b["event"] for b in _bodies(item)] == ["ingested"]


def test_a_linked_desk_item_opens_through_the_same_function(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    path = tmp_path / "leaflet.txt"
    path.write_bytes(b"the desk's leaflet")
    item, _sha = evidence.ingest(path, cw.desk, source="", actor="admin")
    linked = tasks.attach_document(cw, case, item.code, label="leaflet")

    opened = documents.open_case_document(cw, case, linked.pk)
    assert (opened.name, opened.note, opened.case_keyed) == ("leaflet.txt", "leaflet", False)
    assert opened.read() == b"the desk's leaflet"


# --- Rotation -------------------------------------------------------------------------------


def test_after_unassign_a_new_document_is_sealed_to_the_new_generation(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    before = documents.add_case_document(rita, case, "before.txt", b"added under key one")
    [(old_generation, old_key)] = cases._held(rita, case)

    cases.unassign(cw, case, rita.user)
    after = documents.add_case_document(cw, case, "after.txt", b"added under key two")
    (new_generation, new_key), (_g, old_again) = cases._held(cw, case)

    assert (old_generation.number, new_generation.number) == (1, 2)
    assert old_again.key_id == old_key.key_id
    raw = _ciphertext(_item_of(cw, after))
    assert age_decrypt(raw, [new_key.identity]) == b"added under key two"
    with pytest.raises(DecryptionFailed):
        age_decrypt(raw, [old_key.identity])  # what rita held, and may have copied
    with pytest.raises(DecryptionFailed):
        cases._open([old_key], after, "details")
    assert cases._open([new_key], after, "details")["name"] == "after.txt"
    # The old document stays under the old generation, read through the assignee's old wrap.
    assert age_decrypt(_ciphertext(_item_of(cw, before)), [old_key.identity])
    assert documents.open_case_document(cw, case, before.pk).read() == b"added under key one"
    with pytest.raises(NotFound):
        documents.open_case_document(rita, case, after.pk)


# --- Bad input leaves nothing half-written ----------------------------------------------------


def _nothing_stored() -> None:
    assert (Item.objects.count(), CaseDocument.objects.count()) == (0, 0)
    assert (_stored("files"), _stored("tmp")) == ([], [])


class _Failing(io.RawIOBase):
    """A stream that breaks after its first megabyte, as a dropped upload or a bad disk."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError(5, "Input/output error")
        return b"x" * (size if size > 0 else 1024)


def test_bad_input_gives_a_clear_error_and_stores_nothing(
    cw: services.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _open(cw)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(empty)
    readable = tmp_path / "ticket.bin"
    readable.write_bytes(CONTENT)  # named by text, it is not read
    cases_of_bad_input: list[tuple[Any, str, str]] = [
        (b"", NAME, "the document is empty"),
        (empty, NAME, "the document is empty"),
        (_Failing(), NAME, "could not be read .*Input/output error.*nothing was stored"),
        (io.StringIO("text, not bytes"), NAME, "must be read as bytes"),
        (fifo, "fifo", "not a regular file"),
        (link, "link", "cannot open it"),
        (tmp_path / "missing", "missing", "cannot open it"),
        (tmp_path, "folder", "not a regular file"),
        (str(readable), NAME, "not text"),
        (CONTENT, "  ", "name: required"),
        (CONTENT, "a\nb", "control characters"),
        (CONTENT, "x" * 256, "longer than 255"),
    ]
    for content, name, message in cases_of_bad_input:
        with pytest.raises(BadInput, match=message):
            documents.add_case_document(cw, case, name, content)
        _nothing_stored()
    with pytest.raises(BadInput, match="note: longer than"):
        documents.add_case_document(cw, case, NAME, CONTENT, note="x" * 2_001)
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 3 * 2**20)
    with pytest.raises(TooLarge, match="larger than the limit of 3145728 bytes"):
        documents.add_case_document(cw, case, NAME, io.BytesIO(_big() + _big()))
    _nothing_stored()
    assert not [a for a in _audit_actions() if a[0] == "casework.document_add"]


def test_a_failure_after_the_file_is_in_place_removes_it(
    cw: services.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _open(cw)

    def broken(self: CaseDocument, *args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CaseDocument, "save", broken)
    with pytest.raises(OSError, match="No space left"):
        documents.add_case_document(cw, case, NAME, CONTENT)
    _nothing_stored()


def test_a_damaged_file_fails_instead_of_completing(cw: services.Workspace) -> None:
    case = _open(cw)
    data = _big()
    document = documents.add_case_document(cw, case, NAME, data)
    stored = _store() / _item_of(cw, document).stored_name
    raw = bytearray(stored.read_bytes())
    raw[-100] ^= 0x01
    stored.write_bytes(bytes(raw))

    with pytest.raises(DecryptionFailed):
        documents.open_case_document(cw, case, document.pk).read()


def test_a_file_swapped_for_another_of_the_case_fails(cw: services.Workspace) -> None:
    case = _open(cw)
    first = documents.add_case_document(cw, case, "first.txt", b"the first document")
    second = documents.add_case_document(cw, case, "second.txt", b"the second document")
    one, two = _item_of(cw, first), _item_of(cw, second)
    (_store() / one.stored_name).write_bytes(_ciphertext(two))

    with pytest.raises(DecryptionFailed, match="does not match the hash"):
        documents.open_case_document(cw, case, first.pk).read()
    # A description paired with another item's row is refused before anything is read.
    Item.objects.filter(pk=one.pk).update(commitment=two.commitment)
    with pytest.raises(DecryptionFailed, match="does not match its file"):
        documents.open_case_document(cw, case, first.pk)


def test_detaching_a_case_document_shreds_it(cw: services.Workspace) -> None:
    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT)
    item = _item_of(cw, document)

    tasks.detach_document(cw, case, document.pk)
    assert (Item.objects.count(), CaseDocument.objects.count(), _stored()) == (0, 0, [])
    assert [b["event"] for b in _bodies(item)] == ["ingested", "deleted"]
    with pytest.raises(NotFound, match="has no document"):
        documents.open_case_document(cw, case, document.pk)


# --- A seized data folder -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_seized_data_folder_holds_neither_the_documents_content_nor_its_name(
    data_dir: object,
) -> None:
    org = factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    rita = _caseworker(org, "rita")
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    document = documents.add_case_document(cw, case, NAME, CONTENT, note=NOTE)
    assert documents.open_case_document(rita, case, document.pk).read() == CONTENT
    assert [v.name for v in tasks.documents_of(rita, case)] == [NAME]

    root = Path(settings.DATA.root)
    vault = b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
    seized = seized_bytes() + vault
    assert case.code.encode() in seized  # the audit log was read
    assert _stored()  # and the vault's file
    secrets_ = [NAME, "Zelimkhan", "passport scan", "96 05 654321", "Umarov", "Madina"]
    found = [s for s in secrets_ for form in written_forms(s) if form in seized]
    assert found == []


def test_the_sweep_at_start_keeps_a_case_documents_file(cw: services.Workspace) -> None:
    from refugium.server import sweep_leftovers

    case = _open(cw)
    document = documents.add_case_document(cw, case, NAME, CONTENT)
    orphan = _store() / ("0" * 32)
    orphan.write_bytes(b"a file no row names")

    sweep_leftovers()
    assert _stored() == [_store() / _item_of(cw, document).stored_name]
    assert documents.open_case_document(cw, case, document.pk).read() == CONTENT


def test_a_rotation_while_the_file_streams_in_stores_nothing(
    cw: services.Workspace, rita: services.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    streamed = documents._stream_in

    def unassigned_meanwhile(*args: Any) -> Any:
        result = streamed(*args)
        cases.unassign(cw, case, rita.user)
        return result

    monkeypatch.setattr(documents, "_stream_in", unassigned_meanwhile)
    with pytest.raises(Conflict, match="key changed while the document was being added"):
        documents.add_case_document(rita, case, NAME, CONTENT)
    _nothing_stored()
