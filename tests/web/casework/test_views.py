"""The caseworkers' pages (issue 9), through Django's test client signed in with the real form.

What they must hold: a case the user is not assigned to answers exactly as a missing one; every
change needs the CSRF token; bad input is a form error (400), never an error page; the
coordinators' page is no one else's; nothing typed reaches the database files in plaintext.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.casework import notices
from refugium.web.casework.models import Assignment, Case, CaseAttestation, Flag, WatchlistEntry
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db

CONTACT = "+7 (928) 555-12-34"


def _member(org: factories.Org, name: str, desks: tuple[str, ...] = ("casework",)) -> None:
    factories.add_user(org, name, list(desks), passphrase=f"{name} has a long passphrase 2017")
    for desk in desks:
        accounts.grant(name, desk, by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)


@pytest.fixture
def admin(signed_in) -> Client:  # type: ignore[no-untyped-def]
    return signed_in()


@pytest.fixture
def rita(org, signed_in) -> Client:  # type: ignore[no-untyped-def]
    _member(org, "rita")
    return signed_in("rita")


def _new(browser: Client, **values: object) -> object:
    data: dict[str, object] = {"risk": "high", "needs": ["shelter"], "channel": "@asker"}
    data.update(values)
    return browser.post("/casework/new/", data)


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def test_a_case_opened_by_hand_shows_its_watchlist_flags(admin: Client) -> None:
    added = admin.post(
        "/casework/watchlist/add/", {"identifier": "89285551234", "reason": "Seized phone X-17"}
    )
    assert added.status_code == 302
    entry = WatchlistEntry.objects.get()
    assert added["Location"] == f"/casework/watchlist/?added={entry.pk}"
    made = _new(admin, contacts=f"{CONTACT}\n\n@someone_else\n", name="Аслан", notes="N")
    assert made.status_code == 302
    assert made["Location"] == "/casework/C-0001/?opened=1"
    page = admin.get(made["Location"])
    text = _text(page)
    assert page.status_code == 200
    assert "Case C-0001 opened and assigned to you." in text
    assert "<li>flag: Seized phone X-17</li>" in text
    assert "Аслан" in text
    assert "+7 (928) 555-12-34 (phone)" in text
    assert "<script" not in text
    case = Case.objects.get()
    assert (case.stage, case.risk, case.needs) == ("request", "high", "shelter")
    assert ("admin", "casework.case_view", "case", "C-0001") in audit_entries()
    home = _text(admin.get("/casework/"))
    assert re.search(
        r'<a href="/casework/C-0001/">C-0001</a></td><td>Request</td>'
        r"<td>High</td><td>Shelter</td><td>1</td>",
        home,
    )


def test_a_case_opened_from_an_intake_submission(org, signed_in, admin: Client) -> None:  # type: ignore[no-untyped-def]
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Submission

    submissions.create(
        text="help", hints={}, uploads=[], language="en", form_token=flood.issue_form_token()
    )
    code = Submission.objects.get().code
    link = f'<a href="/casework/new/?submission={code}" id="open-case">'
    assert link in _text(admin.get(f"/desk/inbox/{code}/"))
    _member(org, "ivan", ("intake",))  # reads the inbox, is not on the casework desk
    assert 'id="open-case"' not in _text(signed_in("ivan").get(f"/desk/inbox/{code}/"))
    form = _text(admin.get(f"/casework/new/?submission={code}"))
    assert f'value="{code}"' in form
    made = admin.post("/casework/new/", {"submission": code.upper(), "risk": "critical"})
    assert made.status_code == 302
    case = Case.objects.get()
    assert case.submission.code == code
    text = _text(admin.get("/casework/C-0001/"))
    assert f"<dd>{code}</dd>" in text
    assert f"intake:{code}" in text  # the request channel by default
    missing = admin.post("/casework/new/", {"submission": "nosuchcode", "risk": "high"})
    assert missing.status_code == 400
    assert "no submission &#x27;nosuchcode&#x27;" in _text(missing)


def test_an_unassigned_member_gets_the_very_404_of_a_missing_case(
    admin: Client, rita: Client
) -> None:
    _new(admin, name="Аслан")
    unassigned = rita.get("/casework/C-0001/")
    missing = rita.get("/casework/C-0099/")
    assert (unassigned.status_code, missing.status_code) == (404, 404)
    assert unassigned.content == missing.content
    for action, data in (
        ("attest", {"signal": "referee", "channel": "signal: zarema"}),
        ("stage", {"stage": "verification"}),
        ("flag", {"reason": "urgency"}),
        ("assign", {"user": "rita", "role": "caseworker"}),
    ):
        posted = rita.post(f"/casework/C-0001/{action}/", data)
        absent = rita.post(f"/casework/C-0099/{action}/", data)
        assert (posted.status_code, absent.status_code) == (404, 404), action
        assert posted.content == absent.content, action
    assert "C-0001" not in _text(rita.get("/casework/"))
    assert CaseAttestation.objects.count() == Flag.objects.count() == 0
    assert Case.objects.get().stage == "request"
    assert Assignment.objects.count() == 1


def test_others_signed_in_get_the_404_and_the_signed_out_the_sign_in(org, signed_in) -> None:  # type: ignore[no-untyped-def]
    _member(org, "ivan", ("intake",))
    ivan = signed_in("ivan")
    for url in ("/casework/", "/casework/new/", "/casework/watchlist/", "/casework/cut-off/"):
        assert ivan.get(url).status_code == 404, url
    anonymous = Client().get("/casework/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_every_change_needs_the_csrf_token(admin: Client) -> None:
    _new(admin)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin.cookies
    for url, data in (
        ("/casework/new/", {"risk": "high"}),
        ("/casework/C-0001/attest/", {"signal": "referee", "channel": "x"}),
        ("/casework/C-0001/stage/", {"stage": "verification"}),
        ("/casework/C-0001/flag/", {"reason": "urgency"}),
        ("/casework/cut-off/", {"user": "admin"}),
        ("/casework/watchlist/add/", {"identifier": "@x", "reason": "y"}),
        ("/casework/notices/read/", {"notice": "1"}),
    ):
        assert strict.post(url, data).status_code == 403, url
    assert Case.objects.count() == 1
    assert CaseAttestation.objects.count() == Flag.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"contacts": "@Good_One\n@\n"}, "contacts", "contact 2: not a Telegram"),
        ({"risk": "extreme"}, "risk", "Select a valid choice"),
        ({"needs": ["weapons"]}, "needs", "Select a valid choice"),
        ({"name": "x" * 201}, "name", "Ensure this value has at most 200"),
    ],
)
def test_bad_input_to_a_new_case_is_a_form_error(
    admin: Client,
    data: dict,
    field: str,
    message: str,  # type: ignore[type-arg]
) -> None:
    page = _new(admin, **data)
    assert page.status_code == 400
    text = _text(page)
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>{message}', text), text
    assert Case.objects.count() == 0


def test_the_gate_and_bad_moves_come_back_as_form_errors(admin: Client) -> None:
    _new(admin, channel="8 928 555 12 34")
    assert admin.post("/casework/C-0001/stage/", {"stage": "safe"}).status_code == 400
    admin.post("/casework/C-0001/stage/", {"stage": "verification"})
    admin.post("/casework/C-0001/attest/", {"signal": "referee", "channel": "signal: zarema"})
    closed = admin.post("/casework/C-0001/stage/", {"stage": "safe"})
    assert closed.status_code == 400
    text = _text(closed)
    assert "C-0001 cannot enter &#x27;safe&#x27;: 2 independent verification signals" in text
    assert "missing: callback, code_answer, partner" in text
    no_channel = admin.post("/casework/C-0001/attest/", {"signal": "callback", "channel": " "})
    assert no_channel.status_code == 400
    assert 'id="attest_channel_error"' in _text(no_channel)
    unknown = admin.post("/casework/C-0001/attest/", {"signal": "rumour", "channel": "x"})
    assert unknown.status_code == 400
    # A call-back on the request channel is recorded, and the page says it does not count.
    admin.post("/casework/C-0001/attest/", {"signal": "callback", "channel": "+79285551234"})
    page = _text(admin.get("/casework/C-0001/"))
    assert "came in on does not count" in page
    assert "<td>A referee known to the organisation vouches for the person</td>" in page
    admin.post("/casework/C-0001/attest/", {"signal": "code_answer", "channel": "@known"})
    moved = admin.post("/casework/C-0001/stage/", {"stage": "safe"})
    assert (moved.status_code, moved["Location"]) == (302, "/casework/C-0001/#stage")
    assert Case.objects.get().stage == "safe"
    assert "The verification gate is passed." in _text(admin.get("/casework/C-0001/"))
    assert admin.post("/casework/C-0001/flags/notanumber/clear/").status_code == 404


def test_a_flag_raised_by_hand_is_cleared_by_a_second_caseworker(
    admin: Client, rita: Client
) -> None:
    _new(admin)
    raised = admin.post("/casework/C-0001/flag/", {"reason": "wanted_search", "note": "uncle"})
    assert raised.status_code == 302
    flag = Flag.objects.get()
    assert Case.objects.get().risk == "high"
    page = _text(admin.get("/casework/C-0001/"))
    assert "A relative&#x27;s or official&#x27;s &#x27;wanted&#x27; or" in page
    assert f"/casework/C-0001/flags/{flag.pk}/clear/" not in page  # not for the one who raised it
    own = admin.post(f"/casework/C-0001/flags/{flag.pk}/clear/")
    assert own.status_code == 400
    assert "cleared by a second caseworker" in _text(own)
    bad = admin.post("/casework/C-0001/flag/", {"reason": "other", "note": ""})
    assert bad.status_code == 400
    assert 'id="flag_note_error"' in _text(bad)
    assigned = admin.post("/casework/C-0001/assign/", {"user": "rita", "role": "caseworker"})
    assert assigned.status_code == 302
    page = _text(rita.get("/casework/C-0001/"))
    assert f"/casework/C-0001/flags/{flag.pk}/clear/" in page
    cleared = rita.post(f"/casework/C-0001/flags/{flag.pk}/clear/")
    assert cleared.status_code == 302
    flag.refresh_from_db()
    assert flag.cleared_by.username == "rita"
    again = admin.post("/casework/C-0001/assign/", {"user": "rita", "role": "caseworker"})
    assert again.status_code == 400  # no longer a choice: rita is assigned


def test_notices_are_listed_and_marked_read(admin: Client, rita: Client) -> None:
    _new(admin)
    admin.post("/casework/C-0001/assign/", {"user": "rita", "role": "caseworker"})
    admin.post("/casework/C-0001/flag/", {"reason": "urgency"})
    home = _text(rita.get("/casework/"))
    assert "Provocation flag: admin raised a flag on C-0001" in home
    [notice] = notices.unread(Assignment.objects.get(user__username="rita").user)
    assert rita.post("/casework/notices/read/", {"notice": "x"}).status_code == 400
    # Another user's notice number changes nothing.
    assert admin.post("/casework/notices/read/", {"notice": str(notice.pk)}).status_code == 302
    assert len(notices.unread(notice.user)) == 1
    marked = rita.post("/casework/notices/read/", {"notice": str(notice.pk)})
    assert (marked.status_code, marked["Location"]) == (302, "/casework/")
    assert notices.unread(notice.user) == []


def test_unassigning_from_the_page(admin: Client, rita: Client) -> None:
    _new(admin)
    admin.post("/casework/C-0001/assign/", {"user": "rita", "role": "logistics"})
    assert rita.get("/casework/C-0001/").status_code == 200
    taken = admin.post("/casework/C-0001/unassign/", {"user": "rita"})
    assert taken.status_code == 302
    assert rita.get("/casework/C-0001/").status_code == 404
    assert Case.objects.get().generations.count() == 2


def test_only_a_coordinator_cuts_off_and_only_after_confirming(
    org, admin: Client, rita: Client
) -> None:  # type: ignore[no-untyped-def]
    _new(admin)
    _new(admin)
    admin.post("/casework/C-0002/assign/", {"user": "rita", "role": "caseworker"})
    # rita is not a coordinator: the page is not hers, in any method.
    assert rita.get("/casework/cut-off/").status_code == 404
    assert rita.post("/casework/cut-off/", {"user": "admin", "confirm": "on"}).status_code == 404
    assert "/casework/cut-off/" not in _text(rita.get("/casework/"))
    # The administrator is a coordinator: the first step shows what will happen, no more.
    assert admin.get("/casework/cut-off/").status_code == 200
    asked = admin.post("/casework/cut-off/", {"user": "rita"})
    assert asked.status_code == 200
    assert re.search(r'<ul id="affected"><li>C-0002</li></ul>', _text(asked))
    assert Assignment.objects.filter(user__username="rita").exists()
    refused = admin.post("/casework/cut-off/", {"user": "admin", "confirm": "on"})
    assert refused.status_code == 400  # not a choice: a coordinator does not cut off themselves
    done = admin.post("/casework/cut-off/", {"user": "rita", "confirm": "on"})
    assert done.status_code == 200
    assert "1 case has a new key: C-0002." in _text(done)
    assert not Assignment.objects.filter(user__username="rita").exists()
    ended = rita.get("/casework/")  # her session ended with her membership
    assert (ended.status_code, ended["Location"].split("?")[0]) == (302, "/accounts/login/")
    assert ("admin", "casework.cut_off", "case", "C-0002") in audit_entries()


def test_the_watchlist_page_adds_and_checks(admin: Client) -> None:
    admin.post("/casework/watchlist/add/", {"identifier": "@Lure_One", "reason": "Lure L-1"})
    again = admin.post(
        "/casework/watchlist/add/", {"identifier": "lure_one", "kind": "telegram", "reason": "2"}
    )
    assert again["Location"].startswith("/casework/watchlist/?listed=")
    found = admin.post("/casework/watchlist/check/", {"identifier": "@LURE_ONE"})
    assert found.status_code == 200
    assert "<li>flag: Lure L-1</li>" in _text(found)
    assert "<li>flag: 2</li>" in _text(found)
    none = admin.post("/casework/watchlist/check/", {"identifier": "@someone"})
    assert "No match." in _text(none)
    bad = admin.post("/casework/watchlist/check/", {"identifier": "8 928", "kind": "phone"})
    assert bad.status_code == 400
    assert 'id="check_identifier_error"' in _text(bad)
    no_reason = admin.post("/casework/watchlist/add/", {"identifier": "@x", "reason": " "})
    assert no_reason.status_code == 400
    assert WatchlistEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_what_the_pages_were_sent_never_reaches_the_database_files(data_dir: object) -> None:
    org = factories.make_org()
    browser = Client()
    browser.post(
        "/accounts/login/",
        {
            "username": "admin",
            "passphrase": factories.ADMIN_PASSPHRASE,
            "code": factories.totp_code(org.totp["admin"]),
        },
    )
    browser.post("/casework/watchlist/add/", {"identifier": "89281112233", "reason": "WL-MARK"})
    _new(
        browser,
        contacts="+7 (928) 777-66-55\n@Web_Handle_Mark",
        name="WEB-NAME-MARK",
        notes="WEB-NOTES-MARK",
        channel="web.mail.mark@example.org",
    )
    browser.post(
        "/casework/C-0001/attest/",
        {"signal": "referee", "channel": "REF-MARK", "note": "ATT-NOTE-MARK"},
    )
    browser.post("/casework/C-0001/flag/", {"reason": "other", "note": "FLAG-NOTE-MARK"})
    browser.post("/casework/watchlist/check/", {"identifier": "+7 928 111 22 33"})
    assert "WEB-NAME-MARK" in _text(browser.get("/casework/C-0001/"))
    seized = seized_bytes()
    assert b"C-0001" in seized
    secrets = [
        "9287776655",
        "777-66-55",
        "Web_Handle_Mark",
        "web.mail.mark",
        "WEB-NAME-MARK",
        "WEB-NOTES-MARK",
        "REF-MARK",
        "ATT-NOTE-MARK",
        "FLAG-NOTE-MARK",
        "WL-MARK",
        "9281112233",
    ]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []


def test_a_get_to_a_form_s_address_changes_nothing(admin: Client) -> None:
    _new(admin)
    for url in (
        "/casework/notices/read/",
        "/casework/C-0001/attest/",
        "/casework/C-0001/stage/",
        "/casework/C-0001/flag/",
        "/casework/C-0001/flags/1/clear/",
        "/casework/C-0001/assign/",
        "/casework/C-0001/unassign/",
        "/casework/watchlist/add/",
        "/casework/watchlist/check/",
    ):
        assert admin.get(url).status_code == 405, url
