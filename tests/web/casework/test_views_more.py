"""The case page's further parts and the pages beside them (issue 9): location compartment,
check-ins and their alerts, tasks, notes, documents and costs, through the test client
signed in with the real form.

What they must hold: every form's happy path, and bad input as a form error (400) with
nothing written; a case the user is not assigned to answers exactly as a missing one on every
case-scoped address; the location is masked but for its owner during a reveal, and the
revealed page is ``no-store``; the check-in code is shown once and kept nowhere.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from refugium.web.casework import checkin_store
from refugium.web.casework.models import (
    Assignment,
    CaseDocument,
    CaseNote,
    CheckinAlert,
    CheckinSchedule,
    Cost,
    LocationCompartment,
    LocationReveal,
    Notice,
    Task,
)
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_tasks import _vault_item
from tests.web.casework.test_views import _member, _new, _text
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db

ADDRESS = "ул. Ленина 12, кв. 34 (PAGE-ADDRESS-MARK)"
REASON = "bus tickets to book today (REVEAL-REASON-MARK)"
NORMAL = "sunflowers in june"
DURESS = "the cat is asleep"


@pytest.fixture
def admin(signed_in) -> Client:  # type: ignore[no-untyped-def]
    return signed_in()


@pytest.fixture
def rita(org, signed_in) -> Client:  # type: ignore[no-untyped-def]
    _member(org, "rita")
    return signed_in("rita")


@pytest.fixture
def omar(org, signed_in) -> Client:  # type: ignore[no-untyped-def]
    _member(org, "omar")
    return signed_in("omar")


def _case_with_owner(admin: Client, rita: Client) -> None:
    """C-0001 in verification, rita its logistics owner, admin (a coordinator) beside her."""
    assert _new(admin, name="Аслан").status_code == 302  # type: ignore[attr-defined]
    assert admin.post("/casework/C-0001/stage/", {"stage": "verification"}).status_code == 302
    assigned = admin.post("/casework/C-0001/assign/", {"user": "rita", "role": "logistics"})
    assert assigned.status_code == 302


def _fill(browser: Client, **values: str) -> object:
    data = {"stage": "safe", "region": "Kabardino-Balkaria", "address": ADDRESS}
    data.update(values)
    return browser.post("/casework/C-0001/location/fill/", data)


# --- Location -------------------------------------------------------------------------------


def test_the_owner_fills_and_reveals_others_see_the_mask(admin: Client, rita: Client) -> None:
    _case_with_owner(admin, rita)
    filled = _fill(rita)
    assert filled.status_code == 302  # type: ignore[attr-defined]
    assert filled["Location"] == "/casework/C-0001/#location"  # type: ignore[index]
    masked = _text(rita.get("/casework/C-0001/"))
    assert "PAGE-ADDRESS-MARK" not in masked
    assert "••••••" in masked
    assert 'id="reveal-form"' in masked

    revealed = rita.post("/casework/C-0001/location/reveal/", {"reason": REASON, "minutes": 15})
    assert revealed.status_code == 302
    page = rita.get("/casework/C-0001/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    text = _text(page)
    assert "PAGE-ADDRESS-MARK" in text
    assert 'id="revealed"' in text
    assert ("rita", "casework.location_view", "case", "C-0001") in audit_entries()

    # admin, assigned but not the owner, sees the mask, the reveal and its reason.
    other = _text(admin.get("/casework/C-0001/"))
    assert "PAGE-ADDRESS-MARK" not in other
    assert "REVEAL-REASON-MARK" in other
    assert Notice.objects.filter(user__username="admin", kind="reveal").exists()


def test_a_reveal_without_a_reason_or_too_long_is_a_form_error(admin: Client, rita: Client) -> None:
    _case_with_owner(admin, rita)
    _fill(rita)
    refused = rita.post("/casework/C-0001/location/reveal/", {"reason": "  ", "minutes": 15})
    assert refused.status_code == 400
    assert "a reveal needs a reason" in _text(refused)
    assert "PAGE-ADDRESS-MARK" not in _text(refused)
    long = rita.post("/casework/C-0001/location/reveal/", {"reason": "why", "minutes": 500})
    assert long.status_code == 400
    assert 'id="reveal-form"' in _text(long)
    assert LocationReveal.objects.count() == 0


def test_not_the_owner_reads_the_refusal_not_a_404(admin: Client, rita: Client) -> None:
    _case_with_owner(admin, rita)
    refused = _fill(admin)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "only the logistics owner of C-0001 (rita) holds its location" in _text(refused)
    assert LocationCompartment.objects.count() == 0
    _fill(rita)
    denied = admin.post("/casework/C-0001/location/reveal/", {"reason": "why", "minutes": 5})
    assert denied.status_code == 400
    assert "only the logistics owner" in _text(denied)
    assert LocationReveal.objects.count() == 0


def test_bad_fill_input_writes_nothing(admin: Client, rita: Client) -> None:
    _case_with_owner(admin, rita)
    no_region = _fill(rita, region="")
    assert no_region.status_code == 400  # type: ignore[attr-defined]
    assert "This field is required." in _text(no_region)
    bad_stage = _fill(rita, stage="relocated")
    assert bad_stage.status_code == 400  # type: ignore[attr-defined]
    too_long = _fill(rita, route="x" * 2_001)
    assert too_long.status_code == 400  # type: ignore[attr-defined]
    assert "route: longer than 2000 characters" in _text(too_long)
    assert LocationCompartment.objects.count() == 0


def test_handing_the_location_over(admin: Client, rita: Client) -> None:
    _case_with_owner(admin, rita)
    _fill(rita)
    bad = rita.post("/casework/C-0001/location/hand-over/", {"user": "nobody"})
    assert bad.status_code == 400
    moved = rita.post("/casework/C-0001/location/hand-over/", {"user": "admin"})
    assert moved.status_code == 302
    roles = dict(Assignment.objects.values_list("user__username", "role"))
    assert roles == {"admin": "logistics", "rita": "caseworker"}
    assert "Logistics owner: admin." in _text(admin.get("/casework/C-0001/"))


# --- Check-ins ------------------------------------------------------------------------------


def _enrol(browser: Client, **values: object) -> object:
    data: dict[str, object] = {
        "every": 24,
        "grace": 60,
        "normal_answer": NORMAL,
        "duress_answer": DURESS,
    }
    data.update(values)
    return browser.post("/casework/C-0001/checkins/enrol/", data)


def test_enrolling_shows_the_code_once_and_keeps_it_nowhere(admin: Client) -> None:
    _new(admin)
    shown = _enrol(admin)
    assert shown.status_code == 200  # type: ignore[attr-defined]
    text = _text(shown)
    code = text.split('id="checkin-code"><strong>')[1].split("<")[0]
    assert len(code.replace(" ", "").replace("-", "")) == 16
    assert NORMAL not in text
    assert DURESS not in text
    session = Session.objects.get(session_key=admin.session.session_key)
    digits = code.replace(" ", "").replace("-", "")
    assert digits not in str(session.get_decoded())
    assert code not in str(session.get_decoded())
    page = _text(admin.get("/casework/C-0001/"))
    assert code not in page
    assert digits not in page
    assert "every 24 h, with 60 min of grace" in page
    again = _enrol(admin)  # a reload of the code's page: no second code
    assert again.status_code == 400  # type: ignore[attr-defined]
    assert "C-0001 has check-ins already" in _text(again)
    assert CheckinSchedule.objects.count() == 1
    stopped = admin.post("/casework/C-0001/checkins/stop/")
    assert stopped.status_code == 302
    assert not CheckinSchedule.objects.get().active
    assert admin.post("/casework/C-0001/checkins/stop/").status_code == 404  # none to stop


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"duress_answer": NORMAL}, "the normal and duress answers must differ"),
        ({"every": 0}, "Ensure this value is greater than or equal to 1."),
        ({"grace": -1}, "Ensure this value is greater than or equal to 0."),
        ({"normal_answer": ""}, "This field is required."),
    ],
)
def test_bad_enrolment_is_a_form_error(
    admin: Client, values: dict[str, object], error: str
) -> None:
    _new(admin)
    refused = _enrol(admin, **values)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    text = _text(refused)
    assert error in text
    assert NORMAL not in text
    assert DURESS not in text
    assert CheckinSchedule.objects.count() == 0


def test_the_alerts_page_acknowledges_and_resolves(admin: Client, omar: Client) -> None:
    _new(admin)
    shown = _text(_enrol(admin))
    code = shown.split('id="checkin-code"><strong>')[1].split("<")[0]
    assert "0 open check-in alerts" in _text(admin.get("/casework/"))
    checkin_store.receive(code, DURESS)
    checkin_store.run_pass(timezone.now())
    alert = CheckinAlert.objects.get()
    assert alert.reason == "duress"
    home = _text(admin.get("/casework/"))
    assert "1 open check-in alert" in home
    page = _text(admin.get("/casework/alerts/"))
    assert "Duress answer" in page
    assert "C-0001" in page
    # omar, on the desk but not on the case, sees no alert and may not act on it.
    assert "No open alert." in _text(omar.get("/casework/alerts/"))
    assert omar.post(f"/casework/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert omar.post("/casework/alerts/9999/acknowledge/").status_code == 404
    early = admin.post(f"/casework/alerts/{alert.pk}/resolve/")
    assert early.status_code == 400
    assert 'id="alert-error"' in _text(early)
    assert admin.post(f"/casework/alerts/{alert.pk}/acknowledge/").status_code == 302
    twice = admin.post(f"/casework/alerts/{alert.pk}/acknowledge/")
    assert twice.status_code == 400
    assert admin.post(f"/casework/alerts/{alert.pk}/resolve/").status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by is not None
    assert alert.resolved_by.username == "admin"
    assert "No open alert." in _text(admin.get("/casework/alerts/"))


# --- Tasks, notes, documents, costs ---------------------------------------------------------


def test_tasks_are_added_listed_on_the_home_page_and_completed(admin: Client) -> None:
    _new(admin)
    due = timezone.localdate() + timedelta(days=2)
    added = admin.post(
        "/casework/C-0001/tasks/add/",
        {"title": "Call the lawyer TASK-MARK", "due_on": due.isoformat(), "owner": "admin"},
    )
    assert added.status_code == 302
    assert added["Location"] == "/casework/C-0001/#tasks"
    assert "Call the lawyer TASK-MARK" in _text(admin.get("/casework/"))
    number = Task.objects.get().pk
    assert admin.post(f"/casework/C-0001/tasks/{number}/done/").status_code == 302
    assert Task.objects.get().done_on is not None
    assert "TASK-MARK" not in _text(admin.get("/casework/"))
    twice = admin.post(f"/casework/C-0001/tasks/{number}/done/")
    assert twice.status_code == 400
    assert f"task {number} on C-0001 is done already" in _text(twice)


def test_bad_tasks_are_form_errors(admin: Client) -> None:
    _new(admin)
    past = admin.post(
        "/casework/C-0001/tasks/add/",
        {"title": "late", "due_on": date(2017, 1, 1).isoformat(), "owner": "admin"},
    )
    assert past.status_code == 400
    assert "a task cannot be due on a day already past" in _text(past)
    no_title = admin.post(
        "/casework/C-0001/tasks/add/",
        {"title": "", "due_on": timezone.localdate().isoformat(), "owner": "admin"},
    )
    assert no_title.status_code == 400
    assert Task.objects.count() == 0


def test_notes_are_added_and_listed(admin: Client) -> None:
    _new(admin)
    assert admin.post("/casework/C-0001/notes/add/", {"text": "NOTE-MARK"}).status_code == 302
    assert "NOTE-MARK" in _text(admin.get("/casework/C-0001/"))
    empty = admin.post("/casework/C-0001/notes/add/", {"text": "   "})
    assert empty.status_code == 400
    assert "note: required" in _text(empty)
    assert CaseNote.objects.count() == 1


def test_documents_attach_by_vault_code_and_detach(admin: Client, tmp_path: Path) -> None:
    _new(admin)
    missing = admin.post("/casework/C-0001/documents/attach/", {"item": "nosuchitem"})
    assert missing.status_code == 400
    assert "no document &#x27;nosuchitem&#x27; in the casework desk&#x27;s vault" in _text(missing)
    assert CaseDocument.objects.count() == 0
    code = _vault_item(tmp_path)
    attached = admin.post("/casework/C-0001/documents/attach/", {"item": code, "label": "passport"})
    assert attached.status_code == 302
    assert attached["Location"] == "/casework/C-0001/#documents"
    page = _text(admin.get("/casework/C-0001/"))
    assert "passport scan.txt" in page
    assert "passport" in page
    number = CaseDocument.objects.get().pk
    assert admin.post(f"/casework/C-0001/documents/{number}/detach/").status_code == 302
    assert CaseDocument.objects.count() == 0


def test_costs_are_added_listed_and_deleted(admin: Client) -> None:
    _new(admin)
    today = timezone.localdate().isoformat()
    added = admin.post(
        "/casework/C-0001/costs/add/",
        {
            "spent_on": today,
            "category": "tickets",
            "amount": "1 200,50",
            "currency": "rub",
            "description": "COST-MARK",
        },
    )
    assert added.status_code == 302
    page = _text(admin.get("/casework/C-0001/"))
    assert "1200.50 RUB" in page
    assert "COST-MARK" in page
    for bad, error in (
        ({"amount": "lots"}, "an amount is a number such as 1200 or 12.50"),
        ({"currency": "XXZ"}, "&#x27;XXZ&#x27; is not a current ISO 4217 currency"),
        ({"amount": "1.234"}, "RUB has 2 decimal places, not more"),
        ({"spent_on": "2999-01-01"}, "a cost is recorded once paid"),
    ):
        data = {"spent_on": today, "category": "tickets", "amount": "5", "currency": "RUB"}
        refused = admin.post("/casework/C-0001/costs/add/", {**data, **bad})
        assert refused.status_code == 400, bad
        assert error in _text(refused), bad
    assert Cost.objects.count() == 1
    number = Cost.objects.get().pk
    assert admin.post(f"/casework/C-0001/costs/{number}/delete/").status_code == 302
    assert Cost.objects.count() == 0


# --- Who may ------------------------------------------------------------------------------


CASE_POSTS = [
    ("location/fill/", {"stage": "safe", "region": "R", "address": "A"}),
    ("location/reveal/", {"reason": "why", "minutes": 5}),
    ("location/hand-over/", {"user": "omar"}),
    ("checkins/enrol/", {"every": 24, "grace": 60, "normal_answer": "a b", "duress_answer": "c d"}),
    ("checkins/stop/", {}),
    ("tasks/add/", {"title": "t", "due_on": "2999-01-01", "owner": "omar"}),
    ("tasks/1/done/", {}),
    ("notes/add/", {"text": "n"}),
    ("documents/attach/", {"item": "x"}),
    ("documents/1/detach/", {}),
    (
        "costs/add/",
        {"spent_on": "2017-01-01", "category": "other", "amount": "1", "currency": "EUR"},
    ),
    ("costs/1/delete/", {}),
]


def test_an_unassigned_member_gets_the_404_of_a_missing_case_everywhere(
    admin: Client, omar: Client
) -> None:
    _new(admin)
    admin.post("/casework/C-0001/notes/add/", {"text": "n"})
    for action, data in CASE_POSTS:
        posted = omar.post(f"/casework/C-0001/{action}", data)
        absent = omar.post(f"/casework/C-0099/{action}", data)
        assert (posted.status_code, absent.status_code) == (404, 404), action
        assert posted.content == absent.content, action
    assert CheckinSchedule.objects.count() == Task.objects.count() == 0
    assert CaseNote.objects.count() == 1
    assert LocationCompartment.objects.count() == Cost.objects.count() == 0


def test_every_new_form_needs_the_csrf_token(admin: Client) -> None:
    _new(admin)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin.cookies
    for action, data in CASE_POSTS:
        assert strict.post(f"/casework/C-0001/{action}", data).status_code == 403, action
    assert strict.post("/casework/alerts/1/acknowledge/").status_code == 403


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_what_the_new_forms_were_sent_never_reaches_the_database_files(data_dir: object) -> None:
    org = factories.make_org()
    factories.add_user(org, "rita", ["casework"], passphrase="rita has a long passphrase 2017")
    from refugium.web.accounts import services as accounts

    accounts.grant("rita", "casework", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    browsers = {}
    for name, passphrase in (
        ("admin", factories.ADMIN_PASSPHRASE),
        ("rita", "rita has a long passphrase 2017"),
    ):
        browsers[name] = Client()
        browsers[name].post(
            "/accounts/login/",
            {
                "username": name,
                "passphrase": passphrase,
                "code": factories.totp_code(org.totp[name]),
            },
        )
    admin, rita = browsers["admin"], browsers["rita"]
    _case_with_owner(admin, rita)
    assert _fill(rita, route="ROUTE-MARK").status_code == 302  # type: ignore[attr-defined]
    rita.post("/casework/C-0001/location/reveal/", {"reason": REASON, "minutes": 5})
    shown = _text(_enrol(admin))
    code = shown.split('id="checkin-code"><strong>')[1].split("<")[0]
    due = (timezone.localdate() + timedelta(days=1)).isoformat()
    admin.post(
        "/casework/C-0001/tasks/add/", {"title": "TASK-MARK", "due_on": due, "owner": "admin"}
    )
    admin.post("/casework/C-0001/notes/add/", {"text": "NOTE-BODY-MARK"})
    admin.post(
        "/casework/C-0001/costs/add/",
        {
            "spent_on": timezone.localdate().isoformat(),
            "category": "other",
            "amount": "3",
            "currency": "EUR",
            "description": "COST-BODY-MARK",
        },
    )
    assert "PAGE-ADDRESS-MARK" in _text(rita.get("/casework/C-0001/"))
    seized = seized_bytes()
    assert b"C-0001" in seized
    secrets = [
        "PAGE-ADDRESS-MARK",
        "Ленина",
        "ROUTE-MARK",
        "REVEAL-REASON-MARK",
        "TASK-MARK",
        "NOTE-BODY-MARK",
        "COST-BODY-MARK",
        NORMAL,
        DURESS,
        code.replace(" ", "").replace("-", ""),
    ]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []


def test_moving_on_destroys_the_compartment_and_shows_its_tombstone(
    admin: Client, rita: Client
) -> None:
    _case_with_owner(admin, rita)
    for signal, channel in (("referee", "signal: zarema"), ("callback", "+7 928 000 11 22")):
        admin.post("/casework/C-0001/attest/", {"signal": signal, "channel": channel})
    assert admin.post("/casework/C-0001/stage/", {"stage": "safe"}).status_code == 302
    assert _fill(rita).status_code == 302  # type: ignore[attr-defined]
    rita.post("/casework/C-0001/location/reveal/", {"reason": REASON, "minutes": 5})
    assert "PAGE-ADDRESS-MARK" in _text(rita.get("/casework/C-0001/"))
    assert admin.post("/casework/C-0001/stage/", {"stage": "exit"}).status_code == 302
    page = _text(rita.get("/casework/C-0001/"))
    assert "PAGE-ADDRESS-MARK" not in page
    assert "relocated / Kabardino-Balkaria (safe)" in page
    assert LocationCompartment.objects.get().destroyed_on is not None


def test_an_open_flag_or_another_assignee_is_refused_beside_the_form(
    admin: Client, rita: Client
) -> None:
    _case_with_owner(admin, rita)
    _fill(rita)
    assert 'id="reveal-form"' not in _text(admin.get("/casework/C-0001/"))  # not the owner
    admin.post("/casework/C-0001/flag/", {"reason": "urgency", "note": "pushes hard"})
    refused = rita.post("/casework/C-0001/location/reveal/", {"reason": REASON, "minutes": 5})
    assert refused.status_code == 400
    assert "C-0001 has 1 open provocation flag(s): no reveal" in _text(refused)
    assert "PAGE-ADDRESS-MARK" not in _text(refused)
    assert LocationReveal.objects.count() == 0
    handed = admin.post("/casework/C-0001/location/hand-over/", {"user": "admin"})
    assert handed.status_code == 400
    assert "only the logistics owner of C-0001 (rita) holds its location" in _text(handed)
    assert Assignment.objects.get(user__username="rita").role == "logistics"
