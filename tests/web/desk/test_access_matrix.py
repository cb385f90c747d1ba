"""Who gets what from every inbox URL (issue 4, T14).

Anonymous requests and ended sessions go to the sign-in page, whatever the code; signed-in
accounts without the intake desk's key get the project's 404, byte for byte the page a
missing code gets; members get the pages. Submissions of another desk are missing for
everyone, members of that desk included: this inbox is the intake desk's.
"""

from __future__ import annotations

import pytest
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.intake.models import Message, Submission
from tests import factories
from tests.web.desk.conftest import PHOTO, audit_entries

MISSING = "0123456789ab"
MISSING_FILE = "f" * 32


def _cases(own: str, own_file: str, other: str, other_file: str, sibling_file: str):
    """(label, method, path, data) for every URL with an existing, a missing and another
    desk's object. ``sibling_file`` is a file of another intake submission."""
    base = "/desk/inbox/"
    return [
        ("inbox", "get", base, None),
        ("read", "get", f"{base}{own}/", None),
        ("read missing", "get", f"{base}{MISSING}/", None),
        ("read other desk", "get", f"{base}{other}/", None),
        ("download", "get", f"{base}{own}/files/{own_file}/", None),
        ("download missing file", "get", f"{base}{own}/files/{MISSING_FILE}/", None),
        ("download missing code", "get", f"{base}{MISSING}/files/{own_file}/", None),
        ("download other desk", "get", f"{base}{other}/files/{other_file}/", None),
        ("download sibling's file", "get", f"{base}{own}/files/{sibling_file}/", None),
        ("download other desk's file", "get", f"{base}{own}/files/{other_file}/", None),
        ("reply", "post", f"{base}{own}/reply/", {"text": "hello"}),
        ("reply missing", "post", f"{base}{MISSING}/reply/", {"text": "hello"}),
        ("reply other desk", "post", f"{base}{other}/reply/", {"text": "hello"}),
        ("reply by get", "get", f"{base}{own}/reply/", None),
        ("status", "post", f"{base}{own}/status/", {"status": "closed"}),
        ("status missing", "post", f"{base}{MISSING}/status/", {"status": "closed"}),
        ("status other desk", "post", f"{base}{other}/status/", {"status": "closed"}),
        ("delete page", "get", f"{base}{own}/delete/", None),
        ("delete page missing", "get", f"{base}{MISSING}/delete/", None),
        ("delete page other desk", "get", f"{base}{other}/delete/", None),
        ("delete missing", "post", f"{base}{MISSING}/delete/", {}),
        ("delete other desk", "post", f"{base}{other}/delete/", {}),
        ("delete", "post", f"{base}{own}/delete/", {}),  # last: it removes ``own``
    ]


MEMBER = {
    "inbox": 200,
    "read": 200,
    "read missing": 404,
    "read other desk": 404,
    "download": 200,
    "download missing file": 404,
    "download missing code": 404,
    "download other desk": 404,
    "download sibling's file": 404,
    "download other desk's file": 404,
    "reply": 302,
    "reply missing": 404,
    "reply other desk": 404,
    "reply by get": 405,
    "status": 302,
    "status missing": 404,
    "status other desk": 404,
    "delete page": 200,
    "delete page missing": 404,
    "delete page other desk": 404,
    "delete missing": 404,
    "delete other desk": 404,
    "delete": 200,
}


@pytest.fixture
def world(org, submit, casework_submission, signed_in):  # type: ignore[no-untyped-def]
    own = submit(files=[("a.png", PHOTO, "image/png")])
    sibling = submit(files=[("b.png", PHOTO, "image/png")])
    (own_file,) = own.stored_names()
    (sibling_file,) = sibling.stored_names()
    (other_file,) = casework_submission.stored_names()
    cases = _cases(
        own.code, own_file, casework_submission.code, other_file, sibling_file
    )
    return own, casework_submission, cases


