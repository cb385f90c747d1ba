"""Following up with the receipt: replies, more text and files, and receipts that open
nothing looking exactly like real ones with nothing new (issue 4, T16)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from refugium.crypto import Receipt, Recipient
from refugium.web.intake import submissions
from refugium.web.intake.models import Attachment, Message, Submission
from tests.web.intake.helpers import read_message, receipt_of

FOLLOWUP = "/followup/"


@pytest.fixture
def submitted(reporter, token) -> str:  # type: ignore[no-untyped-def]
    response = reporter.post(f"/submit/?t={token}", {"text": "first report"}, follow=True)
    return receipt_of(response)


def _reply(text: str) -> None:
    submission = Submission.objects.get()
    desk = submissions.intake_desk()
    Message.objects.create(
        submission=submission,
        author=Message.Author.DESK,
        sent_on=submission.received_on,
        body=submissions.seal_json(
            {"text": text},
            [submissions.desk_recipient(desk), Recipient.parse(submission.reporter_recipient)],
        ),
    )


def _open(client: Client, receipt: str):  # type: ignore[no-untyped-def]
    response = client.post(FOLLOWUP, {"receipt": receipt})
    assert response.status_code == 302
    assert response["Location"] == FOLLOWUP
    return client.get(FOLLOWUP)


def _visible(html: str) -> str:
    """The page without the CSRF token, which differs per request by design."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_receipt_form(reporter):
    response = reporter.get(FOLLOWUP)
    assert response.status_code == 200
    assert b'name="receipt"' in response.content


def test_reporter_reads_a_reply(submitted):
    _reply("We read your report. Are you safe now?")
    client = Client()
    page = _open(client, submitted)
    html = page.content.decode()
    assert "Are you safe now?" in html
    assert '<strong id="status">Received</strong>' in html


def test_receipt_typed_loosely_still_opens(submitted):
    _reply("reply text")
    messy = "  " + submitted.upper().replace(" ", " -  ") + " "
    page = _open(Client(), messy)
    assert b"reply text" in page.content


def test_wrong_receipt_looks_like_a_right_one_with_nothing_new(submitted, argon2_runs):
    right = _open(Client(), submitted)
    runs_right = len(argon2_runs)
    wrong_receipt = Receipt.generate("en").to_text()
    wrong = _open(Client(), wrong_receipt)
    runs_wrong = len(argon2_runs) - runs_right
    assert runs_right == runs_wrong == 1
    assert wrong.status_code == right.status_code == 200
    assert _visible(wrong.content.decode()) == _visible(right.content.decode())


def test_malformed_receipt_costs_no_argon2(reporter, org, argon2_runs):
    for text in ("", "one two three", "x" * 5000, "zzzq " * 10):
        response = reporter.post(FOLLOWUP, {"receipt": text})
        assert response.status_code == 400
    assert argon2_runs == []
    assert settings.REFUGIUM_REPORTER_COOKIE not in reporter.cookies


def test_session_cookie_is_sealed_and_dies_with_the_tab(submitted):
    client = Client()
    response = client.post(FOLLOWUP, {"receipt": submitted})
    cookie = response.cookies[settings.REFUGIUM_REPORTER_COOKIE]
    assert cookie["max-age"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    for word in submitted.split():
        assert word not in cookie.value


def test_no_session_row_is_stored_for_reporters(submitted):
    from django.contrib.sessions.models import Session

    _open(Client(), submitted)
    assert Session.objects.count() == 0


def test_reporter_adds_text_and_a_file(submitted):
    client = Client()
    _open(client, submitted)
    Submission.objects.update(unread=False)
    extra = SimpleUploadedFile("more.pdf", b"%PDF-1.4 more", "application/pdf")
    response = client.post("/followup/send/", {"text": "one more thing", "files": [extra]})
    assert response.status_code == 302
    assert response["Location"] == "/followup/?sent=1"
    messages = list(Message.objects.filter(author="reporter").order_by("id"))
    assert read_message(messages[-1])["text"] == "one more thing"
    assert Attachment.objects.filter(message=messages[-1]).count() == 1
    assert Submission.objects.get().unread is True
    assert b"Sent. Thank you." in client.get(response["Location"]).content


def test_follow_up_through_a_receipt_that_opened_nothing_stores_nothing(org, data_dir):
    client = Client()
    _open(client, Receipt.generate("en").to_text())
    extra = SimpleUploadedFile("more.pdf", b"%PDF-1.4 more", "application/pdf")
    response = client.post("/followup/send/", {"text": "hello?", "files": [extra]})
    assert response.status_code == 302
    assert response["Location"] == "/followup/?sent=1"
    assert Message.objects.count() == 0
    assert list((data_dir.root / "store" / "files").iterdir()) == []
    assert list((data_dir.root / "store" / "tmp").iterdir()) == []


def test_send_without_a_session_goes_to_the_receipt_form(org):
    response = Client().post("/followup/send/", {"text": "x"})
    assert response.status_code == 302
    assert response["Location"] == FOLLOWUP


def test_logout_forgets_the_session(submitted):
    client = Client()
    _open(client, submitted)
    response = client.post("/followup/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    page = client.get(FOLLOWUP)
    assert b'name="receipt"' in page.content


def test_a_forged_session_cookie_is_ignored(org):
    client = Client()
    client.cookies[settings.REFUGIUM_REPORTER_COOKIE] = "1.AAAA"
    assert b'name="receipt"' in client.get(FOLLOWUP).content
