"""What `refugium serve` does before it serves."""

from __future__ import annotations

import logging

from refugium.server import sweep_leftovers
from refugium.web.core.auditing import audit_log, record


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


def test_a_clean_log_is_left_alone(data_dir, caplog):
    record("admin", "login", "user", "admin")
    before = data_dir.audit_log.read_bytes()
    caplog.set_level(logging.WARNING)
    sweep_leftovers()
    assert data_dir.audit_log.read_bytes() == before
    assert caplog.text == ""
