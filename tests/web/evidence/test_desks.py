"""The evidence pages serve every desk the signed-in user holds the key of (issue 6: "evidence
list per desk"): each desk lists only its own items, another desk's items are the same 404 as
a missing one, downloads are audited, and a case's own documents never appear."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.casework import cases, documents
from refugium.web.casework import services as casework
from refugium.web.desk import services as desk_services
from refugium.web.evidence import services
from refugium.web.evidence.models import Item
from tests import factories
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db

MISSING = "0123456789ab"


def _add(tmp_path: Path, desk: str, name: str, content: bytes) -> Item:
    path = tmp_path / name
    path.write_bytes(content)
    item, _sha = services.ingest(
        path, Desk.objects.get(name=desk), source=f"{desk} source", actor="admin"
    )
    return item


@pytest.fixture
def ivan(org: factories.Org) -> str:
    """A member of the intake desk only, holding its key."""
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    return "ivan"


@pytest.fixture
def two_desks(org: factories.Org, tmp_path: Path) -> tuple[Item, Item]:
    return (
        _add(tmp_path, "intake", "threat recording.ogg", b"intake evidence bytes"),
        _add(tmp_path, "documentation", "list from phone.txt", b"documentation evidence"),
    )


def _events(item: Item) -> list[dict[str, object]]:
    return [entry["body"] for entry in services.custody().entries(item=item.code)]


def test_the_chooser_names_only_the_desks_whose_key_the_user_holds(signed_in, ivan: str) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in(ivan)
    mine = browser.get("/evidence/")
    assert mine.status_code == 200
    page = mine.content.decode()
    assert "/evidence/desk/intake/" in page
    assert "/evidence/desk/documentation/" not in page
    assert "/evidence/desk/casework/" not in page
    admin = signed_in().get("/evidence/").content.decode()
    for desk in ("intake", "documentation", "casework"):
        assert f"/evidence/desk/{desk}/" in admin
    # "Your desks" links each of the user's desks to its evidence, and no other.
    home = browser.get("/desk/").content.decode()
    assert "/evidence/desk/intake/" in home
    assert "/evidence/desk/documentation/" not in home


def test_each_desk_lists_its_own_items_only(signed_in, two_desks) -> None:  # type: ignore[no-untyped-def]
    on_intake, on_documentation = two_desks
    browser = signed_in()
    intake = browser.get("/evidence/desk/intake/")
    assert intake.status_code == 200
    assert on_intake.code in intake.content.decode()
    assert on_documentation.code not in intake.content.decode()
    documentation = browser.get("/evidence/desk/documentation/").content.decode()
    assert on_documentation.code in documentation
    assert on_intake.code not in documentation


def test_a_member_of_another_desk_gets_the_same_404_as_for_a_missing_item(
    signed_in, ivan: str, two_desks
) -> None:  # type: ignore[no-untyped-def]
    on_intake, on_documentation = two_desks
    browser = signed_in(ivan)
    assert browser.get(f"/evidence/desk/intake/{on_intake.code}/").status_code == 200
    missing = browser.get(f"/evidence/desk/intake/{MISSING}/")
    assert missing.status_code == 404
    for url in (
        f"/evidence/desk/intake/{on_documentation.code}/",
        f"/evidence/desk/intake/{on_documentation.code}/download/",
        "/evidence/desk/documentation/",
        f"/evidence/desk/documentation/{on_documentation.code}/",
        f"/evidence/desk/documentation/{on_documentation.code}/download/",
        f"/evidence/desk/documentation/{MISSING}/",
        "/evidence/desk/no-such-desk/",
        f"/evidence/{on_documentation.code}/",
    ):
        response = browser.get(url)
        assert response.status_code == 404, url
        assert response.content == missing.content, url
    attach = browser.post(
        f"/evidence/desk/documentation/{on_documentation.code}/attach/",
        {"kind": "event", "code": "E-0001"},
    )
    assert attach.status_code == 404
    assert attach.content == missing.content
    # Nothing of the documentation desk's item was opened or recorded.
    assert [e["event"] for e in _events(on_documentation)] == ["ingested"]


def test_download_from_another_desk_is_audited_and_in_the_custody_log(
    signed_in, ivan: str, two_desks
) -> None:  # type: ignore[no-untyped-def]
    on_intake, _ = two_desks
    response = signed_in(ivan).get(f"/evidence/desk/intake/{on_intake.code}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"intake evidence bytes"
    assert response["Content-Disposition"].startswith("attachment")
    assert ("ivan", "evidence.download", "evidence", on_intake.code) in audit_entries()
    assert [(e["event"], e["actor"], e.get("how")) for e in _events(on_intake)] == [
        ("ingested", "admin", None),
        ("viewed", "ivan", "download"),
    ]


def test_other_desks_pages_say_attaching_is_the_documentation_desks(signed_in, two_desks) -> None:  # type: ignore[no-untyped-def]
    on_intake, _ = two_desks
    browser = signed_in()
    page = browser.get(f"/evidence/desk/intake/{on_intake.code}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "threat recording.ogg" in text
    assert "documentation desk" in text
    assert "/attach/" not in text
    assert "Attach to this record" not in text
    # Not through the documentation desk's attach either: the item is not found there.
    refused = browser.post(
        f"/evidence/desk/documentation/{on_intake.code}/attach/",
        {"kind": "event", "code": "E-0001"},
    )
    assert refused.status_code == 404
    assert not on_intake.links.exists()


def test_a_cases_documents_are_never_listed_or_opened(signed_in, org: factories.Org) -> None:  # type: ignore[no-untyped-def]
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    ws = casework.workspace(user, keyring)
    case = cases.open_case(ws, risk="high", needs=["documents"]).case
    documents.add_case_document(ws, case, "passport scan.pdf", b"%PDF-1.4\nscan\n")
    item = Item.objects.get(case_keyed=True)
    assert item.desk.name == "casework"
    browser = signed_in()
    listing = browser.get("/evidence/desk/casework/")
    assert listing.status_code == 200
    assert item.code not in listing.content.decode()
    missing = browser.get(f"/evidence/desk/casework/{MISSING}/")
    for url in (
        f"/evidence/desk/casework/{item.code}/",
        f"/evidence/desk/casework/{item.code}/download/",
    ):
        response = browser.get(url)
        assert response.status_code == 404, url
        assert response.content == missing.content, url
    assert all(e["event"] != "viewed" for e in _events(item))


def test_the_documentation_desks_old_urls_redirect(signed_in, ivan: str, two_desks) -> None:  # type: ignore[no-untyped-def]
    _, on_documentation = two_desks
    code = on_documentation.code
    browser = signed_in()
    moved = browser.get(f"/evidence/{code}/")
    assert moved.status_code == 302
    assert moved["Location"] == f"/evidence/desk/documentation/{code}/"
    download = browser.get(f"/evidence/{code}/download/")
    assert download["Location"] == f"/evidence/desk/documentation/{code}/download/"
    attach = browser.post(f"/evidence/{code}/attach/", {"kind": "event", "code": "E-1"})
    assert attach.status_code == 307
    assert attach["Location"] == f"/evidence/desk/documentation/{code}/attach/"
    assert signed_in(ivan).get(f"/evidence/{code}/").status_code == 404


def test_pages_need_a_signed_in_user() -> None:
    response = Client().get("/evidence/desk/intake/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
