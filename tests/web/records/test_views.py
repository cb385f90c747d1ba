"""The researchers' pages of the documentation database, through Django's test client."""

from __future__ import annotations

import re

import pytest

from refugium.web.accounts import services as accounts
from refugium.web.records.models import Act, Event, Person
from tests import factories
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db


def post(browser, url, data):  # type: ignore[no-untyped-def]
    return browser.post(url, data)


def test_create_link_and_read_an_event_an_act_and_a_person(signed_in) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    made = post(
        browser,
        "/records/events/new/",
        {
            "title": "Detentions in Argun",
            "when": "late February 2017",
            "region": "ru-ce",
            "status": "draft",
        },
    )
    assert made.status_code == 302
    event = Event.objects.get()
    assert made["Location"] == f"/records/events/{event.code}/"
    post(browser, "/records/persons/new/", {"full_name": "Зелимхан Хасуев", "sex": "male"})
    person = Person.objects.get()
    made = post(
        browser,
        "/records/acts/new/",
        {
            "event": event.code,
            "victim": person.code,
            "act_type": "arrest",
            "when": "26 February 2017",
            "methods": [],
        },
    )
    assert made.status_code == 302, made.content.decode()
    act = Act.objects.get()
    assert (act.event, act.victim, act.act_type.key) == (event, person, "arrest")

    page = browser.get(f"/records/events/{event.code}/").content.decode()
    assert "Detentions in Argun" in page
    assert act.code in page
    # The person's page names no one until asked, and asking is audited.
    page = browser.get(f"/records/persons/{person.code}/").content.decode()
    assert "Хасуев" not in page
    assert ("admin", "records.read", "person", person.code) not in audit_entries()
    page = browser.get(f"/records/persons/{person.code}/identity/").content.decode()
    assert "Зелимхан Хасуев" in page
    assert ("admin", "records.read", "person", person.code) in audit_entries()


def test_a_bad_value_returns_the_form_with_the_error_and_saves_nothing(signed_in) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    page = post(
        browser, "/records/events/new/", {"title": "X", "when": "someday", "status": "draft"}
    )
    assert page.status_code == 400
    assert "cannot read this date" in page.content.decode()
    assert Event.objects.count() == 0
    page = post(browser, "/records/acts/new/", {"event": "E-9999", "victim": "P-1"})
    assert page.status_code == 400
    assert "no event with that code" in page.content.decode()


def test_search_timeline_history_and_filters(signed_in) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    post(
        browser,
        "/records/events/new/",
        {"title": "Wave 1", "when": "March 2017", "status": "draft"},
    )
    post(browser, "/records/events/new/", {"title": "Wave 2", "when": "2019", "status": "draft"})
    first, second = Event.objects.order_by("id")
    post(browser, "/records/persons/new/", {"full_name": "Ruslan Magomadov"})
    person = Person.objects.get()
    for event, when in ((second, "January 2019"), (first, "12 March 2017")):
        post(
            browser,
            "/records/acts/new/",
            {"event": event.code, "victim": person.code, "act_type": "detention", "when": when},
        )
    found = browser.get("/records/persons/", {"q": "Магомадов"}).content.decode()
    assert person.code in found
    timeline = browser.get(f"/records/persons/{person.code}/timeline/").content.decode()
    first_act, second_act = (a.code for a in Act.objects.order_by("id"))
    assert timeline.index(second_act) < timeline.index(first_act)  # 2017 before 2019
    filtered = browser.get("/records/events/", {"month_from": "2019-01"}).content.decode()
    assert second.code in filtered
    assert first.code not in filtered
    edit = post(
        browser,
        f"/records/events/{first.code}/edit/",
        {"title": "Wave 1 (Argun)", "when": "March 2017", "status": "reviewed"},
    )
    assert edit.status_code == 302
    history = browser.get(f"/records/events/{first.code}/history/").content.decode()
    assert "Wave 1 (Argun)" in history
    assert re.search(r"Wave 1</td>\s*<td>Wave 1 \(Argun\)", history)


def test_other_users_get_the_same_404_as_for_a_missing_record(org, signed_in) -> None:  # type: ignore[no-untyped-def]
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    admin = signed_in()
    post(admin, "/records/persons/new/", {"full_name": "A B"})
    code = Person.objects.get().code
    ivan = signed_in("ivan")
    for url in (
        "/records/",
        f"/records/persons/{code}/",
        "/records/persons/P-9999/",
        "/records/persons/new/",
    ):
        assert ivan.get(url).status_code == 404
    assert admin.get("/records/persons/P-9999/").status_code == 404
    assert admin.get("/records/nonsense/").status_code == 404
