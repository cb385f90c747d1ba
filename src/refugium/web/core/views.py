"""Error pages: the project's own template, no stack, no path, no version (T26)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

MESSAGES = {
    400: _("The request could not be understood. Nothing was saved."),
    403: _("This action is not allowed. If you were signed in, sign in again."),
    404: _("There is nothing here."),
    405: _("This page cannot be used that way."),
    413: _("What you sent is too large. Nothing was saved."),
    429: _("Too many attempts. Wait a while and try again."),
    500: _("Something went wrong on our side. Nothing was saved; please try again later."),
    503: _("The service cannot save anything right now. Nothing was kept; try again later."),
    507: _("The service has no room to save this right now. Nothing was kept; try again later."),
}


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": status, "message": MESSAGES.get(status, MESSAGES[400])},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403)
