"""Flood controls: form-token wait and single use, per-minute limits, size and quota (T18,
T19). Each refusal is a rendered page and leaves nothing behind."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refugium.web.intake import flood
from refugium.web.intake.models import RateWindow, Submission, UsedFormToken

SUBMIT = "/submit/"


def _post(client, token, **data):  # type: ignore[no-untyped-def]
    return client.post(f"{SUBMIT}?t={token}", {"text": "report", **data}, follow=True)


def test_a_token_is_refused_before_the_wait_and_accepted_after(reporter, settings):
    settings.REFUGIUM_FORM_MIN_SECONDS = 5
    import time_machine

    with time_machine.travel(1_900_000_000, tick=False) as traveller:
        token = flood.issue_form_token()
        traveller.shift(4)
        early = _post(reporter, token)
        assert early.status_code == 429
        assert b"faster than a person" in early.content
        assert Submission.objects.count() == 0
        traveller.shift(1)
        assert _post(reporter, token).status_code == 200
    assert Submission.objects.count() == 1


def test_a_token_is_single_use(reporter, token):
    assert _post(reporter, token).status_code == 200
    again = _post(reporter, token)
    assert again.status_code == 429
    assert b"already sent" in again.content
    assert Submission.objects.count() == 1
    assert UsedFormToken.objects.count() == 1


def test_a_forged_token_is_refused(reporter):
    response = _post(reporter, "forged:token")
    assert response.status_code == 429
    assert b"expired" in response.content


def test_per_minute_limit(reporter, settings):
    settings.REFUGIUM_SUBMISSIONS_PER_MINUTE = 3
    import time_machine

    with time_machine.travel(1_900_000_020, tick=False):
        statuses = [_post(reporter, flood.issue_form_token()).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert Submission.objects.count() == 3
    with time_machine.travel(1_900_000_020 + 60, tick=False):
        assert _post(reporter, flood.issue_form_token()).status_code == 200
        # Only this minute's and the previous one's counts exist: no lasting time trace.
        first = 1_900_000_020 // 60
        assert sorted(RateWindow.objects.values_list("minute", flat=True)) == [first, first + 1]
    with time_machine.travel(1_900_000_020 + 180, tick=False):
        assert _post(reporter, flood.issue_form_token()).status_code == 200
        assert sorted(RateWindow.objects.values_list("minute", flat=True)) == [first + 3]


def test_refused_page_is_rendered_in_russian_too(reporter):
    response = reporter.post("/ru/submit/?t=forged", {"text": "x"})
    assert response.status_code == 429
    assert "Не отправлено" in response.content.decode()


@pytest.mark.parametrize(("size", "status"), [(1024 * 1024, 200), (1024 * 1024 + 1, 413)])
def test_size_limit_both_sides(reporter, token, settings, monkeypatch, size, status, data_dir):
    from refugium.web.intake import views

    settings.REFUGIUM_MAX_SUBMISSION_BYTES = 1024 * 1024
    # Make the early Content-Length check generous, so the streaming check decides.
    monkeypatch.setattr(views, "FORM_OVERHEAD_BYTES", 10 * 1024 * 1024)
    upload = SimpleUploadedFile("big.bin", b"b" * size)
    response = _post(reporter, token, files=[upload])
    assert response.status_code == status
    if status == 413:
        assert b"too large" in response.content
        assert Submission.objects.count() == 0
        assert list((data_dir.root / "store" / "tmp").iterdir()) == []
        assert list((data_dir.root / "store" / "files").iterdir()) == []


def test_content_length_over_the_limit_is_refused_before_reading(reporter, token, settings):
    settings.REFUGIUM_MAX_SUBMISSION_BYTES = 1024
    upload = SimpleUploadedFile("big.bin", b"b" * (3 * 1024 * 1024))
    response = _post(reporter, token, files=[upload])
    assert response.status_code == 413
    assert Submission.objects.count() == 0


def test_too_many_files(reporter, token, settings):
    settings.REFUGIUM_MAX_FILES_PER_SUBMISSION = 2
    files = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)]
    response = _post(reporter, token, files=files)
    assert response.status_code == 413
    assert Submission.objects.count() == 0


def test_quota(reporter, token, settings):
    settings.REFUGIUM_QUOTA_BYTES = 1000
    upload = SimpleUploadedFile("f.bin", b"q" * 5000)
    response = _post(reporter, token, files=[upload])
    assert response.status_code == 507
    assert b"no room" in response.content
    assert Submission.objects.count() == 0


def test_refused_tokens_do_not_use_up_the_minute(reporter, settings):
    settings.REFUGIUM_SUBMISSIONS_PER_MINUTE = 2
    used = flood.issue_form_token()
    assert _post(reporter, used).status_code == 200
    for bad in ["", "forged", used] * 30:  # missing, forged, reused: 90 attempts
        assert _post(reporter, bad).status_code == 429
    assert _post(reporter, flood.issue_form_token()).status_code == 200
    assert Submission.objects.count() == 2


def test_the_token_is_checked_before_the_body_is_read(reporter, monkeypatch):
    from refugium.web.intake import upload_handler

    def must_not_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the body was read")

    monkeypatch.setattr(upload_handler.EncryptingUploadHandler, "new_file", must_not_run)
    upload = SimpleUploadedFile("x.bin", b"x" * 1000)
    assert _post(reporter, "forged", files=[upload]).status_code == 429
