"""Sets up a request's upload target before anything parses the body, and cleans up after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from refugium.web.intake.upload_handler import ATTRIBUTE, UploadTarget, expect_uploads


class UploadTargetMiddleware:
    """Must come before ``CsrfViewMiddleware``, whose ``process_view`` reads ``request.POST``.

    Whatever happens after (CSRF failure, an invalid form, an exception), files that the view
    did not commit are discarded when the response leaves: staged uploads never linger.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            target = getattr(request, ATTRIBUTE, None)
            if isinstance(target, UploadTarget):
                target.discard_all()

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        prepare = getattr(view, "prepare_uploads", None)
        if prepare is None or request.method != "POST":
            return None
        result = prepare(request)
        if isinstance(result, HttpResponse):
            return result
        expect_uploads(request, result)
        return None
