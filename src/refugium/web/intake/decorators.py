"""What makes a view a reporter page, and how a view asks for uploads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from refugium.web.intake.upload_handler import UploadTarget

View = Callable[..., HttpResponse]
Prepare = Callable[[HttpRequest], "UploadTarget | HttpResponse"]


def reporter_page(view: View) -> View:
    """A page a person at risk sees: no login, nothing cached, nothing sensitive in error
    reports, ``Referrer-Policy: no-referrer`` (core.middleware), and a CSRF check that relies
    on the token alone (core.csrf), since that policy makes browsers send ``Origin: null``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    wrapped = never_cache(
        sensitive_post_parameters("receipt", "text")(wrapped)
    )
    wrapped = login_not_required(wrapped)
    wrapped.reporter_page = True  # type: ignore[attr-defined]
    if hasattr(view, "prepare_uploads"):
        wrapped.prepare_uploads = view.prepare_uploads  # type: ignore[attr-defined]
    return wrapped


def accepts_uploads(prepare: Prepare) -> Callable[[View], View]:
    """Marks a view whose POST may carry files. ``prepare`` runs before the body is parsed
    (before the CSRF check reads it): it returns where the files go, or a response (413,
    429, 507) that refuses the request without reading the body."""

    def decorate(view: View) -> View:
        view.prepare_uploads = prepare  # type: ignore[attr-defined]
        return view

    return decorate
