"""The one way refugium sets a cookie that holds a key or sealed state.

Every such cookie dies with the browser session (no ``Max-Age`` or ``Expires``, so nothing is
written to the browser's disk for later), is invisible to scripts (``HttpOnly``), never
travels with a request from another site (``SameSite=Strict``), and is ``Secure`` whenever
the transport is HTTPS.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse


def set_session_cookie(response: HttpResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=None,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def delete_session_cookie(response: HttpResponse, name: str) -> None:
    response.delete_cookie(name, path="/", samesite="Strict")
