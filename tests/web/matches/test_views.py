"""The pages for possible duplicates, through Django's test client."""

from __future__ import annotations

import pytest
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.matches import services
from refugium.web.matches.models import PersonMatch
from tests import factories
from tests.web.desk.conftest import audit_entries

pytestmark = pytest.mark.django_db


def test_find_review_and_confirm_a_pair(signed_in, people) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    page = browser.get("/duplicates/")
    assert page.status_code == 200
    assert "No pairs to review." in page.content.decode()
    assert "/duplicates/" in browser.get("/records/persons/").content.decode()

    found = browser.post("/duplicates/find/", {"threshold": "0.9"})
    assert found.status_code == 302
    assert found["Location"].startswith("/duplicates/?found=")
    match = PersonMatch.objects.get(person_a=people["first"], person_b=people["second"])
    listing = browser.get(found["Location"]).content.decode()
    assert f"/duplicates/{match.pk}/" in listing
    assert "P-0060" in listing
    assert "Хасуев" not in listing
    assert "Khasuev" not in listing

    pair = browser.get(f"/duplicates/{match.pk}/").content.decode()
    assert "Хасуев" in pair
    assert "Khasuev" in pair
    entries = audit_entries()
    assert ("admin", "records.compare", "person", "P-0001") in entries
    assert ("admin", "records.compare", "person", "P-0060") in entries

    confirmed = browser.post(f"/duplicates/{match.pk}/confirm/")
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/records/persons/P-0001/"
    merged_page = browser.get("/records/persons/P-0060/").content.decode()
    assert "Merged into" in merged_page
    assert 'href="/records/persons/P-0001/"' in merged_page
    # Deciding twice is refused with a page that says why, not an error.
    again = browser.post(f"/duplicates/{match.pk}/reject/")
    assert again.status_code == 409
    assert "already decided" in again.content.decode()


def test_reject_redirects_to_the_list(signed_in, ws, people) -> None:  # type: ignore[no-untyped-def]
    services.find_candidates(ws)
    match = PersonMatch.objects.get(person_a=people["first"], person_b=people["second"])
    browser = signed_in()
    rejected = browser.post(f"/duplicates/{match.pk}/reject/")
    assert rejected.status_code == 302
    assert rejected["Location"] == "/duplicates/"
    match.refresh_from_db()
    assert match.status == "rejected"


def test_a_search_the_model_cannot_run_says_why(signed_in) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    page = browser.post("/duplicates/find/", {"threshold": "0.9"})
    assert page.status_code == 409
    assert "at least two persons" in page.content.decode()
    assert browser.post("/duplicates/find/", {"threshold": "7"}).status_code == 400


def test_decisions_are_post_only_with_csrf(org, signed_in, ws, people) -> None:  # type: ignore[no-untyped-def]
    services.find_candidates(ws)
    match = PersonMatch.objects.get(person_a=people["first"], person_b=people["second"])
    browser = signed_in()
    assert browser.get(f"/duplicates/{match.pk}/confirm/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post(f"/duplicates/{match.pk}/confirm/").status_code == 403
    match.refresh_from_db()
    assert match.status == "open"


def test_others_get_the_same_404_as_for_a_missing_pair(org, signed_in, ws, people) -> None:  # type: ignore[no-untyped-def]
    services.find_candidates(ws)
    match = PersonMatch.objects.get(person_a=people["first"], person_b=people["second"])
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    ivan = signed_in("ivan")
    for url in ("/duplicates/", f"/duplicates/{match.pk}/"):
        assert ivan.get(url).status_code == 404
    for url in ("/duplicates/find/", f"/duplicates/{match.pk}/confirm/"):
        assert ivan.post(url, {"threshold": "0.9"}).status_code == 404
    # Signed out (no unlocked keys at all): the sign-in page, never the pair.
    anonymous = Client().get(f"/duplicates/{match.pk}/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert signed_in().get("/duplicates/99999/").status_code == 404
    match.refresh_from_db()
    assert match.status == "open"
    assert not [e for e in audit_entries() if e[0] == "ivan" and e[1].startswith("records.")]
