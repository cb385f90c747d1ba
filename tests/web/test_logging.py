"""Nothing secret reaches a log (issue 3 §6; reliability.md T10, T26)."""

from __future__ import annotations

import logging

from refugium.web.core.logfilter import DropRequestFilter
from tests import factories

CANARY_PASSPHRASE = "canary passphrase 0xC0FFEE"


def test_sign_in_flows_log_no_secret(client, login, org, caplog):
    caplog.set_level(logging.DEBUG)
    code = factories.totp_code(org.totp["admin"])
    login(passphrase=CANARY_PASSPHRASE)
    login("nobody", passphrase=CANARY_PASSPHRASE, code="987654")
    login(passphrase="x" * 2000)
    login(code=code)
    client.post("/accounts/logout/")
    client.get("/no/such/page/")
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}" for r in caplog.records
    )
    assert caplog.records, "the flows above log something (a 404 at least)"
    for secret in (
        CANARY_PASSPHRASE,
        factories.ADMIN_PASSPHRASE,
        org.totp["admin"],
        org.paper_key,
        code,
        "987654",
        "127.0.0.1",
    ):
        assert secret not in text


def test_request_objects_are_dropped_from_records(rf):
    request = rf.get("/x", HTTP_USER_AGENT="CanaryAgent/1.0", REMOTE_ADDR="198.51.100.9")
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found", (), None
    )
    record.request = request
    assert DropRequestFilter().filter(record) is True
    assert record.request is None
