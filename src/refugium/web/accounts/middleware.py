"""Session limits and the per-request keyring."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from refugium.web.accounts import keyring as keyrings
from refugium.web.accounts.models import Account

LOGIN_AT = "refugium_login_at"
EPOCH = "refugium_session_epoch"


def _end(request: HttpRequest) -> HttpResponse:
    logout(request)
    response = redirect(settings.LOGIN_URL)
    keyrings.forget(response)
    return response


class SessionLimitsMiddleware:
    """Ends a session past its absolute lifetime (12 h) or after the user was disabled or
    lost a desk. The idle limit (30 min) is the session's own sliding expiry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(LOGIN_AT, 0)
            if time.time() - started > settings.REFUGIUM_SESSION_ABSOLUTE_SECONDS:
                return _end(request)
            epoch = Account.objects.filter(user=request.user).values_list(
                "session_epoch", flat=True
            ).first()
            if epoch is None or epoch != request.session.get(EPOCH):
                return _end(request)
        return self.get_response(request)


class KeyringMiddleware:
    """Opens the signed-in user's keyring as ``request.keyring``; without it, signs out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.keyring = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            keyring = keyrings.open_from(request)
            if keyring is None:
                return _end(request)
            request.keyring = keyring  # type: ignore[attr-defined]
        return self.get_response(request)
