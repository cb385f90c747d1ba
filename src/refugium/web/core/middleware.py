"""Security headers that Django's own settings don't cover (reliability.md T13)."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and getattr(match.func, "reporter_page", False):
            # Reporter pages tell no site anything about where a person came from.
            response["Referrer-Policy"] = "no-referrer"
        # Nothing a reporter or researcher sees may stay in a browser cache.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("Cross-Origin-Embedder-Policy", "require-corp")
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        for header in ("Server", "X-Powered-By"):
            if header in response:
                del response[header]
        return response


logger = logging.getLogger("refugium.storage")

# Errors that mean "the disk can't take this now", not "the code is wrong".
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}
_STORAGE_MESSAGES = ("database or disk is full", "disk i/o error", "database is locked")


def is_storage_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return True
    return isinstance(exc, OperationalError) and any(
        m in str(exc).lower() for m in _STORAGE_MESSAGES
    )


class StorageFailureMiddleware:
    """A full or failing disk gets a clear 503 ("not saved; nothing kept; try later"), not
    a 500: the user must know that nothing was kept (reliability.md T7). Views write in one
    transaction and files atomically, so there is nothing half-written to clean up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_storage_failure(exception):
            return None
        logger.error("storage failure: %s", type(exception).__name__)
        from refugium.web.core.views import error_page

        return error_page(request, 503)
