"""The evidence pages: list, item with metadata and custody, download, attach and detach."""

from __future__ import annotations

import hashlib

import pytest

from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.evidence import services
from refugium.web.records.models import Event
from tests import factories
from tests.web.desk.conftest import audit_entries
from tests.web.evidence.test_cli import photo_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "injury photo.jpg"
    path.write_bytes(photo_with_gps())
    made, _sha = services.ingest(
        path, Desk.objects.get(name="documentation"), source="brother's phone", actor="admin"
    )
    return made, path


def test_item_page_shows_name_metadata_warning_and_custody(signed_in, item) -> None:  # type: ignore[no-untyped-def]
    made, path = item
    browser = signed_in()
    listing = browser.get("/evidence/desk/documentation/").content.decode()
    assert made.code in listing
    assert "injury photo" not in listing
    page = browser.get(f"/evidence/desk/documentation/{made.code}/").content.decode()
    assert "injury photo.jpg" in page
    assert hashlib.sha256(path.read_bytes()).hexdigest() in page
    assert "GPS" in page
    events = [e["body"]["event"] for e in services.custody().entries(item=made.code)]
    assert events == ["ingested", "viewed"]


def test_download_streams_the_original_as_an_attachment(signed_in, item) -> None:  # type: ignore[no-untyped-def]
    made, path = item
    response = signed_in().get(f"/evidence/desk/documentation/{made.code}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
    assert ("admin", "evidence.download", "evidence", made.code) in audit_entries()


def test_attach_and_detach_a_record_through_the_custody_log(signed_in, item) -> None:  # type: ignore[no-untyped-def]
    made, _path = item
    browser = signed_in()
    browser.post("/records/events/new/", {"title": "Wave", "status": "draft"})
    event = Event.objects.get()
    bad = browser.post(
        f"/evidence/desk/documentation/{made.code}/attach/", {"kind": "event", "code": "E-9999"}
    )
    assert bad.status_code == 400
    done = browser.post(
        f"/evidence/desk/documentation/{made.code}/attach/", {"kind": "event", "code": event.code}
    )
    assert done.status_code == 302
    record_page = browser.get(f"/records/events/{event.code}/").content.decode()
    assert f'href="/evidence/desk/documentation/{made.code}/"' in record_page
    browser.post(
        f"/evidence/desk/documentation/{made.code}/detach/", {"kind": "event", "code": event.code}
    )
    assert made.code not in browser.get(f"/records/events/{event.code}/").content.decode()
    entries = [e["body"] for e in services.custody().entries(item=made.code)]
    assert [(e["event"], e.get("record")) for e in entries if "record" in e] == [
        ("attached", event.code),
        ("detached", event.code),
    ]


def test_other_desks_members_get_404(org, signed_in, item) -> None:  # type: ignore[no-untyped-def]
    made, _path = item
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    ivan = signed_in("ivan")
    for url in (
        "/evidence/desk/documentation/",
        f"/evidence/desk/documentation/{made.code}/",
        f"/evidence/desk/documentation/{made.code}/download/",
        f"/evidence/{made.code}/",
    ):
        assert ivan.get(url).status_code == 404
    assert made.code not in ivan.get("/evidence/").content.decode()
    assert signed_in().get("/evidence/desk/documentation/000000000000/").status_code == 404
