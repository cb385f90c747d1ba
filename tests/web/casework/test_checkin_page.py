"""The person's check-in page (issue 9, "Check-ins"): one reply for every answer and code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client

import refugium
from refugium.web.casework import cases, checkin_store, services
from refugium.web.casework.models import CheckinAlert, CheckinEntry
from tests.web.test_headers_everywhere import check

NORMAL = "Солнечный Ветер"
DURESS = "Тихая Гавань"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def code(cw: services.Workspace) -> str:
    case = cases.open_case(cw, risk="high").case
    return checkin_store.enrol(
        cw, case, timedelta(hours=1), timedelta(minutes=15), NORMAL, DURESS
    ).code


def _post(code: str, answer: str, path: str = "/checkin/"):  # type: ignore[no-untyped-def]
    """A fresh phone's browser: the form, then the answer with its token (CSRF enforced)."""
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(path)
    assert form.status_code == 200
    token = TOKEN.search(form.content.decode())
    assert token is not None
    return browser.post(
        path, {"csrfmiddlewaretoken": token.group(1), "code": code, "answer": answer}
    )


def _headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    headers = dict(response.headers)
    assert headers.pop("Expires").endswith(" GMT")
    return headers


def test_the_form_is_a_reporter_page_without_scripts(org: object) -> None:
    response = Client().get("/checkin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post" action="/checkin/"' in html
    assert 'name="code"' in html
    assert 'name="answer"' in html
    assert "<script" not in html
    check(response, reporter=True)


def test_the_form_speaks_russian_under_ru(org: object) -> None:
    response = Client().get("/ru/checkin/")
    assert response.status_code == 200
    assert '<html lang="ru">' in response.content.decode()
    assert 'action="/ru/checkin/"' in response.content.decode()


def test_every_string_of_the_page_has_a_russian_translation(tmp_path: Path) -> None:
    # As tests/web/intake/test_i18n.py does for the reporter's pages: extract the strings of
    # the check-in view and template afresh and compare them with the catalogue.
    web = Path(refugium.__file__).parent / "web" / "casework"
    work = tmp_path / "extract"
    (work / "templates" / "casework").mkdir(parents=True)
    shutil.copy(web / "checkin_views.py", work / "checkin_views.py")
    shutil.copy(web / "templates" / "casework" / "checkin.html", work / "templates" / "casework")
    (work / "locale").mkdir()
    subprocess.run(
        [str(Path(sys.executable).parent / "django-admin"), "makemessages", "-l", "ru", "-v", "0"],
        cwd=work,
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    extracted = work / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    assert 'msgid "The code is 16 digits."' in extracted.read_text()
    catalogue = Path(refugium.__file__).parent / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgcmp", str(catalogue), str(extracted)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_post_without_the_form_token_is_refused(code: str) -> None:
    response = Client(enforce_csrf_checks=True).post("/checkin/", {"code": code, "answer": NORMAL})
    assert response.status_code == 403
    assert CheckinEntry.objects.count() == 0


def test_the_reply_is_the_same_bytes_for_normal_duress_wrong_and_unknown(code: str) -> None:
    replies = {
        "normal": _post(code, NORMAL),
        "duress": _post(code, DURESS),
        "wrong": _post(code, "Неверный ответ"),
        "unknown code": _post("1111 2222 3333 4444", NORMAL),
    }
    first = replies["normal"]
    assert first.status_code == 200
    assert "Received" in first.content.decode()
    for name, reply in replies.items():
        assert reply.status_code == 200, name
        assert reply.content == first.content, name
        # Every header alike but never_cache's Expires, which is the clock's second.
        assert _headers(reply) == _headers(first), name
        assert reply.cookies.keys() == first.cookies.keys(), name
        check(reply, reporter=True)
    # What the page hides, the server acted on: two check-ins counted, one did not, one code
    # was unknown; the duress answer raised the top tier, the wrong one tier 1.
    counts = sorted(CheckinEntry.objects.values_list("counts", flat=True))
    assert counts == [False, True, True]
    alerts = sorted(CheckinAlert.objects.values_list("reason", "tier"))
    assert alerts == [("duress", 3), ("unknown", 1)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "12", "answer": NORMAL}, "The code is 16 digits."),
        ({"code": "1111 2222 3333 444x", "answer": NORMAL}, "The code is 16 digits."),
        ({"code": "1111 2222 3333 4444", "answer": ""}, "This field is required."),
        ({"code": "1111 2222 3333 4444", "answer": "?!"}, "Type your answer"),
        ({"code": "1111 2222 3333 4444", "answer": "я" * 5000}, "at most 800 characters"),
        ({"code": "9" * 5000, "answer": NORMAL}, "at most 64 characters"),
        ({}, "This field is required."),
    ],
)
def test_malformed_input_gets_a_form_error_not_a_500(
    code: str, fields: dict[str, str], message: str
) -> None:
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    token = TOKEN.search(browser.get("/checkin/").content.decode())
    assert token is not None
    response = browser.post("/checkin/", {"csrfmiddlewaretoken": token.group(1), **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert CheckinEntry.objects.count() == 0


def test_a_flood_is_refused_before_any_check(
    code: str, settings: object, argon2_runs: list[int]
) -> None:
    settings.REFUGIUM_CHECKINS_PER_MINUTE = 1  # type: ignore[attr-defined]
    assert _post(code, NORMAL).status_code == 200
    refused = _post(code, NORMAL)
    assert refused.status_code == 429
    assert "try again in a minute" in refused.content.decode()
    assert CheckinEntry.objects.count() == 1
    assert len(argon2_runs) == 1


def test_get_and_post_only(org: object) -> None:
    assert Client().put("/checkin/").status_code == 405
