"""Security headers that Django's own settings don't cover (reliability.md T13)."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from django.core.handlers.wsgi import LimitedStream
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


class CompleteBodyMiddleware:
    """Refuses a request whose body ended before its ``Content-Length`` (400).

    A client that goes away mid-upload (a dropped Tor circuit, a closed laptop) leaves a
    body that simply ends; Django's parsers take what arrived for the whole request, and
    a view would store half a report as if it were complete. Placed after the upload
    target is set and before the CSRF check: it parses the body once (``request.POST``)
    and compares what was read with what was announced. "A whole submission or nothing"
    (DESIGN §3) then holds for a lost connection as it does for a crash.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        request.POST  # noqa: B018  (parses the body, through the upload handlers)
        target = getattr(request, "refugium_upload", None)
        if getattr(target, "too_large", False) or getattr(target, "too_many", False):
            return None  # the upload stopped reading on purpose; the view answers 413
        if body_complete(request):
            return None
        logger.warning("refused a request whose body ended early")
        from refugium.web.core.views import error_page

        return error_page(request, 400)


def body_complete(request: HttpRequest) -> bool:
    """True when everything the request announced was read (or nothing was announced)."""
    stream = getattr(request, "_stream", None)
    if isinstance(stream, LimitedStream) and getattr(request, "_read_started", False):
        # Django's parsers read to the end of what was announced (the multipart parser
        # drains what it doesn't need); less than that means the body ended early.
        return stream._pos >= stream.limit
    return True
