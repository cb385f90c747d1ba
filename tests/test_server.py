"""What `refugium serve` does before it serves."""

from __future__ import annotations

import logging

import pytest

from refugium.server import sweep_leftovers
from refugium.web.core.auditing import audit_log, record


@pytest.mark.django_db
def test_a_torn_audit_line_is_swept_at_start_and_appends_resume(data_dir, caplog):
    record("admin", "login", "user", "admin")
    whole = data_dir.audit_log.read_bytes()
    with data_dir.audit_log.open("ab") as log:
        log.write(b'{"body":{"act')  # a crash in the middle of a write
    caplog.set_level(logging.WARNING)

    sweep_leftovers()

    assert data_dir.audit_log.read_bytes() == whole
    assert "incomplete last line of the audit log (13 bytes)" in caplog.text
    record("admin", "logout", "user", "admin")
    assert audit_log().verify() == 2


@pytest.mark.django_db
def test_a_clean_log_is_left_alone(data_dir, caplog):
    record("admin", "login", "user", "admin")
    before = data_dir.audit_log.read_bytes()
    caplog.set_level(logging.WARNING)
    sweep_leftovers()
    assert data_dir.audit_log.read_bytes() == before
    assert caplog.text == ""


def test_unfinished_uploads_and_orphans_are_swept_and_named_files_kept(org, data_dir, caplog):
    from refugium.crypto import Identity
    from refugium.web.intake import flood, submissions
    from refugium.web.intake.models import Attachment, Message

    submissions.create(
        text="t", hints={}, uploads=[], language="en", form_token=flood.issue_form_token()
    )
    store = submissions.store()
    recipients = [Identity.generate().recipient]

    def stored(data: bytes):  # type: ignore[no-untyped-def]
        upload = store.begin(recipients)
        upload.write(data)
        return upload.finish()

    kept_name = stored(b"kept").commit()
    Attachment.objects.create(
        message=Message.objects.get(), stored_name=kept_name, size=4, meta=b""
    )
    stored(b"orphan").commit()  # a crash between the rename and the row
    stored(b"half")  # staged, never committed
    caplog.set_level(logging.WARNING)

    sweep_leftovers()

    assert [p.name for p in (data_dir.root / "store" / "files").iterdir()] == [kept_name]
    assert list((data_dir.root / "store" / "tmp").iterdir()) == []
    assert "removed 1 unfinished uploads and 1 files no submission names" in caplog.text
