"""Django's CSRF check, adapted to reporter pages that send no Referer and no Origin.

Reporter pages carry ``Referrer-Policy: no-referrer`` (issue 4): nothing about where a person
came from may reach anyone. Under that policy browsers send ``Origin: null`` with every form
post (Fetch standard, "serializing a request origin") and no ``Referer``, which Django's
origin and referer checks refuse. On reporter pages only, a null origin and a missing referer
are therefore accepted, and the request must still carry the CSRF token that matches its
cookie (``SameSite=Strict``, ``HttpOnly``). Every other page keeps Django's full check.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

_FLAG = "_refugium_reporter_page"


class ReporterAwareCsrfViewMiddleware(CsrfViewMiddleware):
    def process_view(
        self, request: HttpRequest, callback: Any, callback_args: Any, callback_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(callback, "reporter_page", False):
            setattr(request, _FLAG, True)
            if request.META.get("HTTP_ORIGIN") == "null":
                del request.META["HTTP_ORIGIN"]
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def _check_referer(self, request: HttpRequest) -> None:
        if getattr(request, _FLAG, False) and "HTTP_REFERER" not in request.META:
            return
        super()._check_referer(request)
