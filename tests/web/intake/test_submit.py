"""Submitting a report: the form, the receipt, what is stored and what is not (issue 4)."""

from __future__ import annotations

import hashlib
import logging
import re
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from refugium.web.intake import submissions
from refugium.web.intake.models import Attachment, Message, Submission
from tests.web.intake.helpers import desk_identities, read_message, receipt_of

SUBMIT = "/submit/"


def _post(client, token, **extra):  # type: ignore[no-untyped-def]
    data = {"text": "They took my brother on Tuesday."}
    data.update(extra)
    return client.post(f"{SUBMIT}?t={token}", data, follow=True)


def test_root_goes_to_the_form(reporter):
    response = reporter.get("/")
    assert response.status_code == 302
    assert response["Location"] == SUBMIT


def test_form_page(reporter):
    response = reporter.get(SUBMIT)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'action="/submit/\?t=[^"]+"', html)
    assert 'enctype="multipart/form-data"' in html
    assert "Quick exit" in html
    assert 'href="/ru/submit/"' in html
    assert "<script" not in html.lower()
    assert response["Referrer-Policy"] == "no-referrer"


def test_russian_form_page(reporter):
    response = reporter.get("/ru/submit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Расскажите, что случилось" in html
    assert "Быстрый выход" in html
    assert "Чечня" in html  # the hints vocabulary in Russian too
    assert 'href="/submit/"' in html


def test_tor_browser_accept_language_does_not_switch_language(reporter):
    response = reporter.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="en">' in response.content.decode()


def test_submit_text_hints_and_two_files(reporter, token):
    photo = SimpleUploadedFile("IMG_2017.jpg", b"\xff\xd8photo bytes" * 1000, "image/jpeg")
    audio = SimpleUploadedFile("threat.ogg", b"OggS audio" * 500, "audio/ogg")
    response = _post(
        reporter, token, when="month", where="chechnya", harm=["detention", "torture"],
        files=[photo, audio],
    )
    assert response.status_code == 200
    receipt = receipt_of(response)
    assert len(receipt.split(" ")) == 10
    assert receipt == " ".join(receipt.split())  # single spaces

    submission = Submission.objects.get()
    assert submission.status == "new"
    assert submission.unread is True
    message = Message.objects.get()
    assert read_message(message) == {
        "text": "They took my brother on Tuesday.",
        "hints": {"when": "month", "where": "chechnya", "harm": ["detention", "torture"]},
    }
    attachments = list(Attachment.objects.order_by("id"))
    assert [a.size for a in attachments] == [13000, 5000]
    store = submissions.store()
    for attachment, original in zip(attachments, (photo, audio), strict=True):
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
        meta = submissions.open_json(attachment.meta, desk_identities())
        original.seek(0)
        content = original.read()
        assert meta == {
            "name": original.name,
            "sha256": hashlib.sha256(content).hexdigest(),
            "type": original.content_type,
        }
        plaintext = b"".join(store.iter_plaintext(attachment.stored_name, desk_identities()))
        assert plaintext == content


def test_the_receipt_is_kept_nowhere(reporter, token, caplog, data_dir):
    caplog.set_level(logging.DEBUG)
    response = _post(reporter, token)
    receipt = receipt_of(response)
    assert receipt not in str(response.cookies)
    assert "receipt" not in response.get("Location", "")
    assert receipt not in caplog.text
    for path in data_dir.root.rglob("*"):
        if path.is_file():
            assert receipt.encode() not in path.read_bytes(), path.name


def test_russian_pages_give_russian_receipts(reporter, token):
    response = reporter.post(f"/ru/submit/?t={token}", {"text": "Текст"}, follow=True)
    assert response.status_code == 200
    receipt = receipt_of(response)
    assert re.fullmatch(r"[а-я]+( [а-я]+){9}", receipt)


def test_empty_report_is_refused_and_nothing_stored(reporter, token):
    response = _post(reporter, token, text="  ")
    assert response.status_code == 400
    assert b"Write what happened" in response.content
    assert Submission.objects.count() == 0


def test_invalid_form_discards_staged_files(reporter, token, data_dir):
    bad = SimpleUploadedFile("x.bin", b"x" * 5000)
    response = _post(reporter, token, text="", when="not-a-choice", files=[bad])
    assert response.status_code == 400
    assert b"choose them again" in response.content
    assert list((data_dir.root / "store" / "tmp").iterdir()) == []
    assert list((data_dir.root / "store" / "files").iterdir()) == []


def test_stored_date_is_a_day_and_nothing_about_the_browser(reporter, token):
    reporter.post(
        f"{SUBMIT}?t={token}",
        {"text": "canary text"},
        HTTP_USER_AGENT="CanaryAgent/9",
        HTTP_REFERER="https://canary.example/",
        REMOTE_ADDR="198.51.100.23",
    )
    submission = Submission.objects.get()
    assert type(submission.received_on).__name__ == "date"
    field_types = {f.get_internal_type() for f in Submission._meta.get_fields() if f.concrete}
    assert "DateTimeField" not in field_types
    assert "GenericIPAddressField" not in field_types


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a\x00b.jpg", "evil\u202egpj.exe", "x" * 300, "CON", "-rf"],
)
def test_hostile_file_names_never_reach_the_disk(reporter, token, data_dir, name):
    upload = SimpleUploadedFile(name, b"content", "text/plain")
    response = _post(reporter, token, files=[upload])
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    for path in (data_dir.root / "store").rglob("*"):
        assert re.fullmatch(r"[0-9a-f]{32}|files|tmp", path.name), path.name


