"""The do-not-disclose list, referrals, the partners page and the ledger page (issue 9),
through the test client signed in with the real form.

What they must hold: each form's happy path and its bad input as a form error (400, nothing
written); a refusal (``Disclosure``) shown as the form's error; the one-time link shown once
and never again; the coordinators' pages refuse everyone else with the 404; a case the user
is not assigned to answers as a missing one.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from refugium.crypto import Identity, decrypt
from refugium.web.casework.models import DoNotDisclose, Partner, Referral, ReferralFile
from tests.web.casework.test_views import _member, _new, _text
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db

RELATIVE = "Тётя Зарема (DND-NAME-MARK)"


@pytest.fixture
def admin(signed_in) -> Client:  # type: ignore[no-untyped-def]
    return signed_in()


@pytest.fixture
def omar(org, signed_in) -> Client:  # type: ignore[no-untyped-def]
    _member(org, "omar")
    return signed_in("omar")


@pytest.fixture
def key() -> Identity:
    return Identity.generate()


def _partner(
    admin: Client, key: Identity, name: str = "North Shelter", contacts: str = ""
) -> object:
    return admin.post(
        "/casework/partners/",
        {"name": name, "recipient": str(key.recipient), "contacts": contacts},
    )


def _refer(admin: Client, **values: object) -> object:
    data: dict[str, object] = {
        "partner": "P-0001",
        "share": ["risk", "needs", "contact"],
        "contact": 1,
        "consent_how": "call",
        "consent_on": timezone.localdate().isoformat(),
        "consent_note": "agreed to the shelter only",
    }
    data.update(values)
    return admin.post("/casework/C-0001/referrals/add/", data)


def test_the_do_not_disclose_list_is_added_to_listed_and_removed(admin: Client) -> None:
    _new(admin)
    added = admin.post(
        "/casework/C-0001/do-not-disclose/add/",
        {"kind": "relative", "name": RELATIVE, "contacts": "+7 928 111 22 33"},
    )
    assert added.status_code == 302
    assert added["Location"] == "/casework/C-0001/#disclosure"
    page = _text(admin.get("/casework/C-0001/"))
    assert "DND-NAME-MARK" in page
    assert "<strong>Relative</strong>" in page
    assert "+7 928 111 22 33 (phone)" in page
    number = DoNotDisclose.objects.get().pk
    empty = admin.post("/casework/C-0001/do-not-disclose/add/", {"kind": "relative"})
    assert empty.status_code == 400
    assert "a do-not-disclose entry needs a name or a contact" in _text(empty)
    bad_kind = admin.post("/casework/C-0001/do-not-disclose/add/", {"kind": "x", "name": "n"})
    assert bad_kind.status_code == 400
    assert DoNotDisclose.objects.count() == 1
    assert admin.post(f"/casework/C-0001/do-not-disclose/{number}/remove/").status_code == 302
    assert DoNotDisclose.objects.count() == 0


def test_a_referral_shows_its_link_once_and_opens_for_the_partner(
    admin: Client, key: Identity
) -> None:
    _new(admin, contacts="+7 (928) 555-12-34", name="Аслан")
    assert _partner(admin, key).status_code == 302  # type: ignore[attr-defined]
    made = _refer(admin)
    assert made.status_code == 200  # type: ignore[attr-defined]
    text = _text(made)
    token = text.split('<code id="referral-token">')[1].split("<")[0]
    assert f"/referrals/{token}/" in text
    assert Referral.objects.get().state == "waiting"
    case_page = _text(admin.get("/casework/C-0001/"))
    assert token not in case_page
    assert "R-0001" in case_page
    assert "waiting" in case_page
    assert "On a call, " in case_page
    partner = Client()
    assert partner.get(f"/referrals/{token}/").status_code == 200
    fetched = partner.post(f"/referrals/{token}/")
    assert fetched.status_code == 200
    opened = decrypt(b"".join(fetched.streaming_content), [key])  # type: ignore[attr-defined]
    assert b"+7 (928) 555-12-34" in opened
    assert "Аслан".encode() not in opened  # the name was not chosen
    assert partner.get(f"/referrals/{token}/").status_code == 404  # once


def test_a_referral_reaching_a_do_not_disclose_party_is_refused_on_the_form(
    admin: Client, key: Identity
) -> None:
    _new(admin)
    _partner(admin, key, contacts="+7 928 111 22 33")
    admin.post(
        "/casework/C-0001/do-not-disclose/add/", {"kind": "relative", "contacts": "89281112233"}
    )
    refused = _refer(admin, share=["risk"])
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert 'id="refer-form"' in _text(refused)
    assert "do-not-disclose" in _text(refused)
    assert Referral.objects.count() == ReferralFile.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"share": []}, "This field is required."),
        ({"consent_on": "2999-01-01"}, "consent cannot be recorded for a day still to come"),
        ({"expires_on": "2999-01-01"}, "a referral expires within 30 days"),
        ({"contact": 9}, "the case has no contact 9"),
        ({"partner": "P-0042"}, "Select a valid choice."),
    ],
)
def test_bad_referrals_are_form_errors(
    admin: Client, key: Identity, values: dict[str, object], error: str
) -> None:
    _new(admin, contacts="+7 (928) 555-12-34")
    _partner(admin, key)
    refused = _refer(admin, **values)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert error in _text(refused)
    assert Referral.objects.count() == 0


def test_a_waiting_referral_is_revoked_from_the_case_page(admin: Client, key: Identity) -> None:
    _new(admin, contacts="+7 (928) 555-12-34")
    _partner(admin, key)
    text = _text(_refer(admin))
    token = text.split('<code id="referral-token">')[1].split("<")[0]
    number = Referral.objects.get().pk
    assert admin.post(f"/casework/C-0001/referrals/{number}/revoke/").status_code == 302
    assert Referral.objects.get().state == "revoked"
    assert ReferralFile.objects.count() == 0
    assert Client().get(f"/referrals/{token}/").status_code == 404
    assert admin.post(f"/casework/C-0001/referrals/{number}/revoke/").status_code == 404


def test_partners_are_added_listed_and_retired_by_a_coordinator(
    admin: Client, key: Identity
) -> None:
    bad = admin.post("/casework/partners/", {"name": "N", "recipient": "age1notakey"})
    assert bad.status_code == 400
    assert "not an age recipient" in _text(bad)
    no_name = admin.post("/casework/partners/", {"name": "", "recipient": str(key.recipient)})
    assert no_name.status_code == 400
    assert Partner.objects.count() == 0
    assert _partner(admin, key, contacts="north@shelter.example").status_code == 302  # type: ignore[attr-defined]
    page = _text(admin.get("/casework/partners/"))
    assert "North Shelter" in page
    assert "north@shelter.example" in page
    assert admin.post("/casework/partners/P-0001/retire/").status_code == 302
    assert not Partner.objects.get().active
    assert admin.post("/casework/partners/P-0042/retire/").status_code == 404


def test_the_ledger_page_and_its_csv(admin: Client) -> None:
    _new(admin)
    today = timezone.localdate()
    for amount in ("10", "2.50"):
        admin.post(
            "/casework/C-0001/costs/add/",
            {
                "spent_on": today.isoformat(),
                "category": "tickets",
                "amount": amount,
                "currency": "EUR",
            },
        )
    page = admin.get(f"/casework/ledger/?year={today.year}")
    assert page.status_code == 200
    text = _text(page)
    assert today.strftime("%Y-%m") in text
    assert "12.50" in text
    assert ("admin", "casework.ledger_report", "ledger", str(today.year)) in audit_entries()
    download = admin.get(f"/casework/ledger/costs.csv?year={today.year}")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert (
        download["Content-Disposition"] == f'attachment; filename="casework-costs-{today.year}.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == ["month", "currency", "category", "entries", "amount", "amount_minor"]
    assert rows[-1] == [today.strftime("%Y-%m"), "EUR", "total", "2", "12.50", "1250"]
    assert admin.get("/casework/ledger/?year=12").status_code == 400
    assert admin.get("/casework/ledger/costs.csv?year=abc").status_code == 400


def test_the_coordinators_pages_refuse_everyone_else(
    admin: Client, omar: Client, key: Identity
) -> None:
    _partner(admin, key)
    for address in ("/casework/partners/", "/casework/ledger/", "/casework/ledger/costs.csv"):
        refused = omar.get(address)
        assert refused.status_code == 404, address
    assert (
        omar.post("/casework/partners/", {"name": "N", "recipient": str(key.recipient)}).status_code
        == 404
    )
    assert omar.post("/casework/partners/P-0001/retire/").status_code == 404
    assert Partner.objects.count() == 1
    assert Partner.objects.get().active
    assert "/casework/partners/" not in _text(omar.get("/casework/"))


def test_an_unassigned_member_gets_the_404_of_a_missing_case(
    admin: Client, omar: Client, key: Identity
) -> None:
    _new(admin, contacts="+7 (928) 555-12-34")
    _partner(admin, key)
    _refer(admin)
    admin.post("/casework/C-0001/do-not-disclose/add/", {"kind": "relative", "name": "x"})
    for action, data in (
        ("do-not-disclose/add/", {"kind": "relative", "name": "n"}),
        ("do-not-disclose/1/remove/", {}),
        ("referrals/add/", {"partner": "P-0001", "share": ["risk"], "contact": 1,
                            "consent_how": "call", "consent_on": "2017-01-01"}),
        ("referrals/1/revoke/", {}),
    ):  # fmt: skip
        posted = omar.post(f"/casework/C-0001/{action}", data)
        absent = omar.post(f"/casework/C-0099/{action}", data)
        assert (posted.status_code, absent.status_code) == (404, 404), action
        assert posted.content == absent.content, action
    assert DoNotDisclose.objects.count() == 1
    assert Referral.objects.get().state == "waiting"
