"""From the inbox to records (issue 5): a submission becomes a draft event with its source,
information and files, the link is audited, and the files cannot be deleted under it."""

from __future__ import annotations

from refugium.web.accounts import services as accounts
from refugium.web.intake.models import Submission
from refugium.web.records.models import Event, Information, InformationFile, Source
from tests import factories
from tests.web.desk.conftest import DOCUMENT, PHOTO, audit_entries


def test_promoting_makes_a_draft_event_with_source_information_and_files(submit, signed_in):
    made = submit(
        text="They took my brother from the market. PROMOTE-MARKER",
        files=[("photo.png", PHOTO, "image/png"), ("list.txt", DOCUMENT, "text/plain")],
    )
    browser = signed_in()
    page = browser.get(f"/desk/inbox/{made.code}/").content.decode()
    assert "Promote to a draft event" in page
    response = browser.post(f"/desk/inbox/{made.code}/promote/")
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/records/events/{event.code}/"
    assert (event.status, event.submission.code) == ("draft", made.code)
    source = Source.objects.get()
    information = Information.objects.get()
    assert (information.source, information.event) == (source, event)
    assert sorted(f.attachment.stored_name for f in InformationFile.objects.all()) == sorted(
        made.stored_names()
    )
    assert Submission.objects.get().status == "promoted"
    # The testimony was re-sealed for the documentation desk: readable there, not plaintext.
    # A testimony names people: the plain page does not show it, the audited one does.
    url = f"/records/information/{information.code}/"
    info_page = browser.get(url).content.decode()
    assert "PROMOTE-MARKER" not in info_page
    assert made.stored_names()[0] in info_page
    assert "PROMOTE-MARKER" in browser.get(f"{url}identity/").content.decode()
    assert b"PROMOTE-MARKER" not in bytes(information.identity)
    actions = [(a, t, i) for _u, a, t, i in audit_entries()]
    assert ("records.promote", "submission", made.code) in actions
    for name in made.stored_names():
        assert ("records.attach", "attachment", f"{made.code}:{name}") in actions
    # Promoting again opens the same event.
    again = browser.post(f"/desk/inbox/{made.code}/promote/")
    assert again["Location"] == response["Location"]
    assert Event.objects.count() == 1


def test_a_promoted_submission_cannot_be_deleted_from_under_its_records(submit, signed_in):
    made = submit(files=[("photo.png", PHOTO, "image/png")])
    browser = signed_in()
    browser.post(f"/desk/inbox/{made.code}/promote/")
    refused = browser.post(f"/desk/inbox/{made.code}/delete/")
    assert refused.status_code == 409
    assert "linked to N-0001" in refused.content.decode()
    assert Submission.objects.filter(code=made.code).exists()


def test_promoting_needs_the_documentation_desk_too(org, submit, signed_in):
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    made = submit()
    browser = signed_in("ivan")
    page = browser.get(f"/desk/inbox/{made.code}/").content.decode()
    assert "Promote to a draft event" not in page
    assert browser.post(f"/desk/inbox/{made.code}/promote/").status_code == 404
    assert Event.objects.count() == 0