def _statuses(browser: Client, cases) -> dict[str, int]:  # type: ignore[no-untyped-def]
    results = {}
    for label, method, path, data in cases:
        response = getattr(browser, method)(path, data) if data is not None else getattr(
            browser, method
        )(path)
        results[label] = response.status_code
        if response.status_code == 302 and label not in ("reply", "status"):
            assert response["Location"].startswith("/accounts/login/"), label
    return results


def _untouched(own, other) -> None:  # type: ignore[no-untyped-def]
    for made in (own, other):
        submission = Submission.objects.get(pk=made.submission.pk)
        assert submission.status == "new"
        assert submission.unread is True
        assert Message.objects.filter(submission=submission).count() == 1


def _no_submission_entries(actor: str) -> None:
    assert [e for e in audit_entries() if e[0] == actor and e[2] != "user"] == []


def test_anonymous_is_sent_to_sign_in_everywhere(world):
    own, other, cases = world
    assert _statuses(Client(), cases) == {label: 302 for label, *_ in cases}
    _untouched(own, other)


def test_a_member_of_another_desk_gets_404_everywhere(world, org, signed_in):
    own, other, cases = world
    factories.add_user(org, "doc", ["documentation"])
    accounts.grant("doc", "documentation", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    assert _statuses(signed_in("doc"), cases) == {label: 404 for label, *_ in cases}
    _untouched(own, other)
    _no_submission_entries("doc")


def test_a_pending_member_without_the_key_gets_404_everywhere(world, org, signed_in):
    own, other, cases = world
    factories.add_user(org, "newbie", ["intake"])  # not granted: no key
    assert _statuses(signed_in("newbie"), cases) == {label: 404 for label, *_ in cases}
    _untouched(own, other)
    _no_submission_entries("newbie")


def test_a_member_gets_the_pages_and_other_desks_objects_are_missing(world, member, signed_in):
    own, other, cases = world
    member("rita")
    assert _statuses(signed_in("rita"), cases) == MEMBER
    assert not Submission.objects.filter(pk=own.submission.pk).exists()
    casework = Submission.objects.get(pk=other.submission.pk)
    assert (casework.status, casework.unread, casework.messages.count()) == ("new", True, 1)


def test_a_casework_member_does_not_see_casework_objects_in_this_inbox(world, signed_in):
    # The admin is on every desk, casework included: the intake inbox still has no such code.
    _own, _other, cases = world
    results = _statuses(signed_in("admin"), cases)
    assert results == MEMBER


def test_a_disabled_users_session_ends(world, member, signed_in):
    own, other, cases = world
    member("rita")
    browser = signed_in("rita")
    assert browser.get("/desk/inbox/").status_code == 200
    accounts.disable_user("rita")
    assert _statuses(browser, cases) == {label: 302 for label, *_ in cases}
    _untouched(own, other)


def test_a_revoked_members_session_ends(world, member, signed_in):
    own, other, cases = world
    member("rita")
    browser = signed_in("rita")
    accounts.revoke("rita", "intake")
    assert _statuses(browser, cases) == {label: 302 for label, *_ in cases}
    _untouched(own, other)


def test_no_access_and_missing_give_the_same_page(world, org, member, signed_in):
    own, other, _cases = world
    factories.add_user(org, "newbie", ["intake"])
    outsider = signed_in("newbie")
    member("rita")
    insider = signed_in("rita")
    bodies = {
        outsider.get(f"/desk/inbox/{own.code}/").content,
        outsider.get(f"/desk/inbox/{MISSING}/").content,
        outsider.get("/desk/inbox/").content,
        insider.get(f"/desk/inbox/{MISSING}/").content,
        insider.get(f"/desk/inbox/{other.code}/").content,
        insider.get(f"/desk/inbox/{own.code}/files/{MISSING_FILE}/").content,
        Client().get("/no/such/page/").content,
    }
    assert len(bodies) == 1
    assert b"There is nothing here." in bodies.pop()
