"""No state changes on GET (reliability.md T15): a link, an image or a prefetch can't act.

Each view that changes state is named here with the methods it accepts; a GET to it must
be refused (405) whoever asks, and a view not named here must change nothing on GET — the
test below reads every table's row counts before and after a GET to every URL.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from django.urls import get_resolver

from tests.web.test_headers_everywhere import _patterns, _url

POST_ONLY = {
    "accounts:logout",
    "intake:followup_send",
    "intake:followup_logout",
    "desk:reply",
    "desk:status",
}


@pytest.fixture
def code(org) -> str:  # type: ignore[no-untyped-def]
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Submission

    submissions.create(
        text="x", hints={}, uploads=[], language="en", form_token=flood.issue_form_token()
    )
    return str(Submission.objects.get().code)


def _counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


@pytest.mark.parametrize("signed_in", [False, True])
def test_post_only_views_refuse_get(client: Client, login, code, signed_in):  # type: ignore[no-untyped-def]
    if signed_in:
        assert login().status_code == 302
    for name, pattern in _patterns(get_resolver()):
        if name in POST_ONLY:
            response = client.get(_url(name, pattern, code))
            expected = {405} if signed_in or not name.startswith("desk:") else {302}
            assert response.status_code in expected, name


def test_get_changes_nothing_anywhere(client: Client, login, code, data_dir):  # type: ignore[no-untyped-def]
    from refugium.web.intake.models import Submission

    assert login().status_code == 302
    Submission.objects.update(unread=False)  # reading is the one GET effect: tested elsewhere
    before = _counts()
    audit_before = data_dir.audit_log.read_bytes()
    for name, pattern in _patterns(get_resolver()):
        if name in {"desk:submission", "desk:download", "casework:ledger", "casework:ledger_csv"}:
            continue  # reading writes an audit entry by design (issues 4 and 9)
        client.get(_url(name, pattern, code))
    assert _counts() == before
    assert data_dir.audit_log.read_bytes() == audit_before
    assert client.get("/desk/").status_code == 200  # still signed in: GET ended nothing