def test_csrf_token_is_still_required_on_reporter_pages(org, token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{SUBMIT}?t={token}", {"text": "x"})
    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_origin_null_with_a_valid_token_is_accepted_on_reporter_pages(org, token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.get(SUBMIT)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    response = strict.post(
        f"{SUBMIT}?t={token}",
        {"text": "x", "csrfmiddlewaretoken": csrf.group(1)},  # type: ignore[union-attr]
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 303


def test_origin_null_is_still_refused_on_researcher_pages(org):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    response = strict.post(
        "/accounts/login/",
        {"username": "admin", "passphrase": "x", "code": "1", "csrfmiddlewaretoken": csrf.group(1)},  # type: ignore[union-attr]
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 403


def test_settings_use_only_the_encrypting_upload_handler():
    assert settings.FILE_UPLOAD_HANDLERS == [
        "refugium.web.intake.upload_handler.EncryptingUploadHandler"
    ]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_body_that_ends_early_stores_nothing(reporter, token, data_dir, cut):
    import io

    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    upload = SimpleUploadedFile("photo.jpg", b"p" * 50_000, "image/jpeg")
    body = encode_multipart(BOUNDARY, {"text": "cut short", "files": [upload]})
    partial = body[: int(len(body) * cut)]
    response = reporter.generic(
        "POST",
        f"{SUBMIT}?t={token}",
        b"",
        CONTENT_TYPE=MULTIPART_CONTENT,  # generic() sets it only for a non-empty data
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(partial)},
    )
    assert response.status_code == 400
    assert Submission.objects.count() == 0
    assert list((data_dir.root / "store" / "tmp").iterdir()) == []
    assert list((data_dir.root / "store" / "files").iterdir()) == []


def test_a_whole_body_sent_the_same_way_is_stored(reporter, token):
    import io

    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    body = encode_multipart(BOUNDARY, {"text": "whole"})
    response = reporter.generic(
        "POST",
        f"{SUBMIT}?t={token}",
        b"",
        CONTENT_TYPE=MULTIPART_CONTENT,  # generic() sets it only for a non-empty data
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert response.status_code == 303
    assert Submission.objects.count() == 1


def test_the_receipt_is_shown_once_on_a_page_of_its_own(reporter, token):
    sent = reporter.post(f"{SUBMIT}?t={token}", {"text": "once"})
    # See Other: no history entry is the response to the POST, whose body browsers keep
    # in their session-restore files.
    assert sent.status_code == 303
    assert sent["Location"] == "/submit/received/"
    sealed = sent.cookies[settings.REFUGIUM_RECEIPT_COOKIE]
    assert sealed["max-age"] == ""
    assert sealed["httponly"] is True
    shown = reporter.get("/submit/received/")
    assert shown.status_code == 200
    receipt = receipt_of(shown)
    for word in receipt.split():
        assert word not in sealed.value
    assert shown.cookies[settings.REFUGIUM_RECEIPT_COOKIE].value == ""  # deleted
    again = reporter.get("/submit/received/")
    assert again.status_code == 410
    assert 'id="receipt"' not in again.content.decode()
    assert b"shown only once" in again.content


def test_an_expired_or_forged_receipt_cookie_shows_nothing(reporter, token):
    import time_machine

    sent = reporter.post(f"{SUBMIT}?t={token}", {"text": "late"})
    assert sent.status_code == 303
    with time_machine.travel(time.time() + 121, tick=False):
        assert reporter.get("/submit/received/").status_code == 410
    reporter.cookies[settings.REFUGIUM_RECEIPT_COOKIE] = "1.AAAAforged"
    assert reporter.get("/submit/received/").status_code == 410
