"""A reporter's follow-up session, kept in their browser and nowhere else.

After a receipt check, the submission it opened (or none, for a receipt that opened nothing)
and the receipt-derived identity that decrypts replies are sealed into one cookie under a key
the server derives from its secret. The server stores no session row: a seized server shows
no trace of who followed up on what, or when. The cookie lives as long as the browser tab
session and at most ``REFUGIUM_REPORTER_SESSION_SECONDS`` after the last request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from refugium.crypto import DecryptionFailed, Identity, SessionBox
from refugium.errors import BadInput
from refugium.web.core.cookies import delete_session_cookie, set_session_cookie

_CONTEXT = "reporter-session"


@dataclass(frozen=True)
class ReporterSession:
    """``submission_id`` None: a well-formed receipt that opened nothing. The pages look the
    same as for a real one with nothing new, so that a receipt given under coercion can't be
    told from a real one."""

    submission_id: int | None
    identity: Identity

    def __repr__(self) -> str:
        return "<ReporterSession (secret)>"


def _box() -> SessionBox:
    return SessionBox.from_server_secret(settings.SECRET_KEY.encode(), purpose=_CONTEXT)


def write(response: HttpResponse, session: ReporterSession) -> None:
    payload = json.dumps(
        {
            "s": session.submission_id,
            "i": session.identity.to_secret_string(),
            "x": int(time.time()) + settings.REFUGIUM_REPORTER_SESSION_SECONDS,
        }
    ).encode()
    set_session_cookie(
        response, settings.REFUGIUM_REPORTER_COOKIE, _box().seal(payload, context=_CONTEXT)
    )


def read(request: HttpRequest) -> ReporterSession | None:
    sealed = request.COOKIES.get(settings.REFUGIUM_REPORTER_COOKIE)
    if not sealed:
        return None
    try:
        raw = json.loads(_box().open(sealed, context=_CONTEXT))
        if int(raw["x"]) < time.time():
            return None
        submission_id = raw["s"]
        if submission_id is not None and not isinstance(submission_id, int):
            return None
        return ReporterSession(submission_id, Identity.from_secret_string(raw["i"]))
    except (DecryptionFailed, BadInput, ValueError, KeyError, TypeError):
        return None


def forget(response: HttpResponse) -> None:
    delete_session_cookie(response, settings.REFUGIUM_REPORTER_COOKIE)


# --- The receipt, once --------------------------------------------------------------------
# Shown on a page of its own after a redirect, so that no browser history entry is the
# response to the POST: browsers keep the body of such an entry (the report's text) in their
# session-restore files on disk (tests/test_browser_residue.py found it in Chromium's).
# Between the POST and that page the receipt travels once, sealed, in a cookie that the page
# deletes and that is good for two minutes at most.

_RECEIPT_CONTEXT = "receipt-once"
_RECEIPT_SECONDS = 120


def hand_over_receipt(response: HttpResponse, receipt_text: str) -> None:
    payload = json.dumps({"r": receipt_text, "x": int(time.time()) + _RECEIPT_SECONDS})
    set_session_cookie(
        response,
        settings.REFUGIUM_RECEIPT_COOKIE,
        _box().seal(payload.encode(), context=_RECEIPT_CONTEXT),
    )


def read_receipt(request: HttpRequest) -> str | None:
    """The receipt handed over by the submission just made, if any (then ``forget_receipt``
    in the response that shows it)."""
    sealed = request.COOKIES.get(settings.REFUGIUM_RECEIPT_COOKIE)
    if not sealed:
        return None
    try:
        raw = json.loads(_box().open(sealed, context=_RECEIPT_CONTEXT))
        if int(raw["x"]) < time.time() or not isinstance(raw["r"], str):
            return None
        return raw["r"]
    except (DecryptionFailed, BadInput, ValueError, KeyError, TypeError):
        return None


def forget_receipt(response: HttpResponse) -> None:
    delete_session_cookie(response, settings.REFUGIUM_RECEIPT_COOKIE)
